using System.Text.Json;

namespace RataDns.Aggregator;

/// <summary>What the aggregator knows of one monitor (one serverId).</summary>
/// <param name="ServerId">The monitor's serverId.</param>
/// <param name="LastSeen">Wall-clock time the last result arrived.</param>
/// <param name="Windows">Results received (all types).</param>
/// <param name="SequenceGaps">Windows missing between received sequence numbers (per type, summed): results lost on the way.</param>
/// <param name="Drops">Frames the monitor reported dropped (the windows' <c>drops</c>, summed).</param>
/// <param name="Stale">No result for longer than the stale timeout.</param>
/// <param name="Types">Reducer types it sent.</param>
public sealed record MonitorStatus(
    string ServerId, DateTimeOffset LastSeen, long Windows, long SequenceGaps, long Drops, bool Stale, IReadOnlyList<string> Types);

/// <summary>
/// One reducer's results merged over a span of recent windows, for one server or for all (<see cref="Scope"/>
/// <c>"all"</c>): <see cref="Data"/> has the reducer's own data shape (with heavy hitters' error terms), null when the
/// results could not be merged (<see cref="Problems"/> says why).
/// </summary>
public sealed record MergedResult(string Type, string Scope, string Span, DateTimeOffset From, DateTimeOffset To, long Windows, JsonElement? Data)
{
    /// <summary>
    /// How <see cref="Data"/> was made: <c>state</c> (the reducers' states merged by the reducer: exact, or within its
    /// stated bounds), <c>views</c> (views combined by the reducer's view rule: results without state),
    /// <c>state+views</c>, <c>window</c> (one window's own view) or <c>none</c> (not merged).
    /// </summary>
    public string Merge { get; init; } = "window";

    /// <summary>True when views were combined: counts and lists may be incomplete (see docs/wire-format.md).</summary>
    public bool Approximate { get; init; }

    /// <summary>What stood in the way of an exact merge (a type this aggregator cannot make, different options, ...).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}

/// <summary>A result was received (raised on the receiving thread; handlers must be quick).</summary>
public sealed record AggregatorUpdate(string Type, string ServerId, long Sequence, DateTimeOffset TimeStamp);

/// <summary>The aggregator's state as the HTTP API and the dashboard read it. Thread-safe.</summary>
public interface IAggregatorView
{
    /// <summary>Every monitor seen, by serverId.</summary>
    IReadOnlyList<MonitorStatus> Monitors();

    /// <summary>The span names, e.g. "1m", "5m", "15m".</summary>
    IReadOnlyList<string> Spans();

    /// <summary>Reducer types received so far.</summary>
    IReadOnlyList<string> Types();

    /// <summary>
    /// One type merged over a span for a server (its serverId) or all ("all"), ending at the newest window, or at
    /// <paramref name="at"/> (a past time: the dashboard's rewind); null when nothing fits.
    /// </summary>
    MergedResult? Merged(string type, string scope, string span, DateTimeOffset? at = null);

    /// <summary>
    /// The per-window history of one type for a server or all ("all": windows of the same time merged across
    /// servers), oldest first, within [from, to] (window end times).
    /// </summary>
    IReadOnlyList<MergedResult> History(string type, string scope, DateTimeOffset from, DateTimeOffset to);

    /// <summary>Raised after each result is stored.</summary>
    event Action<AggregatorUpdate>? Updated;
}
