using System.Globalization;
using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Configuration;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// <c>ratadns monitor</c> (first, single-threaded version) on the bundled sample: count windows of exactly W
/// messages and clock-aligned time windows, in the Fievel envelope; rates and top names checked against tshark's
/// own reading of the same file.
/// </summary>
public class MonitorTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [SkippableFact]
    public void Count_windows_hold_exactly_w_messages_and_agree_with_tshark()
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is needed as the independent reference");
        var output = Path.GetTempFileName();
        try
        {
            var lines = RunMonitor($$"""
                {"ServerId": "server1", "WindowSize": 500, "InputMethod": "capture_file", "InputSource": "{{Sample}}",
                 "PreliminarReducers": [
                   {"Name": "PacketsPerSecond", "OutputMethod": "file", "OutputFile": "{{output}}"},
                   {"Name": "TopNQ", "N": 3, "OutputMethod": "file", "OutputFile": "{{output}}"}]}
                """, output);

            var pps = lines.Where(l => l.GetProperty("type").GetString() == "PacketsPerSecond").ToList();
            var top = lines.Where(l => l.GetProperty("type").GetString() == "TopNQ").ToList();
            Assert.Equal(4, pps.Count);
            Assert.Equal(4, top.Count);

            // tshark: every frame's time and, for queries, its name.
            ExternalTool.Run("/usr/bin/tshark", ["-r", Sample, "-T", "fields", "-e", "frame.time_epoch", "-e", "dns.flags.response", "-e", "dns.qry.name"], out var tsv, out _);
            var frames = tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
            Assert.Equal(2000, frames.Count);
            for (int k = 0; k < 4; k++)
            {
                var window = pps[k].GetProperty("window");
                Assert.Equal(k, window.GetProperty("sequence").GetInt64());
                Assert.Equal(500, window.GetProperty("packets").GetInt64());
                Assert.False(window.GetProperty("partial").GetBoolean());
                Assert.Equal("server1", pps[k].GetProperty("serverId").GetString());

                double first = double.Parse(frames[500 * k][0], CultureInfo.InvariantCulture);
                double last = double.Parse(frames[(500 * k) + 499][0], CultureInfo.InvariantCulture);
                Assert.Equal(500 / (last - first), pps[k].GetProperty("data").GetProperty("pps").GetDouble(), 3);
                Assert.Equal((long)last, pps[k].GetProperty("timeStamp").GetInt64());

                var expectedTop = frames.Skip(500 * k).Take(500)
                    .Where(f => f[1] == "0")
                    .GroupBy(f => f[2].ToLowerInvariant() + ".")
                    .Select(g => (Name: g.Key, Count: g.Count()))
                    .OrderByDescending(x => x.Count).ThenBy(x => x.Name, StringComparer.Ordinal)
                    .Take(3)
                    .ToList();
                var actualTop = top[k].GetProperty("data").EnumerateArray()
                    .Select(e => (Name: e[0].GetString()!, Count: e[1].GetInt32()))
                    .ToList();
                Assert.Equal(expectedTop, actualTop);
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Time_windows_are_aligned_on_the_clock_and_the_last_one_is_partial()
    {
        var output = Path.GetTempFileName();
        try
        {
            var lines = RunMonitor($$"""
                {"ServerId": "s", "WindowMilliseconds": 2000, "InputMethod": "capture_file", "InputSource": "{{Sample}}",
                 "PreliminarReducers": [{"Name": "PacketsQueriesAndAnswersPerSecond", "OutputMethod": "file", "OutputFile": "{{output}}"}]}
                """, output);

            // The sample spans 00:00:00.001 to 00:00:09.98 of 2026-01-01: windows [0, 2), [2, 4), ... [8, 10) s.
            Assert.Equal(5, lines.Count);
            Assert.Equal(2000, lines.Sum(l => l.GetProperty("window").GetProperty("packets").GetInt64()));
            for (int k = 0; k < 5; k++)
            {
                var window = lines[k].GetProperty("window");
                Assert.Equal(1_767_225_600 + (2 * k), window.GetProperty("start").GetDouble(), 6);
                Assert.Equal(1_767_225_602 + (2 * k), window.GetProperty("end").GetDouble(), 6);
                Assert.Equal(k == 4, window.GetProperty("partial").GetBoolean());
                var data = lines[k].GetProperty("data");
                long packets = window.GetProperty("packets").GetInt64();
                Assert.Equal(packets / 2.0, data.GetProperty("pps").GetDouble(), 6);
                Assert.Equal(packets / 2.0, data.GetProperty("qps").GetDouble() + data.GetProperty("aps").GetDouble(), 6);
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void A_redis_output_that_cannot_be_reached_drops_and_counts_its_results_and_capture_goes_on()
    {
        int port = RedisServer.FreePort(); // nothing listens there
        string output = Path.GetTempFileName();
        try
        {
            var config = MonitorConfigurationLoader.Parse($$"""
                {"ServerId": "s", "WindowSize": 500, "InputMethod": "capture_file", "InputSource": "{{Sample}}",
                 "PreliminarReducers": [
                   {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}, "RedisChannel": "qps"},
                   {"Name": "RcodeCounter", "OutputMethod": "file", "OutputFile": "{{output}}"}]}
                """, "test.json");
            var errors = new StringWriter();
            Assert.Equal(0, MonitorCommand.Run(config, null, errors, default, new MonitorRunOptions { PinThreads = false, Statistics = true }));

            // The file output got all 4 windows; Redis, unreachable, none: each of its results is counted as dropped.
            Assert.Equal(4, File.ReadAllLines(output).Length);
            Assert.Contains($"output redis 127.0.0.1:{port}: 0 results sent, 4 dropped", errors.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static List<JsonElement> RunMonitor(string json, string output)
    {
        File.WriteAllText(output, string.Empty);
        var config = MonitorConfigurationLoader.Parse(json, "test.json");
        var errors = new StringWriter();
        Assert.Equal(0, MonitorCommand.Run(config, null, errors));
        return File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }
}
