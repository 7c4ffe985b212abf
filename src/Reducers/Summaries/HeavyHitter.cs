namespace RataDns.Reducers.Summaries;

/// <summary>
/// One monitored key of a <see cref="SpaceSavingSummary"/>: its estimated <see cref="Count"/> and the
/// overestimation bound <see cref="Error"/>, so that <c>Count - Error &lt;= true count &lt;= Count</c>.
/// </summary>
public readonly struct HeavyHitter
{
    public HeavyHitter(ReadOnlyMemory<byte> key, long count, long error)
    {
        Key = key;
        Count = count;
        Error = error;
    }

    /// <summary>The key bytes (a copy owned by this result, not a view of the summary's arena).</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>Upper bound on the key's true weight.</summary>
    public long Count { get; }

    /// <summary>How much <see cref="Count"/> may exceed the true weight.</summary>
    public long Error { get; }

    /// <summary>Lower bound on the key's true weight: <see cref="Count"/> - <see cref="Error"/>.</summary>
    public long GuaranteedCount => Count - Error;
}
