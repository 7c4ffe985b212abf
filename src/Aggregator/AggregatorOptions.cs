namespace RataDns.Aggregator;

/// <summary>A named span of recent windows to merge over, e.g. "5m".</summary>
public sealed record AggregatorSpan(string Name, TimeSpan Length);

/// <summary>How much the aggregator keeps and when a monitor counts as stale.</summary>
public sealed record AggregatorOptions
{
    /// <summary>The spans offered (Jerry/Gopher's 1, 5 and 15 minutes by default).</summary>
    public IReadOnlyList<AggregatorSpan> Spans { get; init; } =
        [new("1m", TimeSpan.FromMinutes(1)), new("5m", TimeSpan.FromMinutes(5)), new("15m", TimeSpan.FromMinutes(15))];

    /// <summary>History kept per (type, server): windows whose end is older than the newest end minus this are dropped.</summary>
    public TimeSpan HistoryLength { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Where every stored result is also written, so history survives a restart (<see cref="AggregatorStore.Restore"/>)
    /// and reaches back past <see cref="HistoryLength"/> (the archive's retention); null keeps history in memory only.
    /// </summary>
    public History.ResultArchive? Archive { get; init; }

    /// <summary>The most points one history request returns: longer ranges are merged into wider buckets.</summary>
    public int MaxHistoryPoints { get; init; } = 1000;

    /// <summary>The most archived results one history request reads.</summary>
    public int MaxArchiveRows { get; init; } = 500_000;

    /// <summary>At most this many windows kept per (type, server), oldest dropped first (bounds memory whatever the window size).</summary>
    public int MaxResultsPerKey { get; init; } = 100_000;

    /// <summary>
    /// A monitor is stale when no result arrived for this long; null: 3 of its windows (packet time of its last
    /// window) or 10 s, whichever is longer.
    /// </summary>
    public TimeSpan? StaleAfter { get; init; }

    /// <summary>
    /// The bucket that History("all") rounds window ends to (nearest multiple since 1970); null: the longest window among those merged,
    /// rounded up to whole seconds (at least 1 s).
    /// </summary>
    public TimeSpan? HistoryBucket { get; init; }

    /// <summary>Lists that merging concatenates (examples, alone packets, underscored queries) stop at this many items.</summary>
    public int MaxListItems { get; init; } = 1000;

    /// <summary>
    /// The reducers results are merged with (built-in, and plugins from the aggregator's <c>--reducer-assembly</c>).
    /// </summary>
    public ReducerCatalog Catalog { get; init; } = new();

    /// <summary>
    /// The most bytes of reducer state kept (all results together). Beyond it the oldest results' states are released:
    /// those results then merge by their views, marked approximate. The views themselves are kept as long as
    /// <see cref="HistoryLength"/> says.
    /// </summary>
    public long MaxStateBytes { get; init; } = 1L << 30;

    /// <summary>Where the store reports what it could not use (a damaged state, a type it cannot merge); once per kind.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>The wall clock (for last-seen and staleness); injectable for tests.</summary>
    public Func<DateTimeOffset> Clock { get; init; } = () => DateTimeOffset.UtcNow;
}
