namespace RataDns.Capture.Replay;

/// <summary>
/// Paces any frame handler: each frame waits for its instant on a <see cref="ReplayPacer"/>, then goes to the
/// inner handler unchanged. Lets <see cref="CaptureFileReader.ReadAll{THandler}"/> and
/// <see cref="CaptureStreamReader.ReadAllAsync{THandler}"/> replay at a speed with no other change:
/// <code>
/// var paced = new PacedFrameHandler&lt;MyHandler&gt;(new ReplayPacer(speed), new MyHandler(...));
/// reader.ReadAll(ref paced);
/// </code>
/// The wait blocks the reading thread (with the stream reader, a thread-pool thread) for the gaps in the capture.
/// </summary>
public struct PacedFrameHandler<THandler> : ICaptureFrameHandler
    where THandler : struct, ICaptureFrameHandler
{
    private readonly ReplayPacer _pacer;
    // Not readonly: OnFrame mutates the inner struct in place; on a readonly field it would run on a defensive copy
    // and every change would be lost.
#pragma warning disable IDE0044
    private THandler _inner;
#pragma warning restore IDE0044

    public PacedFrameHandler(ReplayPacer pacer, THandler inner)
    {
        ArgumentNullException.ThrowIfNull(pacer);
        _pacer = pacer;
        _inner = inner;
    }

    /// <summary>The pacer (its <see cref="ReplayPacer.MaxLateness"/> and <see cref="ReplayPacer.FramesPaced"/>).</summary>
    public readonly ReplayPacer Pacer => _pacer;

    /// <summary>A copy of the inner handler as it is now (after a <c>ReadAll(ref paced)</c>, with its updated state).</summary>
    public readonly THandler Inner => _inner;

    public void OnFrame(in CapturedFrame frame)
    {
        _pacer.WaitFor(frame.TimestampNanoseconds);
        _inner.OnFrame(in frame);
    }
}
