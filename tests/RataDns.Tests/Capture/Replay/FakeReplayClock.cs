using RataDns.Capture.Replay;

namespace RataDns.Tests.Capture.Replay;

/// <summary>
/// Time in nanoseconds that moves only when the pacer sleeps (by the milliseconds asked, plus a scheduler's
/// overshoot of 0.3 ms) or spins (by <see cref="SpinStep"/>), or when the test calls <see cref="Work"/>: a replay on
/// it is checked exactly, whatever the load of the machine running the test. It also counts how often it was read,
/// so a test can show that it was never consulted.
/// </summary>
internal sealed class FakeReplayClock : ReplayClock
{
    public const long SpinStep = 10_000;
    private const long Overshoot = 300_000;
    private long _cancelAt = long.MaxValue;
    private CancellationTokenSource? _cancel;
    private long _now;

    public long Now => _now;

    public int Sleeps { get; private set; }

    /// <summary>How many times <see cref="GetTimestamp"/> was called.</summary>
    public int Readings { get; private set; }

    public override long Frequency => 1_000_000_000;

    public override long GetTimestamp()
    {
        Readings++;
        return _now;
    }

    public void Work(long nanoseconds) => _now += nanoseconds;

    /// <summary>The sleep that would pass <paramref name="nanoseconds"/> ends there and cancels <paramref name="cancel"/>.</summary>
    public void CancelAt(long nanoseconds, CancellationTokenSource cancel) => (_cancelAt, _cancel) = (nanoseconds, cancel);

    public override bool Sleep(int milliseconds, CancellationToken cancellationToken)
    {
        Assert.True(milliseconds >= 1, $"slept {milliseconds} ms");
        Sleeps++;
        long end = _now + (milliseconds * 1_000_000L) + Overshoot;
        if (_cancel is not null && end >= _cancelAt)
        {
            _now = _cancelAt;
            _cancel.Cancel();
        }
        else
        {
            _now = end;
        }

        return !cancellationToken.IsCancellationRequested;
    }

    public override void Spin(ref SpinWait spinner) => _now += SpinStep;
}
