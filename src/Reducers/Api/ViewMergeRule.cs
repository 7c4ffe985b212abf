namespace RataDns.Reducers;

/// <summary>
/// How the JSON views (the <c>data</c> of results) of a reducer combine when no state came with them: the fallback of
/// an aggregator for monitors that send only views. Each reducer says which rule fits its data shape
/// (<see cref="Reducer.ViewMerge"/>); the rules are applied by the aggregator and documented in docs/wire-format.md.
/// Every such merge is marked approximate: a view lists only what the window kept (a top list, an estimate).
/// </summary>
public enum ViewMergeRule
{
    /// <summary>The views cannot be combined (no rule fits): the aggregator reports the type as not mergeable.</summary>
    None,

    /// <summary>Numbers add key-wise, lists concatenate up to a bound (counters, histograms, maps of lists).</summary>
    Additive,

    /// <summary>As <see cref="Additive"/>, but list items already present are not added again (sets of names).</summary>
    Union,

    /// <summary>Per server, each number's duration-weighted average over the windows; the servers' averages add.</summary>
    Rates,

    /// <summary><c>[[key, count], ...]</c>: counts add per key, re-ranked, the longest list's length kept.</summary>
    RankedPairs,

    /// <summary>
    /// <c>{"total", "top": [{key, "count", "error"}]}</c>: merged as Space-Saving summaries truncated to their list
    /// (a key a full list did not name may have had up to its smallest count there).
    /// </summary>
    HeavyHitters,

    /// <summary>ResponseLatency's shape: counters add, histogram buckets add, percentiles recomputed from the buckets.</summary>
    LatencyHistogram,

    /// <summary>Distinct-count estimates: per server the largest, summed across servers (an upper bound of the union).</summary>
    DistinctEstimates,
}
