namespace RataDns.Reducers;

/// <summary>
/// The window a result covers, in packet time: [<paramref name="StartNanoseconds"/>, <paramref name="EndNanoseconds"/>)
/// and how many packets it held. Rates are <c>count / ((End - Start) / 1e9)</c>; see <see cref="Rate"/>.
/// </summary>
public readonly record struct ReducerWindow(long StartNanoseconds, long EndNanoseconds, long Packets)
{
    private const double NanosecondsPerSecond = 1e9;

    /// <summary>
    /// True when the view is written for an API that shows bounds (the aggregator's): a reducer whose Fievel view has
    /// no room for an error term (TopN's <c>[name, count]</c> pairs) then adds it (<c>[name, count, error]</c>).
    /// False (the default) for the monitor's outputs, which keep the original shapes.
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
