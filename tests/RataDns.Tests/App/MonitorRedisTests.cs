using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Configuration;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.Redis;

namespace RataDns.Tests.App;

/// <summary>
/// The monitor publishing to a real redis-server (started by the test on a free port): every window result
/// arrives on its reducer's channel as the JSON envelope; a Redis killed and restarted mid-run costs some results,
/// counted, while capture goes on and the publisher reconnects by itself.
/// </summary>
public class MonitorRedisTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [SkippableFact]
    public void Every_window_result_is_published_on_its_reducers_channel()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        using var redis = RedisServer.Start(RedisServer.FreePort());
        using var subscriber = new RedisTestSubscriber(redis.Port, "qps", "RcodeCounter");
        var errors = new StringWriter();
        int exit = MonitorCommand.Run(Config(redis.Port, speed: 0), null, errors, default, new MonitorRunOptions { PinThreads = false, Statistics = true });
        Assert.True(exit == 0, errors.ToString());

        // 2,000 packets in windows of 100: 20 windows, each with a result of both reducers.
        var received = subscriber.WaitFor(40, TimeSpan.FromSeconds(10));
        Assert.Equal(40, received.Count);
        Assert.Equal(20, received.Count(m => m.Channel == "qps"));
        foreach (var (channel, payload) in received)
        {
            var root = JsonDocument.Parse(payload).RootElement;
            Assert.Equal(channel == "qps" ? "QueriesPerSecond" : "RcodeCounter", root.GetProperty("type").GetString());
            Assert.Equal("redis-test", root.GetProperty("serverId").GetString());
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), received.Where(m => m.Channel == "qps")
            .Select(m => JsonDocument.Parse(m.Payload).RootElement.GetProperty("window").GetProperty("sequence").GetInt64()));
        Assert.Contains($"output redis 127.0.0.1:{redis.Port}: 40 results sent, 0 dropped", errors.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_redis_restart_mid_run_loses_counted_results_only_and_the_monitor_reconnects_by_itself()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        int port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        var errors = new StringWriter();

        // The sample replayed 4x faster: 2.5 s, a window of 100 packets every 0.125 s.
        var monitor = Task.Run(() => MonitorCommand.Run(Config(port, speed: 4), null, errors, default, new MonitorRunOptions { PinThreads = false, Statistics = true }));
        await Task.Delay(700);
        redis.Dispose(); // killed mid-run
        await Task.Delay(500);
        redis = RedisServer.Start(port);
        using var subscriber = new RedisTestSubscriber(port, "qps", "RcodeCounter");
        int exit = await monitor;
        redis.Dispose();

        string report = errors.ToString();
        Assert.True(exit == 0, report);
        var line = report.Split('\n').Single(l => l.StartsWith($"output redis 127.0.0.1:{port}:", StringComparison.Ordinal));
        var counts = System.Text.RegularExpressions.Regex.Match(line, @": (\d+) results sent, (\d+) dropped");
        Assert.True(counts.Success, line);
        long sent = long.Parse(counts.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        long dropped = long.Parse(counts.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(40, sent + dropped); // every result of the 20 windows is accounted for
        Assert.True(dropped > 0, "the restart should have cost some results: " + report);
        Assert.True(sent > 0, "nothing was sent: " + report);

        // After the restart the monitor reconnected by itself: the new subscriber got the later windows.
        var after = subscriber.WaitFor(1, TimeSpan.FromSeconds(5));
        Assert.NotEmpty(after);
        Assert.Contains("redis", report, StringComparison.Ordinal);
    }

    private static MonitorConfiguration Config(int port, double speed) => MonitorConfigurationLoader.Parse($$"""
        {"ServerId": "redis-test", "WindowSize": 100, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Speed": {{speed}},
         "PreliminarReducers": [
           {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}, "RedisChannel": "qps"},
           {"Name": "RcodeCounter", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}}]}
        """, "redis-test.json");
}
