namespace RataDns.Reducers;

/// <summary>
/// What the engine knows about one window when it hands the merged results to the sinks.
/// </summary>
/// <param name="Sequence">0-based, without gaps, per engine run.</param>
/// <param name="StartNanoseconds">Count windows: the first packet's time; time windows: the aligned start.</param>
/// <param name="EndNanoseconds">Count windows: the last packet's time; time windows: the aligned end.</param>
/// <param name="Packets">DNS packets the capture thread counted into the window (W for a full count window).</param>
/// <param name="Messages">DNS messages the reducers observed (differs from packets with TCP and fragments).</param>
/// <param name="Drops">Frames lost in the window: full rings, plus the kernel's and interface's drops seen meanwhile.</param>
/// <param name="Partial">The window was cut short by the end of the input or an interruption.</param>
public readonly record struct WindowSummary(
    long Sequence, long StartNanoseconds, long EndNanoseconds, long Packets, long Messages, long Drops, bool Partial)
{
    /// <summary>The window as the reducers see it when they write their results.</summary>
    public ReducerWindow ReducerWindow => new(StartNanoseconds, EndNanoseconds, Packets);
}

/// <summary>
/// Receives each window's merged results on the engine's merger thread, in sequence order. The reducers are only
/// valid during the call (they are reset and reused after it). An exception thrown here stops the engine and is
/// rethrown to the capture thread.
/// </summary>
public interface IWindowResultSink
{
    void OnWindow(in WindowSummary window, IReadOnlyList<Reducer> results);

    /// <summary>Called once, on the merger thread, after the last window.</summary>
    void Complete();
}
