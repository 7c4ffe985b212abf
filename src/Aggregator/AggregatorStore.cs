using System.Globalization;
using System.Text.Json;
using RataDns.Aggregator.History;

namespace RataDns.Aggregator;

/// <summary>
/// The aggregator's state: every monitor's status and, per (type, server), a bounded history of window results
/// (<see cref="AggregatorOptions.HistoryLength"/> of packet time and at most <see cref="AggregatorOptions.MaxResultsPerKey"/>
/// windows). <see cref="Add(ReadOnlySpan{byte})"/> stores one envelope, checking the reducer state it carries once
/// (read into a reducer of its type and options: a damaged or hostile state is counted in <see cref="StateErrors"/>,
/// reported, and dropped, and the result keeps its view); the <see cref="IAggregatorView"/> members merge on demand
/// with <see cref="ResultMerger"/>. States are bounded in bytes (<see cref="AggregatorOptions.MaxStateBytes"/>,
/// oldest released first). Thread-safe: one lock guards the state; merging runs outside it on immutable results.
/// </summary>
/// <remarks>
/// Spans are measured back from the newest window end seen for the scope (packet time), not from the wall clock, so a
/// replayed capture merges as it would have live. Only staleness and last-seen use the wall clock.
/// </remarks>
public sealed class AggregatorStore : IAggregatorView
{
    private readonly AggregatorOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Type, string Server), ResultHistory> _histories = [];
    private readonly Dictionary<string, MonitorState> _monitors = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _types = new(StringComparer.Ordinal);
    private readonly Queue<StoredState> _statesByAge = new();
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private long _rejected;
    private long _stateErrors;
    private long _states;
    private long _stateBytes;

    public AggregatorStore(AggregatorOptions? options = null)
    {
        _options = options ?? new AggregatorOptions();
        if (_options.MaxResultsPerKey < 1)
        {
            throw new ArgumentException("MaxResultsPerKey must be at least 1.", nameof(options));
        }
    }

    public event Action<AggregatorUpdate>? Updated;

    /// <summary>A result was stored (raised on the receiving thread, outside the store's lock; handlers must be quick).</summary>
    public event Action<WindowResult>? Stored;

    /// <summary>The reducers states are read into and merged with.</summary>
    public ReducerCatalog Catalog => _options.Catalog;

    /// <summary>Where results are archived (<see cref="AggregatorOptions.Archive"/>), or null.</summary>
    public ResultArchive? Archive => _options.Archive;

    /// <summary>Payloads that were not a window result envelope (bad JSON, missing type/serverId/data/time).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>States received that could not be used (damaged, hostile, of a type or options this aggregator cannot make).</summary>
    public long StateErrors => Interlocked.Read(ref _stateErrors);

    /// <summary>States received and checked.</summary>
    public long States => Interlocked.Read(ref _states);

    /// <summary>Bytes of state held now.</summary>
    public long StateBytes => Interlocked.Read(ref _stateBytes);

    /// <summary>Stores one JSON envelope; false (counted in <see cref="Rejected"/>) when it is not one.</summary>
    public bool Add(ReadOnlySpan<byte> envelopeJson)
    {
        WindowResult? result;
        string? stateProblem = null;
        try
        {
            var reader = new Utf8JsonReader(envelopeJson);
            using var document = JsonDocument.ParseValue(ref reader);
            result = WindowResult.FromEnvelope(document.RootElement, out stateProblem);
        }
        catch (JsonException)
        {
            result = null;
        }

        return Store(result, stateProblem);
    }

    /// <summary>Stores one envelope; false (counted in <see cref="Rejected"/>) when it is not one.</summary>
    public bool Add(JsonElement envelope)
    {
        var result = WindowResult.FromEnvelope(envelope, out string? stateProblem);
        return Store(result, stateProblem);
    }

    /// <summary>Stores a result already read.</summary>
    public bool Add(WindowResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Store(result, null);
    }

    public IReadOnlyList<MonitorStatus> Monitors()
    {
        var now = _options.Clock();
        lock (_lock)
        {
            return [.. _monitors.Values.OrderBy(m => m.ServerId, StringComparer.Ordinal).Select(m => m.Status(now, _options.StaleAfter))];
        }
    }

    public IReadOnlyList<string> Spans() => [.. _options.Spans.Select(s => s.Name)];

    public IReadOnlyList<string> Types()
    {
        lock (_lock)
        {
            return [.. _types];
        }
    }

    public MergedResult? Merged(string type, string scope, string span, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(scope);
        if (SpanLength(span) is not TimeSpan length)
        {
            return null;
        }

        var selected = new List<WindowResult>();
        double newest;
        double after;
        double oldestHeld = double.PositiveInfinity;
        lock (_lock)
        {
            var histories = Histories(type, scope);
            if (histories.Count == 0)
            {
                return null;
            }

            newest = at is { } end ? Seconds(end) : histories.Max(h => h.NewestEnd);
            after = newest - length.TotalSeconds;
            foreach (var history in histories)
            {
                history.Select(after, newest, includeFrom: false, selected);
                oldestHeld = Math.Min(oldestHeld, history.OldestEnd);
            }
        }

        if (_options.Archive is { } archive && after < oldestHeld)
        {
            // A span (a rewind) reaching before what memory holds: that part from the archive, the windows themselves
            // or, once they are gone, the minute rollups.
            double before = Math.Min(newest, oldestHeld);
            string? server = scope == AggregatorScopes.All ? null : scope;
            var older = archive.Load(after, before, type, server, _options.MaxArchiveRows).Select(r => r.Result).ToList();
            if (older.Count == 0 && after < (archive.NewestEnd() ?? double.NegativeInfinity) - archive.RawRetention.TotalSeconds)
            {
                older = [.. archive.Load(after, before, type, server, _options.MaxArchiveRows, level: 1).Select(r => r.Result)];
            }

            older.RemoveAll(r => r.End <= after || r.End >= oldestHeld);
            foreach (var result in older)
            {
                CheckState(result, null);
            }

            selected.AddRange(older);
        }

        if (selected.Count == 0)
        {
            return null;
        }

        return Merge(type, scope, span, Time(selected.Min(r => r.Start)), Time(newest), selected);
    }

    public IReadOnlyList<MergedResult> History(string type, string scope, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(scope);
        var selected = new List<WindowResult>();
        double oldestHeld = double.PositiveInfinity;
        lock (_lock)
        {
            foreach (var history in Histories(type, scope))
            {
                history.Select(Seconds(from), Seconds(to), includeFrom: true, selected);
                oldestHeld = Math.Min(oldestHeld, history.OldestEnd);
            }
        }

        if (_options.Archive is { } archive && Seconds(from) < oldestHeld)
        {
            // Older than what memory holds: that part comes from the archive, from the windows themselves or, for a
            // range that will be merged into buckets of a minute or more (or that is older than the windows are kept),
            // from their minute or hour rollups, with the windows after the last rollup.
            double before = Math.Min(oldestHeld, Seconds(to));
            string? server = scope == AggregatorScopes.All ? null : scope;
            double estimate = (Seconds(to) - Seconds(from)) / Math.Max(1, _options.MaxHistoryPoints);
            double? newestArchived = archive.NewestEnd();
            int level = estimate >= ResultArchive.RollupSeconds[2] ? 2 : estimate >= ResultArchive.RollupSeconds[1] ? 1 : 0;
            if (level == 0 && newestArchived is double newestEnd && Seconds(from) < newestEnd - archive.RawRetention.TotalSeconds)
            {
                level = 1;
            }

            var older = archive.Load(Seconds(from), before, type, server, _options.MaxArchiveRows, level).Select(r => r.Result).ToList();
            if (level > 0)
            {
                double rolledUp = older.Count > 0 ? older.Max(r => r.End) : Seconds(from);
                older.AddRange(archive.Load(rolledUp, before, type, server, _options.MaxArchiveRows, 0).Select(r => r.Result).Where(r => r.End > rolledUp || older.Count == 0));
            }

            older.RemoveAll(r => r.End >= oldestHeld && !double.IsPositiveInfinity(oldestHeld));
            foreach (var result in older)
            {
                CheckState(result, null);
            }

            older.AddRange(selected);
            selected = older;
        }

        if (selected.Count == 0)
        {
            return [];
        }

        // Windows of different servers rarely end at the same instant: their ends are rounded to the nearest bucket;
        // a range of more than MaxHistoryPoints windows is merged into wider buckets.
        double natural = _options.HistoryBucket?.TotalSeconds ?? Math.Max(1, Math.Ceiling(selected.Max(r => r.Duration)));
        double covered = selected.Max(r => r.End) - selected.Min(r => r.End);
        double bucket = Math.Max(natural, covered / Math.Max(1, _options.MaxHistoryPoints));
        if (scope != AggregatorScopes.All && bucket <= natural)
        {
            // One window's own view, exact for that window (as the monitor wrote it).
            return [.. selected.OrderBy(r => r.End).Select(r => new MergedResult(type, scope, "window", Time(r.Start), Time(r.End), 1, r.Data))];
        }

        if (bucket > natural)
        {
            bucket = Math.Ceiling(bucket / natural) * natural;
        }

        return
        [
            .. selected
                .GroupBy(r => Math.Round(r.End / bucket) * bucket)
                .OrderBy(g => g.Key)
                .Select(g => Merge(type, scope, "window", Time(g.Min(r => r.Start)), Time(g.Key), [.. g])),
        ];
    }

    /// <summary>
    /// Takes back what <paramref name="archive"/> holds of the last <see cref="AggregatorOptions.HistoryLength"/> (before
    /// any new result arrives): the monitors' windows, sequence numbers (so the windows sent while the aggregator was
    /// away count as gaps) and arrival times. Returns how many results were restored.
    /// </summary>
    public int Restore(ResultArchive archive)
    {
        ArgumentNullException.ThrowIfNull(archive);
        if (archive.NewestEnd() is not double newest)
        {
            return 0;
        }

        var rows = archive.Load(newest - _options.HistoryLength.TotalSeconds, double.PositiveInfinity);
        foreach (var row in rows)
        {
            Store(row.Result, null, DateTimeOffset.FromUnixTimeMilliseconds((long)(row.Received * 1000)), archive: false);
        }

        return rows.Count;
    }

    /// <summary>A configured span's length, or a length written as a number and a unit (s, m, h, d: "30s", "2h"); null otherwise.</summary>
    public TimeSpan? SpanLength(string span)
    {
        ArgumentNullException.ThrowIfNull(span);
        foreach (var configured in _options.Spans)
        {
            if (configured.Name == span)
            {
                return configured.Length;
            }
        }

        if (span.Length < 2 || !double.TryParse(span.AsSpan(0, span.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || n <= 0 || !double.IsFinite(n))
        {
            return null;
        }

        return span[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
    }

    private MergedResult Merge(string type, string scope, string span, DateTimeOffset from, DateTimeOffset to, List<WindowResult> selected)
    {
        var outcome = ResultMerger.Merge(type, selected, _options.Catalog, _options.MaxListItems);
        foreach (string problem in outcome.Problems)
        {
            WarnOnce(problem, problem);
        }

        return new MergedResult(type, scope, span, from, to, selected.Count, outcome.Data)
        {
            Merge = outcome.Method switch
            {
                MergeMethod.State => "state",
                MergeMethod.Views => selected.Count == 1 ? "window" : "views",
                MergeMethod.StateAndViews => "state+views",
                _ => "none",
            },
            Approximate = outcome.Approximate,
            Problems = outcome.Problems,
        };
    }

    /// <summary>
    /// Reads a result's state once into a reducer of its type and options; a state that is not one is counted,
    /// reported (once per type and reason) and dropped.
    /// </summary>
    private void CheckState(WindowResult result, string? stateProblem)
    {
        if (stateProblem is not null)
        {
            Interlocked.Increment(ref _stateErrors);
            WarnOnce($"{result.Type}:{stateProblem}", $"{result.Type} from {result.ServerId}: {stateProblem}; the result is kept by its view");
            return;
        }

        switch (StateCheck.Check(result, _options.Catalog, out string? problem))
        {
            case StateCheck.Outcome.Accepted:
                Interlocked.Increment(ref _states);
                break;
            case StateCheck.Outcome.NotMergeable:
                Interlocked.Increment(ref _stateErrors);
                WarnOnce($"{result.Type}:catalog", $"{result.Type} cannot be merged by its reducer: {problem}; its results merge by their views (approximate)");
                break;
            case StateCheck.Outcome.Damaged:
                Interlocked.Increment(ref _stateErrors);
                WarnOnce($"{result.Type}:{result.ServerId}:damaged", $"{result.Type} from {result.ServerId}: damaged state ({problem}); the result is kept by its view");
                break;
        }
    }

    private void WarnOnce(string key, string message)
    {
        if (_options.Warn is not { } warn)
        {
            return;
        }

        bool first;
        lock (_warned)
        {
            first = _warned.Count < 10_000 && _warned.Add(key);
        }

        if (first)
        {
            warn(message);
        }
    }

    /// <summary>Under the lock: counts a new result's state and releases the oldest ones beyond the byte bound.</summary>
    private void KeepState(WindowResult result)
    {
        if (result.State is not { Header: not null } state)
        {
            return;
        }

        _statesByAge.Enqueue(state);
        long held = Interlocked.Add(ref _stateBytes, state.Length);
        while (held > _options.MaxStateBytes && _statesByAge.TryDequeue(out var oldest))
        {
            held = Interlocked.Add(ref _stateBytes, -oldest.Length);
            oldest.Release();
        }
    }

    private bool Store(WindowResult? result, string? stateProblem, DateTimeOffset? received = null, bool archive = true)
    {
        if (result is null)
        {
            Interlocked.Increment(ref _rejected);
            return false;
        }

        CheckState(result, stateProblem);
        var now = received ?? _options.Clock();
        lock (_lock)
        {
            if (!_monitors.TryGetValue(result.ServerId, out var monitor))
            {
                _monitors[result.ServerId] = monitor = new MonitorState(result.ServerId);
            }

            monitor.Record(result, now);
            _types.Add(result.Type);
            var key = (result.Type, result.ServerId);
            if (!_histories.TryGetValue(key, out var history))
            {
                _histories[key] = history = new ResultHistory();
            }

            history.Add(result, _options.HistoryLength.TotalSeconds, _options.MaxResultsPerKey, ReleaseState);
            KeepState(result);
        }

        if (archive)
        {
            _options.Archive?.Append(result, now);
        }

        Stored?.Invoke(result);
        Updated?.Invoke(new AggregatorUpdate(result.Type, result.ServerId, result.Sequence, Time(result.End)));
        return true;
    }

    /// <summary>Under the lock: a result left the history; its state's bytes no longer count.</summary>
    private void ReleaseState(WindowResult result)
    {
        if (result.State is { Header: not null } state)
        {
            Interlocked.Add(ref _stateBytes, -state.Length);
            state.Release();
        }
    }

    /// <summary>Under the lock: the histories of one type for a server, or for every server ("all").</summary>
    private List<ResultHistory> Histories(string type, string scope)
    {
        if (scope != AggregatorScopes.All)
        {
            return _histories.TryGetValue((type, scope), out var one) ? [one] : [];
        }

        return [.. _histories.Where(h => h.Key.Type == type).Select(h => h.Value)];
    }

    private static DateTimeOffset Time(double seconds) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    private static double Seconds(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    /// <summary>One monitor's counters; guarded by the store's lock.</summary>
    private sealed class MonitorState(string serverId)
    {
        private readonly Dictionary<string, long> _lastSequence = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _dropsByType = new(StringComparer.Ordinal);
        private DateTimeOffset _lastSeen;
        private long _windows;
        private long _gaps;
        private double _lastWindowSeconds;

        public string ServerId { get; } = serverId;

        public void Record(WindowResult result, DateTimeOffset now)
        {
            _lastSeen = now;
            _windows++;
            _lastWindowSeconds = result.Duration;
            _dropsByType[result.Type] = _dropsByType.GetValueOrDefault(result.Type) + result.Drops;
            if (result.Sequence < 0)
            {
                return;
            }

            // A jump by k > 1 lost k - 1 windows; 0 again is a restart (not a gap); a first result after a late start,
            // a repeat or an older number counts nothing.
            if (_lastSequence.TryGetValue(result.Type, out long last) && result.Sequence > last + 1)
            {
                _gaps += result.Sequence - last - 1;
            }

            _lastSequence[result.Type] = result.Sequence;
        }

        public MonitorStatus Status(DateTimeOffset now, TimeSpan? staleAfter)
        {
            var timeout = staleAfter ?? TimeSpan.FromSeconds(Math.Max(10, 3 * _lastWindowSeconds));

            // Every reducer reports the same window's drops: the largest per-type sum is the monitor's.
            long drops = _dropsByType.Count == 0 ? 0 : _dropsByType.Values.Max();
            return new MonitorStatus(
                ServerId, _lastSeen, _windows, _gaps, drops, now - _lastSeen > timeout, [.. _dropsByType.Keys.Order(StringComparer.Ordinal)]);
        }
    }

    /// <summary>
    /// One (type, server)'s windows ordered by end time, bounded by age (packet time, back from the newest end) and by
    /// count. Arrivals are nearly always in order (appended); an older one (a restarted replay) is inserted in place.
    /// </summary>
    private sealed class ResultHistory
    {
        private readonly List<WindowResult> _items = [];
        private int _head;

        public double NewestEnd => _items.Count > _head ? _items[^1].End : double.NegativeInfinity;

        public double OldestEnd => _items.Count > _head ? _items[_head].End : double.PositiveInfinity;

        public void Add(WindowResult result, double keepSeconds, int maxItems, Action<WindowResult> dropped)
        {
            if (_items.Count == _head || _items[^1].End <= result.End)
            {
                _items.Add(result);
            }
            else
            {
                _items.Insert(UpperBound(result.End), result);
            }

            double oldest = _items[^1].End - keepSeconds;
            while (_items.Count - _head > maxItems || _items[_head].End < oldest)
            {
                dropped(_items[_head]);
                _items[_head] = null!;
                _head++;
            }

            // Compact once the dropped prefix is half the list: amortized O(1) per result.
            if (_head > 64 && _head * 2 > _items.Count)
            {
                _items.RemoveRange(0, _head);
                _head = 0;
            }
        }

        /// <summary>Appends the windows whose end lies in (from, to] (or [from, to] with <paramref name="includeFrom"/>).</summary>
        public void Select(double from, double to, bool includeFrom, List<WindowResult> into)
        {
            for (int i = UpperBound(from) - 1; i >= _head && includeFrom && _items[i].End == from; i--)
            {
                into.Add(_items[i]);
            }

            for (int i = UpperBound(from); i < _items.Count && _items[i].End <= to; i++)
            {
                into.Add(_items[i]);
            }
        }

        /// <summary>The first index (from the head) whose end is greater than <paramref name="end"/>.</summary>
        private int UpperBound(double end)
        {
            int low = _head;
            int high = _items.Count;
            while (low < high)
            {
                int middle = low + ((high - low) / 2);
                if (_items[middle].End <= end)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }
    }
}

/// <summary>The scope names the view understands besides a serverId.</summary>
public static class AggregatorScopes
{
    /// <summary>Every server.</summary>
    public const string All = "all";
}
