using Prometheus;
using RataDns.Transport.PrometheusExposition;

namespace RataDns.Aggregator;

/// <summary>
/// The aggregator's Prometheus exposition (<c>GET /metrics</c>): the DNS statistics of every monitor, counted from
/// each window result as it is stored (labelled by <c>server</c>; all servers are their sum); the gauges (distinct
/// counts, top lists, pending queries) of each server's latest window and, for <c>server="all"</c>, the exact merge of
/// every server's latest window (by their states), made again at a scrape only when one of them changed; a stale
/// server's gauges are removed. Plus the aggregator's own counters (results, monitors, staleness, history).
/// </summary>
public sealed class AggregatorMetrics
{
    /// <summary>The <c>server</c> label value of the gauges merged across every server.</summary>
    public const string AllServers = AggregatorScopes.All;

    private readonly AggregatorStore _store;
    private readonly DnsStatistics _statistics;
    private readonly Gauge _monitors;
    private readonly Gauge _staleMonitors;
    private readonly Gauge _lastSeen;
    private readonly Counter _results;
    private readonly Counter _gaps;
    private readonly Counter _rejected;
    private readonly Counter _stateErrors;
    private readonly Counter _historyWritten;
    private readonly Counter _historyDropped;
    private readonly Dictionary<(string Type, string Server), WindowResult> _latest = [];
    private bool _dirty;

    /// <summary>Registers the families in a new registry and follows <paramref name="store"/>.</summary>
    public AggregatorMetrics(AggregatorStore store, DnsStatisticsOptions? options = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));

        Registry = Metrics.NewCustomRegistry();
        _statistics = new DnsStatistics(Registry, options);
        var f = Metrics.WithCustomRegistry(Registry);
        _monitors = f.CreateGauge("ratadns_aggregator_monitors", "Monitors (serverIds) that have sent a result.");
        _staleMonitors = f.CreateGauge("ratadns_aggregator_stale_monitors", "Monitors that sent nothing for longer than the stale timeout.");
        _lastSeen = f.CreateGauge("ratadns_aggregator_monitor_last_seen_timestamp_seconds", "When the last result of a monitor arrived, in seconds since the Unix epoch.", ["server"]);
        _results = f.CreateCounter("ratadns_aggregator_results_total", "Window results stored, one per reducer and window.", ["server"]);
        _gaps = f.CreateCounter("ratadns_aggregator_sequence_gaps_total", "Windows missing between the sequence numbers received from a monitor (lost on the way or while the aggregator was away).", ["server"]);
        _rejected = f.CreateCounter("ratadns_aggregator_results_rejected_total", "Payloads that were not a window result.");
        _stateErrors = f.CreateCounter("ratadns_aggregator_state_errors_total", "Reducer states received that could not be used.");
        _historyWritten = f.CreateCounter("ratadns_aggregator_history_written_total", "Results written to the history database (committed).");
        _historyDropped = f.CreateCounter("ratadns_aggregator_history_dropped_total", "Results not written to the history database (queue full, database failing).");
        store.Stored += OnStored;
        Registry.AddBeforeCollectCallback(BeforeCollect);
    }

    /// <summary>What <c>/metrics</c> serves.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The reducer types whose latest windows make gauges (distinct counts, top lists, pending queries).</summary>
    private static readonly HashSet<string> GaugeTypes = new([.. DnsStatistics.GaugeTypes, "ResponseLatency"], StringComparer.Ordinal);

    private void OnStored(WindowResult result)
    {
        _results.WithLabels(result.ServerId).Inc();
        // Each server's gauges are its latest window's, as in the monitor (cheap: the view is at hand).
        _statistics.ObserveWindow(result.ServerId, result.Type, result.Data, result.Sequence, setGauges: true);
        if (GaugeTypes.Contains(result.Type))
        {
            lock (_latest)
            {
                if (!_latest.TryGetValue((result.Type, result.ServerId), out var held) || held.End <= result.End)
                {
                    _latest[(result.Type, result.ServerId)] = result;
                    _dirty = true;
                }
            }
        }
    }

    private void BeforeCollect()
    {
        var monitors = _store.Monitors();
        _monitors.Set(monitors.Count);
        _staleMonitors.Set(monitors.Count(m => m.Stale));
        foreach (var m in monitors)
        {
            _lastSeen.WithLabels(m.ServerId).Set(m.LastSeen.ToUnixTimeMilliseconds() / 1000.0);
            _gaps.WithLabels(m.ServerId).IncTo(m.SequenceGaps);
        }

        _rejected.IncTo(_store.Rejected);
        _stateErrors.IncTo(_store.StateErrors);
        if (_store.Archive is { } archive)
        {
            _historyWritten.IncTo(archive.Written);
            _historyDropped.IncTo(archive.Dropped);
        }

        // A stale server's gauges go (its last window no longer describes anything); "all" is the merge of every
        // other server's latest window, made again only when one of them changed.
        var stale = monitors.Where(m => m.Stale).Select(m => m.ServerId).ToHashSet(StringComparer.Ordinal);
        List<(string Type, List<WindowResult> Windows)> toMerge = [];
        lock (_latest)
        {
            foreach (var key in _latest.Keys.Where(k => stale.Contains(k.Server)).ToList())
            {
                _latest.Remove(key);
                _statistics.ClearGauges(key.Server, key.Type);
                _dirty = true;
            }

            if (!_dirty)
            {
                return;
            }

            _dirty = false;
            foreach (string type in GaugeTypes)
            {
                toMerge.Add((type, [.. _latest.Where(e => e.Key.Type == type).Select(e => e.Value)]));
            }
        }

        foreach (var (type, windows) in toMerge)
        {
            var data = windows.Count == 0 ? null : ResultMerger.Merge(type, windows, _store.Catalog).Data;
            if (data is { } merged)
            {
                _statistics.SetGauges(AllServers, type, merged);
            }
            else
            {
                _statistics.ClearGauges(AllServers, type);
            }
        }
    }
}
