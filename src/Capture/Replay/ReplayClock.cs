using System.Diagnostics;

namespace RataDns.Capture.Replay;

/// <summary>
/// The time a <see cref="ReplayPacer"/> reads and waits on: <see cref="System"/> (the <see cref="Stopwatch"/> and the
/// scheduler) in the program; a test gives one whose time moves only when the pacer waits, so a schedule can be
/// checked exactly, whatever the load of the machine running the test.
/// </summary>
public abstract class ReplayClock
{
    /// <summary>The machine's monotonic clock and real sleeps.</summary>
    public static ReplayClock System { get; } = new SystemReplayClock();

    /// <summary>Ticks per second of <see cref="GetTimestamp"/>.</summary>
    public abstract long Frequency { get; }

    /// <summary>Now, in ticks of <see cref="Frequency"/> (monotonic).</summary>
    public abstract long GetTimestamp();

    /// <summary>Sleeps about <paramref name="milliseconds"/>; returns false when <paramref name="cancellationToken"/> ended the sleep.</summary>
    public abstract bool Sleep(int milliseconds, CancellationToken cancellationToken);

    /// <summary>Gives the core away briefly while spinning towards an instant less than a millisecond away.</summary>
    public abstract void Spin(ref SpinWait spinner);

    private sealed class SystemReplayClock : ReplayClock
    {
        public override long Frequency => Stopwatch.Frequency;

        public override long GetTimestamp() => Stopwatch.GetTimestamp();

        public override bool Sleep(int milliseconds, CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                return !cancellationToken.WaitHandle.WaitOne(milliseconds);
            }

            Thread.Sleep(milliseconds);
            return true;
        }

        // Never Sleep(1) (it would overshoot); yields let another thread run on a busy 1-2 core machine.
        public override void Spin(ref SpinWait spinner) => spinner.SpinOnce(sleep1Threshold: -1);
    }
}
