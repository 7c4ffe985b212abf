using RataDns.App.Commands;
using RataDns.App.Gen;
using RataDns.Capture;
using RataDns.Capture.Replay;
using RataDns.Tests.Capture.Replay;
using Xunit.Abstractions;

namespace RataDns.Tests.App;

/// <summary>
/// Replay at a speed, through the inspect command, on a <see cref="FakeReplayClock"/> (its time moves only when the
/// pacer sleeps or spins): a 2-second capture read with --speed 1, 4 and 0.5 ends 2 s, 0.5 s and 4 s of clock time
/// after its first frame, and --speed 0 never reads the clock. Nothing is timed on the machine's clock (CI runs on a
/// loaded 2-core machine); the pacer's schedule is checked frame by frame in <see cref="ReplayPacerTests"/>. What the
/// pipeline sees must not depend on the speed: same messages, same timestamps.
/// </summary>
public class ReplayTests(ITestOutputHelper output)
{
    /// <summary>Fails a replay that waits when it should not; a wait on a capture of hours would last hours.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [Fact]
    public void Replay_speed_sets_the_paced_time_and_changes_nothing_else()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-replay-{Environment.ProcessId}.pcap");
        SyntheticCapture.Write(path, 201, seed: 7, packetsPerSecond: 100);
        try
        {
            // The program paces on the machine's clock; the tests give their own.
            Assert.Same(ReplayClock.System, new CaptureSourceSettings().ReplayClock);

            var fastClock = new FakeReplayClock();
            string fastReport = Inspect(path, 0, fastClock);
            double span = SpanSeconds(fastReport);
            Assert.InRange(span, 1.8, 2.2);
            Assert.Equal(0, fastClock.Readings); // speed 0: not paced at all

            foreach (double speed in new[] { 1.0, 4.0, 0.5 })
            {
                var clock = new FakeReplayClock();
                string report = Inspect(path, speed, clock);
                // The last frame leaves at (its time - the first frame's) / speed, within a spin step; the span is
                // printed to the millisecond.
                double expected = span / speed;
                output.WriteLine($"speed {speed}: {clock.Now / 1e9:F6} s of clock time for {expected:F3} s expected, {clock.Sleeps} sleeps");
                Assert.InRange(clock.Now, (long)((span - 0.0005) / speed * 1e9), (long)((span + 0.0005) / speed * 1e9) + FakeReplayClock.SpinStep);
                Assert.True(clock.Sleeps > 0, "the replay did not wait between frames");
                Assert.Equal(fastReport, report);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Speed_zero_does_not_wait_for_the_captures_timing()
    {
        // 50 packets about 100 s apart: more than an hour of capture time. At speed 0 the pacer's clock is never
        // read, and on the machine's clock the replay ends within the hang guard (paced, it would take an hour).
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-speed0-{Environment.ProcessId}.pcap");
        SyntheticCapture.Write(path, 50, seed: 3, packetsPerSecond: 0.01);
        try
        {
            var clock = new FakeReplayClock();
            string report = await Task.Run(() => Inspect(path, 0, clock)).WaitAsync(HangGuard);
            Assert.True(SpanSeconds(report) > 3600, report);
            Assert.Equal(0, clock.Readings);

            string onTheMachinesClock = await Task.Run(() => Inspect(path, 0, ReplayClock.System)).WaitAsync(HangGuard);
            Assert.Equal(report, onTheMachinesClock);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Cancelling_a_paced_replay_stops_it_part_way_and_still_reports()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-cancel-{Environment.ProcessId}.pcap");
        SyntheticCapture.Write(path, 1001, seed: 5, packetsPerSecond: 100);
        try
        {
            // The replay is cancelled 5 s into the 10 s capture, on the fake clock: by the sleep that reaches it.
            using var stop = new CancellationTokenSource();
            var clock = new FakeReplayClock();
            clock.CancelAt(5_000_000_000, stop);
            var report = new StringWriter();
            int exit = InspectCommand.Run(new CaptureSourceSettings { Input = path, Speed = 1, ReplayClock = clock }, DnsPortSet.Default, null, report, TextWriter.Null, stop.Token);
            Assert.Equal(0, exit);
            // The replay stopped part way (not at its end), where it was cancelled, and still reported what it had read.
            Assert.Equal(5_000_000_000, clock.Now);
            var frames = long.Parse(report.ToString().Split('\n').Single(l => l.StartsWith("frames: ", StringComparison.Ordinal))[8..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(frames, 1, 1000);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Loop_reads_the_file_again_and_again()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-loop-{Environment.ProcessId}.pcap");
        SyntheticCapture.Write(path, 100, seed: 3, packetsPerSecond: 1000);
        try
        {
            var once = new StringWriter();
            var thrice = new StringWriter();
            Assert.Equal(0, InspectCommand.Run(new CaptureSourceSettings { Input = path }, DnsPortSet.Default, null, once, TextWriter.Null));
            Assert.Equal(0, InspectCommand.Run(new CaptureSourceSettings { Input = path, Loop = 3 }, DnsPortSet.Default, null, thrice, TextWriter.Null));
            Assert.Contains("\nframes: 100\n", once.ToString(), StringComparison.Ordinal);
            Assert.Contains("\nframes: 300\n", thrice.ToString(), StringComparison.Ordinal);
            Assert.Contains("\ndns messages: 300\n", thrice.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Inspect(string path, double speed, ReplayClock clock)
    {
        var report = new StringWriter();
        int exit = InspectCommand.Run(new CaptureSourceSettings { Input = path, Speed = speed, ReplayClock = clock }, DnsPortSet.Default, null, report, TextWriter.Null);
        Assert.Equal(0, exit);
        return report.ToString();
    }

    private static double SpanSeconds(string report)
    {
        var line = report.Split('\n').Single(l => l.StartsWith("span: ", StringComparison.Ordinal));
        return double.Parse(line["span: ".Length..].Replace(" s", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }
}
