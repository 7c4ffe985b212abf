using System.Diagnostics;
using System.Text.Json;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// The daemon's end on SIGTERM: a monitor replaying the sample in real time (looped: for hours) is stopped once two
/// windows are out; it exits 0, having written every window closed so far and the window in progress, marked partial.
/// </summary>
public class MonitorSignalTests
{
    [Fact]
    public async Task Sigterm_writes_the_window_in_progress_marked_partial_and_exits_cleanly()
    {
        string sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");
        string output = Path.GetTempFileName();
        string config = Path.GetTempFileName();
        try
        {
            File.WriteAllText(config, $$"""
                {"ServerId": "s", "WindowMilliseconds": 1000, "Workers": 2, "InputMethod": "capture_file", "InputSource": "{{sample}}", "Speed": 1, "Loop": 1000,
                 "PreliminarReducers": [{"Name": "PacketsPerSecond", "OutputMethod": "file", "OutputFile": "{{output}}"}]}
                """);
            var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ratadns.dll"));
            foreach (var a in new[] { "monitor", "-c", config })
            {
                info.ArgumentList.Add(a);
            }

            using var process = Process.Start(info)!;
            var errors = process.StandardError.ReadToEndAsync();

            // The sample lasts 10 s of capture time, read 1000 times over: wait until two windows are out (up to a
            // minute, a hang guard), then stop it, surely part way.
            var clock = Stopwatch.StartNew();
            while (File.ReadAllLines(output).Length < 2 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }

            Assert.True(File.ReadAllLines(output).Length >= 2, "no window in 60 s: " + (process.HasExited ? await errors : "still running"));
            ExternalTool.Run("/bin/kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], out _, out _);
            Assert.True(process.WaitForExit(60_000), "ratadns did not stop on SIGTERM");
            string stderr = await errors;
            Assert.True(process.ExitCode == 0, stderr);

            var windows = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("window")).ToList();
            Assert.Equal(Enumerable.Range(0, windows.Count).Select(i => (long)i), windows.Select(w => w.GetProperty("sequence").GetInt64()));
            Assert.All(windows.SkipLast(1), w => Assert.False(w.GetProperty("partial").GetBoolean()));
            Assert.True(windows[^1].GetProperty("partial").GetBoolean());
            long packets = windows.Sum(w => w.GetProperty("packets").GetInt64());
            Assert.InRange(packets, 1, (2000 * 1000) - 1); // stopped part way through the 1000 passes of 2,000 packets
        }
        finally
        {
            File.Delete(output);
            File.Delete(config);
        }
    }
}
