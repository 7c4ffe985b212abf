namespace RataDns.Reducers;

/// <summary>
/// The window a result covers, in packet time: [<paramref name="StartNanoseconds"/>, <paramref name="EndNanoseconds"/>)
/// and how many packets it held. Rates are <c>count / ((End - Start) / 1e9)</c>; see <see cref="Rate"/>.
/// </summary>
public readonly record struct ReducerWindow(long StartNanoseconds, long EndNanoseconds, long Packets)
{
    private const double NanosecondsPerSecond = 1e9;

    /// <summary>
    /// Whether views that hold Space-Saving estimates also write each entry's error bound (TopN and TopNQ:
    /// <c>[name, count, error]</c> instead of the Fievel pair <c>[name, count]</c>). False for monitors' results;
    /// an aggregator sets it where its API shows the bounds.
    /// </summary>
    public bool IncludeBounds { get; init; }

    /// <summary>End - Start in seconds (may be 0 or negative for a degenerate window).</summary>
    public double DurationSeconds => (EndNanoseconds - StartNanoseconds) / NanosecondsPerSecond;

    /// <summary>
    /// <paramref name="count"/> per second over the window. A window of zero (or negative) length has no defined
    /// rate; it reports 0 so a result is always a finite number.
    /// </summary>
    public double Rate(long count) => EndNanoseconds > StartNanoseconds ? count / DurationSeconds : 0;
}
