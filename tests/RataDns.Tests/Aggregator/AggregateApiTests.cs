using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// `ratadns aggregate` (in this process) behind its HTTP API, fed by a `ratadns monitor` process replaying the
/// sample: the API's merged rcode split is tshark's count of the same capture; the monitor, once stopped, shows
/// stale, and live again when it is started anew (sequence back to 0: a restart, not a gap).
/// </summary>
public class AggregateApiTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [SkippableFact]
    public async Task The_api_reports_a_known_capture_and_a_restarted_monitor_goes_stale_then_live()
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is the independent count of the sample's rcodes");
        int zmqPort = RedisServer.FreePort();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<AggregateRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Task.Run(() => AggregateCommand.Run(
            new AggregateSettings { Endpoints = [$"tcp://127.0.0.1:{zmqPort}"], Bind = true, HttpUrl = "http://127.0.0.1:0", StaleAfter = TimeSpan.FromSeconds(2) },
            TextWriter.Null,
            stop.Token,
            run => started.SetResult(run)));
        var run = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        string api = run.HttpAddresses[0].ToString().TrimEnd('/') + "/api";
        using var http = new HttpClient();
        try
        {
            Assert.Equal(0, Monitor(zmqPort));

            // The monitor has exited, but its last windows may still be on their way through the aggregator: wait
            // (up to the hang guard) until all 10 are merged, then compare.
            JsonElement merged = default;
            await WaitFor(
                async () => (merged = await http.GetFromJsonAsync<JsonElement>($"{api}/merged/RcodeCounter?scope=ns1&span=15m")).GetProperty("windows").GetInt64() == 10,
                "the monitor's 10 windows did not all arrive");

            // tshark's count of the responses by rcode in the same capture.
            ExternalTool.Run("/usr/bin/tshark", ["-r", Sample, "-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.flags.rcode"], out string tsv, out _);
            var expected = tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .GroupBy(code => code.Trim() switch { "0" => "NOERROR", "3" => "NXDOMAIN", var other => other })
                .ToDictionary(g => g.Key, g => (long)g.Count());
            var actual = merged.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
            Assert.Equal(expected.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
            Assert.Equal(10, merged.GetProperty("windows").GetInt64());

            // Quiet for longer than the stale timeout: stale.
            await WaitFor(async () => Server(await http.GetFromJsonAsync<JsonElement>($"{api}/servers")).GetProperty("stale").GetBoolean(), "ns1 never went stale");
            // Its only monitor stale: the aggregator is down for a probe (503), and says why.
            using var healthResponse = await http.GetAsync($"{api}/health");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, healthResponse.StatusCode);
            var health = await healthResponse.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("down", health.GetProperty("status").GetString());
            Assert.Equal(1, health.GetProperty("stale").GetInt32());

            // Started again: live, and its restart (sequence 0 again) is not counted as a gap.
            var again = Task.Run(() => Monitor(zmqPort));
            await WaitFor(async () => !Server(await http.GetFromJsonAsync<JsonElement>($"{api}/servers")).GetProperty("stale").GetBoolean(), "ns1 did not come back");
            Assert.Equal(0, await again);
            var server = Server(await http.GetFromJsonAsync<JsonElement>($"{api}/servers"));
            Assert.Equal(0, server.GetProperty("sequenceGaps").GetInt64());
        }
        finally
        {
            await stop.CancelAsync();
            await aggregator.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static JsonElement Server(JsonElement servers) => servers.EnumerateArray().Single(s => s.GetProperty("serverId").GetString() == "ns1");

    /// <summary>The sample at its own pace (10 s: the first window closes well after the subscription is made), 1 s windows, connecting to the aggregator.</summary>
    private static int Monitor(int zmqPort)
    {
        string config = Path.GetTempFileName();
        try
        {
            File.WriteAllText(config, $$$"""
                {"ServerId": "ns1", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{{Sample}}}", "Speed": 1,
                 "ZeroMq": {"Connect": "tcp://127.0.0.1:{{{zmqPort}}}"}, "Output": {"OutputMethod": "zmq"},
                 "PreliminarReducers": [{"Name": "RcodeCounter"}]}
                """);
            return ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "-c", config], out _, out _);
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static async Task WaitFor(Func<Task<bool>> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), failure); // a hang guard
            await Task.Delay(200);
        }
    }
}
