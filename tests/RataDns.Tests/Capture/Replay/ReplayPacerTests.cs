using System.Diagnostics;
using RataDns.Capture;
using RataDns.Capture.Replay;

namespace RataDns.Tests.Capture.Replay;

/// <summary>
/// Replay pacing on synthetic timestamps, on a <see cref="FakeReplayClock"/> whose time moves only when the pacer sleeps or
/// spins (or a test says work took time): every schedule is checked exactly, whatever the load of the machine. The
/// program's clock is checked without measuring time (what it reads, and a cancelled sleep).
/// </summary>
public sealed class ReplayPacerTests
{
    private const long Epoch = 1_700_000_000_000_000_000;
    private const long TenMilliseconds = 10_000_000;

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(0.5)]
    public void A_two_second_capture_takes_its_time_divided_by_speed_and_no_frame_is_early(double speed)
    {
        // 201 frames 10 ms apart: a 2-second capture.
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(speed, clock);
        for (int i = 0; i <= 200; i++)
        {
            pacer.WaitFor(Epoch + (i * TenMilliseconds));
            long due = (long)Math.Ceiling(i * TenMilliseconds / speed);
            Assert.InRange(clock.Now, due, due + FakeReplayClock.SpinStep);
        }

        Assert.Equal(201, pacer.FramesPaced);
        Assert.True(pacer.MaxLateness <= TimeSpan.FromTicks(FakeReplayClock.SpinStep / 100), $"max lateness {pacer.MaxLateness}");
        Assert.True(clock.Sleeps > 0, "the pacer slept rather than spinning through the gaps");
    }

    [Fact]
    public void The_system_clock_is_the_stopwatch_and_a_cancelled_sleep_reports_it()
    {
        // The schedule itself is checked on the fake clock; here only what the program's clock adds, without
        // measuring how long anything took.
        var clock = ReplayClock.System;
        Assert.Equal(Stopwatch.Frequency, clock.Frequency);
        long first = clock.GetTimestamp();
        Assert.True(clock.GetTimestamp() >= first, "the clock went backwards");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.False(clock.Sleep(60_000, cancelled.Token));
        Assert.True(clock.Sleep(1, CancellationToken.None));
    }

    [Fact]
    public void Work_between_frames_does_not_accumulate_into_drift()
    {
        // 101 frames 20 ms apart, with 0-12 ms of work after each: a relative "sleep the gap" pacer would end at about
        // 2 s + 0.6 s of work; the absolute schedule releases the last frame at 2 s.
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(1, clock);
        var random = new Random(7);
        for (int i = 0; i <= 100; i++)
        {
            pacer.WaitFor(Epoch + (i * 2 * TenMilliseconds));
            Assert.InRange(clock.Now, i * 2 * TenMilliseconds, (i * 2 * TenMilliseconds) + FakeReplayClock.SpinStep);
            clock.Work(random.Next(0, 13) * 1_000_000L);
        }
    }

    [Fact]
    public void A_frame_due_while_work_ran_long_leaves_at_once_and_counts_as_late()
    {
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(1, clock);
        pacer.WaitFor(Epoch);
        clock.Work(35_000_000);

        pacer.WaitFor(Epoch + TenMilliseconds);

        Assert.Equal(35_000_000, clock.Now);
        Assert.Equal(TimeSpan.FromMilliseconds(25), pacer.MaxLateness);
        Assert.Equal(0, clock.Sleeps);
    }

    [Fact]
    public void Speed_zero_does_not_wait()
    {
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(0, clock);
        for (int i = 0; i < 100_000; i++)
        {
            // A second between frames: 27 hours of capture.
            pacer.WaitFor(Epoch + (i * 1_000_000_000L));
        }

        Assert.Equal(0, clock.Now);
        Assert.Equal(0, clock.Sleeps);
        Assert.Equal(100_000, pacer.FramesPaced);
        Assert.Equal(TimeSpan.Zero, pacer.MaxLateness);
    }

    [Fact]
    public void Restart_starts_a_new_schedule_at_the_next_frame()
    {
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(1, clock);
        pacer.WaitFor(Epoch);
        pacer.WaitFor(Epoch + TenMilliseconds);
        long before = clock.Now;

        pacer.Restart();
        // An hour later in capture time (or back to the start, as in a loop): due at once, then 10 ms later.
        pacer.WaitFor(Epoch + 3_600_000_000_000);
        Assert.Equal(before, clock.Now);
        pacer.WaitFor(Epoch + 3_600_000_000_000 + TenMilliseconds);
        Assert.InRange(clock.Now - before, TenMilliseconds, TenMilliseconds + FakeReplayClock.SpinStep);
        long second = clock.Now;
        pacer.Restart();
        pacer.WaitFor(Epoch);

        Assert.Equal(second, clock.Now);
        Assert.Equal(5, pacer.FramesPaced);
    }

    [Fact]
    public void A_frame_out_of_order_is_due_with_its_predecessor_and_not_counted_late()
    {
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(1, clock);
        pacer.WaitFor(Epoch);
        pacer.WaitFor(Epoch + (30 * TenMilliseconds));
        long released = clock.Now;

        pacer.WaitFor(Epoch + TenMilliseconds);

        Assert.Equal(released, clock.Now);
        Assert.True(pacer.MaxLateness <= TimeSpan.FromTicks(FakeReplayClock.SpinStep / 100), $"max lateness {pacer.MaxLateness}");
    }

    [Fact]
    public void Cancellation_ends_a_long_wait()
    {
        var clock = new FakeReplayClock();
        var pacer = new ReplayPacer(1, clock);
        pacer.WaitFor(Epoch);
        using var cts = new CancellationTokenSource();
        clock.CancelAt(100_000_000, cts);

        bool due = pacer.WaitFor(Epoch + 3_600_000_000_000, cts.Token);

        Assert.False(due);
        // The wait ended at the first sleep that saw the cancellation, not an hour later.
        Assert.InRange(clock.Now, 100_000_000, 3_600_000_000_000 / 2);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_negative_or_non_finite_speed_is_refused(double speed)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayPacer(speed));
    }

    [Fact]
    public void PacedFrameHandler_paces_a_capture_file_and_passes_frames_unchanged()
    {
        // Five frames 50 ms apart, replayed at speed 2: released 25 ms apart.
        var builder = new PcapBuilder(bigEndian: false, nanoseconds: true, LinkType.Ethernet);
        for (uint i = 0; i < 5; i++)
        {
            builder.Add(1_700_000_000, i * 50_000_000, [(byte)i, 1, 2, 3]);
        }

        string path = CaptureTestIo.WriteTemp(builder.ToArray());
        try
        {
            using var reader = CaptureFileReader.Open(path);
            var clock = new FakeReplayClock();
            var seen = new List<(long Timestamp, long ReleasedAt, byte First)>();
            var paced = new PacedFrameHandler<RecordingHandler>(new ReplayPacer(2, clock), new RecordingHandler(seen, clock));

            long delivered = reader.ReadAll(ref paced);

            Assert.Equal(5, delivered);
            Assert.Equal(5, paced.Pacer.FramesPaced);
            Assert.Equal(5, paced.Inner.Count);
            Assert.Equal(5, seen.Count);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(1_700_000_000_000_000_000 + (i * 50_000_000L), seen[i].Timestamp);
                Assert.Equal((byte)i, seen[i].First);
                Assert.InRange(seen[i].ReleasedAt, 25_000_000L * i, (25_000_000L * i) + FakeReplayClock.SpinStep);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private struct RecordingHandler(List<(long Timestamp, long ReleasedAt, byte First)> seen, FakeReplayClock clock) : ICaptureFrameHandler
    {
        public int Count { get; private set; }

        public void OnFrame(in CapturedFrame frame)
        {
            seen.Add((frame.TimestampNanoseconds, clock.Now, frame.Data[0]));
            Count++;
        }
    }
}
