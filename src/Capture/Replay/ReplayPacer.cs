using System.Diagnostics;

namespace RataDns.Capture.Replay;

/// <summary>
/// Paces a replay on the frames' own timestamps: <see cref="WaitFor(long)"/> returns when the frame is due. Speed 0 means
/// no pacing (as fast as possible), 1 the capture's own timing, n n times faster (0.25: four times slower).
/// </summary>
/// <remarks>
/// <para>
/// The schedule is absolute: frame <c>t</c> is due at <c>start + (t - first) / speed</c>, where <c>first</c> is the
/// timestamp of the first frame paced and <c>start</c> the clock's reading when it arrived (<see cref="ReplayClock"/>, the <see cref="Stopwatch"/> by default). Each wait
/// aims at that instant, not at "previous frame + gap", so sleep overshoot and processing time never accumulate:
/// there is no drift over a long replay. A frame is never released early; how late the latest ones were is in
/// <see cref="MaxLateness"/>.
/// </para>
/// <para>
/// Waiting sleeps coarsely with <see cref="Thread.Sleep(int)"/> until about <see cref="SpinThreshold"/> before the
/// instant, then spins (yielding the core between checks) for the rest, so frames leave within microseconds of their
/// instant rather than within a scheduler tick. The spin costs up to ~2 ms of one core per gap longer than that (a
/// sleep shorter than a millisecond is not asked for: it would oversleep past the instant).
/// </para>
/// <para>
/// Timestamps are never changed. A frame earlier than the one before it (out of order in the capture) is due at
/// once and does not move the schedule. One pacer serves one replay thread.
/// </para>
/// </remarks>
public sealed class ReplayPacer
{
    /// <summary>How long before a frame's instant the pacer stops sleeping and starts spinning.</summary>
    public static readonly TimeSpan SpinThreshold = TimeSpan.FromMilliseconds(1);

    private readonly ReplayClock _clock;
    private readonly long _spinThresholdTicks;
    private readonly double _speed;
    private readonly double _ticksPerFrameNanosecond;
    private bool _started;
    private long _firstTimestamp;
    private long _startTicks;
    private long _lastDue;
    private long _maxLatenessTicks;
    private long _framesPaced;

    /// <summary>
    /// A pacer at <paramref name="speed"/>: 0 for no pacing, otherwise a finite factor &gt; 0 (1 = capture timing).
    /// </summary>
    public ReplayPacer(double speed)
        : this(speed, ReplayClock.System)
    {
    }

    /// <summary>As <see cref="ReplayPacer(double)"/>, on <paramref name="clock"/>'s time.</summary>
    public ReplayPacer(double speed, ReplayClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (!double.IsFinite(speed) || speed < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "the replay speed must be 0 (no pacing) or a finite positive factor");
        }

        _clock = clock;
        _speed = speed;
        _spinThresholdTicks = (long)(SpinThreshold.TotalSeconds * clock.Frequency);
        _ticksPerFrameNanosecond = speed == 0 ? 0 : clock.Frequency / 1e9 / speed;
    }

    /// <summary>The speed factor (0 = no pacing).</summary>
    public double Speed => _speed;

    /// <summary>The latest any frame was released after its instant, over the pacer's life (0 at speed 0).</summary>
    public TimeSpan MaxLateness => TimeSpan.FromSeconds((double)_maxLatenessTicks / _clock.Frequency);

    /// <summary>Frames passed through <see cref="WaitFor(long)"/> (at any speed, across restarts).</summary>
    public long FramesPaced => _framesPaced;

    /// <summary>
    /// Blocks the calling thread until the frame stamped <paramref name="frameTimestampNanoseconds"/> is due. The
    /// first frame after construction or <see cref="Restart"/> is due at once and starts the schedule.
    /// </summary>
    public void WaitFor(long frameTimestampNanoseconds) => WaitFor(frameTimestampNanoseconds, CancellationToken.None);

    /// <summary>
    /// As <see cref="WaitFor(long)"/>, but gives up when <paramref name="cancellationToken"/> is cancelled (a
    /// capture can hold gaps of hours). Returns false when cancelled before the frame was due.
    /// </summary>
    public bool WaitFor(long frameTimestampNanoseconds, CancellationToken cancellationToken)
    {
        _framesPaced++;
        if (_speed == 0)
        {
            return true;
        }

        if (!_started)
        {
            _started = true;
            _firstTimestamp = frameTimestampNanoseconds;
            _startTicks = _clock.GetTimestamp();
            _lastDue = _startTicks;
            return true;
        }

        // A frame stamped before its predecessor (out of order in the capture) is due with it, not at its own
        // earlier instant, so it neither waits nor counts as late for the capture's disorder.
        long offset = frameTimestampNanoseconds - _firstTimestamp;
        long due = offset <= 0 ? _startTicks : _startTicks + (long)Math.Ceiling(offset * _ticksPerFrameNanosecond);
        due = Math.Max(due, _lastDue);
        _lastDue = due;
        long now = _clock.GetTimestamp();
        long remaining = due - now;
        if (remaining > _spinThresholdTicks)
        {
            if (!SleepUntilNearly(due, cancellationToken))
            {
                return false;
            }

            now = _clock.GetTimestamp();
        }

        if (now < due)
        {
            now = SpinUntil(due);
        }

        long lateness = now - due;
        if (lateness > _maxLatenessTicks)
        {
            _maxLatenessTicks = lateness;
        }

        return true;
    }

    /// <summary>
    /// Starts a new schedule at the next frame (for a looped replay: the next pass starts from its own first frame
    /// instead of waiting out the time since the first pass began). <see cref="MaxLateness"/> and
    /// <see cref="FramesPaced"/> keep counting.
    /// </summary>
    public void Restart() => _started = false;

    /// <summary>Sleeps in coarse steps until about <see cref="SpinThreshold"/> before <paramref name="due"/>.</summary>
    private bool SleepUntilNearly(long due, CancellationToken cancellationToken)
    {
        while (true)
        {
            long remaining = due - _clock.GetTimestamp() - _spinThresholdTicks;
            if (remaining <= 0)
            {
                return true;
            }

            // Whole milliseconds, rounded down so the sleep ends before the spin window. Less than one left: spin
            // the rest (a 1 ms sleep, which oversleeps as well, would end past the instant).
            int milliseconds = (int)Math.Min(remaining * 1000 / _clock.Frequency, int.MaxValue);
            if (milliseconds == 0)
            {
                return true;
            }
            if (!_clock.Sleep(milliseconds, cancellationToken))
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Spins until <paramref name="due"/> and returns the reading that passed it. Spinning, not sleeping: a sleep
    /// would wake up to a scheduler tick late; this window is at most <see cref="SpinThreshold"/> long.
    /// </summary>
    private long SpinUntil(long due)
    {
        var spinner = default(SpinWait);
        long now;
        while ((now = _clock.GetTimestamp()) < due)
        {
            _clock.Spin(ref spinner);
        }

        return now;
    }
}
