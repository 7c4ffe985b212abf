using System.IO.Pipes;
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

    /// <summary>How long a test waits for something that must happen: a hang guard, not a measure of anything.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

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
        var received = subscriber.WaitFor(40, HangGuard);
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
        // The sample goes in through standard input in three parts, each once the publisher is where the test
        // wants it: sending (Redis up), in an outage (Redis killed), connected again (Redis restarted). A fixed
        // schedule against a real-time replay used to decide this (kill at 0.7 s, restart 0.5 s later, in a 2.5 s
        // run); now nothing depends on the machine's pace, and every wait is a hang guard.
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        int port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        var log = new LockedLog();
        byte[] sample = File.ReadAllBytes(Sample);
        int third = PcapRecords.Boundary(sample, sample.Length / 3).Offset;
        int twoThirds = PcapRecords.Boundary(sample, 2 * sample.Length / 3).Offset;
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new AnonymousPipeClientStream(PipeDirection.In, pipe.ClientSafePipeHandle);
        RedisTestSubscriber? subscriber = null;
        try
        {
            var monitor = Task.Run(() => MonitorCommand.Run(StdinConfig(port), input, log, default, new MonitorRunOptions { PinThreads = false, Statistics = true }));
            using (var before = new RedisTestSubscriber(port, "qps", "RcodeCounter"))
            {
                await pipe.WriteAsync(sample.AsMemory(0, third));
                Assert.NotEmpty(before.WaitFor(1, HangGuard));
            }

            redis.Dispose(); // killed mid-run (and gone once this returns)
            await pipe.WriteAsync(sample.AsMemory(third, twoThirds - third));
            await WaitFor(() => log.Text.Contains("results are dropped until the server accepts again", StringComparison.Ordinal), "no outage: " + log.Text);

            // No server listens until the restart: a reconnection counted after it is to the new server.
            int reconnections = Count(log.Text, "connected again");
            redis = RedisServer.Start(port);
            subscriber = new RedisTestSubscriber(port, "qps", "RcodeCounter");
            await WaitFor(() => Count(log.Text, "connected again") > reconnections, "no reconnection: " + log.Text);
            await pipe.WriteAsync(sample.AsMemory(twoThirds));
            pipe.Close(); // the end of the capture
            int exit = await monitor.WaitAsync(HangGuard);

            string report = log.Text;
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
            Assert.NotEmpty(subscriber.WaitFor(1, HangGuard));
        }
        finally
        {
            subscriber?.Dispose();
            redis.Dispose();
        }
    }

    private static int Count(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task WaitFor(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    private static MonitorConfiguration StdinConfig(int port) => MonitorConfigurationLoader.Parse($$"""
        {"ServerId": "redis-test", "WindowSize": 100, "InputMethod": "stdin",
         "PreliminarReducers": [
           {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}, "RedisChannel": "qps"},
           {"Name": "RcodeCounter", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}}]}
        """, "redis-test.json");


    private static MonitorConfiguration Config(int port, double speed) => MonitorConfigurationLoader.Parse($$"""
        {"ServerId": "redis-test", "WindowSize": 100, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Speed": {{speed}},
         "PreliminarReducers": [
           {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}, "RedisChannel": "qps"},
           {"Name": "RcodeCounter", "OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{port}}}]}
        """, "redis-test.json");
}
