using System.Diagnostics;
using RataDns.Capture;
using RataDns.Capture.Replay;

namespace RataDns.Tests.Capture.Replay;

/// <summary>
/// Replay pacing on synthetic timestamps. Wall-time bounds are loose for a noisy 2-core machine: a frame is never
/// early (exact), and a run ends within max(10%, 100 ms) of its schedule.
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
        var pacer = new ReplayPacer(speed);
        var released = new long[201];
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < released.Length; i++)
        {
            pacer.WaitFor(Epoch + (i * TenMilliseconds));
            released[i] = Stopwatch.GetTimestamp();
        }

        var elapsed = Stopwatch.GetElapsedTime(start, released[^1]);
        var expected = TimeSpan.FromSeconds(2 / speed);
        for (int i = 0; i < released.Length; i++)
        {
            // The pacer's schedule starts after 'start', so a frame released at its instant is at least this late.
            var due = TimeSpan.FromTicks((long)(i * TenMilliseconds / 100 / speed));
            var at = Stopwatch.GetElapsedTime(start, released[i]);
            Assert.True(at >= due, $"frame {i} released at {at.TotalMilliseconds:F3} ms, due at {due.TotalMilliseconds:F3} ms");
        }

        var tolerance = TimeSpan.FromMilliseconds(Math.Max(100, expected.TotalMilliseconds * 0.10));
        Assert.InRange(elapsed, expected, expected + tolerance);
        Assert.Equal(201, pacer.FramesPaced);
        Assert.True(pacer.MaxLateness < TimeSpan.FromMilliseconds(100), $"max lateness {pacer.MaxLateness}");
    }

    [Fact]
    public void Work_between_frames_does_not_accumulate_into_drift()
    {
        // 100 frames 20 ms apart, with 0-12 ms of work after each: a relative "sleep the gap" pacer would take
        // about 2 s + 0.6 s of work; the absolute schedule still ends at 2 s (plus the last frame's work).
        var pacer = new ReplayPacer(1);
        var random = new Random(7);
        long start = Stopwatch.GetTimestamp();
        long lastRelease = 0;
        for (int i = 0; i <= 100; i++)
        {
            pacer.WaitFor(Epoch + (i * 2 * TenMilliseconds));
            lastRelease = Stopwatch.GetTimestamp();
            Thread.Sleep(random.Next(0, 13));
        }

        var elapsed = Stopwatch.GetElapsedTime(start, lastRelease);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2.1));
        Assert.True(pacer.MaxLateness < TimeSpan.FromMilliseconds(100), $"max lateness {pacer.MaxLateness}");
    }

    [Fact]
    public void Speed_zero_does_not_wait()
    {
        var pacer = new ReplayPacer(0);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 100_000; i++)
        {
            // A second between frames: 27 hours of capture.
            pacer.WaitFor(Epoch + (i * 1_000_000_000L));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.Equal(100_000, pacer.FramesPaced);
        Assert.Equal(TimeSpan.Zero, pacer.MaxLateness);
    }

    [Fact]
    public void Restart_starts_a_new_schedule_at_the_next_frame()
    {
        var pacer = new ReplayPacer(1);
        pacer.WaitFor(Epoch);
        pacer.WaitFor(Epoch + TenMilliseconds);

        pacer.Restart();
        var clock = Stopwatch.StartNew();
        // An hour later in capture time (or back to the start, as in a loop): due at once.
        pacer.WaitFor(Epoch + 3_600_000_000_000);
        pacer.WaitFor(Epoch + 3_600_000_000_000 + TenMilliseconds);
        pacer.Restart();
        pacer.WaitFor(Epoch);

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(200));
        Assert.Equal(5, pacer.FramesPaced);
    }

    [Fact]
    public void A_frame_out_of_order_is_due_with_its_predecessor_and_not_counted_late()
    {
        var pacer = new ReplayPacer(1);
        pacer.WaitFor(Epoch);
        pacer.WaitFor(Epoch + (30 * TenMilliseconds));
        var clock = Stopwatch.StartNew();

        pacer.WaitFor(Epoch + TenMilliseconds);

        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(50), $"took {clock.Elapsed}");
        Assert.True(pacer.MaxLateness < TimeSpan.FromMilliseconds(100), $"max lateness {pacer.MaxLateness}");
    }

    [Fact]
    public void Cancellation_ends_a_long_wait()
    {
        var pacer = new ReplayPacer(1);
        pacer.WaitFor(Epoch);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();

        bool due = pacer.WaitFor(Epoch + 3_600_000_000_000, cts.Token);

        Assert.False(due);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
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
        // Five frames 50 ms apart, replayed at speed 2: 100 ms.
        var builder = new PcapBuilder(bigEndian: false, nanoseconds: true, LinkType.Ethernet);
        for (uint i = 0; i < 5; i++)
        {
            builder.Add(1_700_000_000, i * 50_000_000, [(byte)i, 1, 2, 3]);
        }

        string path = CaptureTestIo.WriteTemp(builder.ToArray());
        try
        {
            using var reader = CaptureFileReader.Open(path);
            var seen = new List<(long Timestamp, long ReleasedAt, byte First)>();
            var paced = new PacedFrameHandler<RecordingHandler>(new ReplayPacer(2), new RecordingHandler(seen));
            long start = Stopwatch.GetTimestamp();

            long delivered = reader.ReadAll(ref paced);

            Assert.Equal(5, delivered);
            Assert.Equal(5, paced.Pacer.FramesPaced);
            Assert.Equal(5, paced.Inner.Count);
            Assert.Equal(5, seen.Count);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(1_700_000_000_000_000_000 + (i * 50_000_000L), seen[i].Timestamp);
                Assert.Equal((byte)i, seen[i].First);
                var at = Stopwatch.GetElapsedTime(start, seen[i].ReleasedAt);
                Assert.True(at >= TimeSpan.FromMilliseconds(25 * i), $"frame {i} early: {at}");
            }

            Assert.InRange(Stopwatch.GetElapsedTime(start, seen[^1].ReleasedAt), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private struct RecordingHandler(List<(long Timestamp, long ReleasedAt, byte First)> seen) : ICaptureFrameHandler
    {
        public int Count { get; private set; }

        public void OnFrame(in CapturedFrame frame)
        {
            seen.Add((frame.TimestampNanoseconds, Stopwatch.GetTimestamp(), frame.Data[0]));
            Count++;
        }
    }
}
