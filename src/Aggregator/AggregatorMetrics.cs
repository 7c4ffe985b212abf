using Prometheus;
using RataDns.Transport.PrometheusExposition;

namespace RataDns.Aggregator;

/// <summary>
/// The aggregator's Prometheus exposition (<c>GET /metrics</c>): the DNS statistics of every monitor, counted from
/// each window result as it is stored (labelled by <c>server</c>; all servers are their sum), and, at each scrape,
/// the gauges of one span (distinct counts, top lists) for each server and for <c>server="all"</c>, the exact merge
/// of every server's states over that span. Plus the aggregator's own counters (results, monitors, staleness).
/// </summary>
public sealed class AggregatorMetrics
{
    /// <summary>The <c>server</c> label value of the gauges merged across every server.</summary>
    public const string AllServers = AggregatorScopes.All;

    private readonly AggregatorStore _store;
    private readonly DnsStatistics _statistics;
    private readonly string _span;
    private readonly Gauge _monitors;
    private readonly Gauge _staleMonitors;
    private readonly Gauge _lastSeen;
    private readonly Counter _results;
    private readonly Counter _gaps;
    private readonly Counter _rejected;
    private readonly Counter _stateErrors;
    private readonly Counter _historyWritten;
    private readonly Counter _historyDropped;
    private readonly HashSet<string> _scopesWithGauges = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers the families in a new registry and follows <paramref name="store"/>; the gauges of a span cover
    /// <paramref name="span"/> (one of the store's spans; its first when null).
    /// </summary>
    public AggregatorMetrics(AggregatorStore store, string? span = null, DnsStatisticsOptions? options = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _span = span ?? store.Spans().FirstOrDefault() ?? "1m";
        if (store.SpanLength(_span) is null)
        {
            throw new ArgumentException($"'{_span}' is not a span.", nameof(span));
        }

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

    /// <summary>The span the gauges cover.</summary>
    public string Span => _span;

    private void OnStored(WindowResult result)
    {
        _results.WithLabels(result.ServerId).Inc();
        _statistics.ObserveWindow(result.ServerId, result.Type, result.Data, result.Sequence, setGauges: false);
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

        lock (_scopesWithGauges)
        {
            var types = _store.Types();
            foreach (string type in DnsStatistics.GaugeTypes.Concat(["ResponseLatency"]))
            {
                if (!types.Contains(type, StringComparer.Ordinal))
                {
                    continue;
                }

                foreach (string scope in monitors.Select(m => m.ServerId).Append(AllServers))
                {
                    SetGauges(type, scope);
                }
            }
        }
    }

    private void SetGauges(string type, string scope)
    {
        MergedResult? merged;
        try
        {
            merged = _store.Merged(type, scope, _span);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            merged = null; // nothing mergeable now: the series go away rather than stay stale
        }

        if (merged?.Data is { } data)
        {
            _statistics.SetGauges(scope, type, data);
            _scopesWithGauges.Add(type + "\n" + scope);
        }
        else if (_scopesWithGauges.Remove(type + "\n" + scope))
        {
            _statistics.ClearGauges(scope, type);
        }
    }
}
