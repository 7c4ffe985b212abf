using System.Diagnostics;
using RataDns.App.Commands;
using RataDns.App.Gen;
using RataDns.Capture;
using Xunit.Abstractions;

namespace RataDns.Tests.App;

/// <summary>
/// Replay at a speed: a 2-second capture read with --speed 1, 4 and 0.5 takes 2 s, 0.5 s and 4 s of wall time, and
/// --speed 0 as long as reading takes. The tolerance (10% + 150 ms) allows for this shared, noisy 2-core machine;
/// the pacer's own precision is measured in its unit tests and in the issue note. What the pipeline sees must not
/// depend on the speed: same messages, same timestamps.
/// </summary>
public class ReplayTests(ITestOutputHelper output)
{
    [Fact]
    public void Replay_speed_sets_the_wall_time_and_changes_nothing_else()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-replay-{Environment.ProcessId}.pcap");
        SyntheticCapture.Write(path, 201, seed: 7, packetsPerSecond: 100);
        try
        {
            var (fastTime, fastReport) = Inspect(path, 0);
            double span = SpanSeconds(fastReport);
            Assert.InRange(span, 1.8, 2.2);
            Assert.True(fastTime.TotalSeconds < 1.0, $"speed 0 took {fastTime.TotalSeconds:F2} s");

            foreach (double speed in new[] { 1.0, 4.0, 0.5 })
            {
                var (time, report) = Inspect(path, speed);
                double expected = span / speed;
                output.WriteLine($"speed {speed}: {time.TotalSeconds:F3} s for {expected:F3} s expected");
                Assert.InRange(time.TotalSeconds, expected - 0.05, (expected * 1.10) + 0.15);
                Assert.Equal(fastReport, report);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Cancelling_a_paced_replay_stops_it_promptly_and_still_reports()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-cancel-{Environment.ProcessId}.pcap");
        SyntheticCapture.Write(path, 1001, seed: 5, packetsPerSecond: 100);
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            var report = new StringWriter();
            int exit = InspectCommand.Run(new CaptureSourceSettings { Input = path, Speed = 1 }, DnsPortSet.Default, null, report, TextWriter.Null, stop.Token);
            Assert.Equal(0, exit);
            // The 10 s replay stopped part way (not at its end) and still reported what it had read.
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

    private static (TimeSpan Time, string Report) Inspect(string path, double speed)
    {
        var report = new StringWriter();
        var clock = Stopwatch.StartNew();
        int exit = InspectCommand.Run(new CaptureSourceSettings { Input = path, Speed = speed }, DnsPortSet.Default, null, report, TextWriter.Null);
        clock.Stop();
        Assert.Equal(0, exit);
        return (clock.Elapsed, report.ToString());
    }

    private static double SpanSeconds(string report)
    {
        var line = report.Split('\n').Single(l => l.StartsWith("span: ", StringComparison.Ordinal));
        return double.Parse(line["span: ".Length..].Replace(" s", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }
}
