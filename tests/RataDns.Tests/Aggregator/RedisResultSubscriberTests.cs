using RataDns.Aggregator;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The aggregator taking results from Redis pub/sub: a `ratadns monitor` process publishing every reducer on its
/// Redis channel (a real redis-server started by the test) reaches the store; a Redis restart is survived.
/// </summary>
public class RedisResultSubscriberTests
{
    [SkippableFact]
    public async Task Results_published_on_redis_by_a_monitor_reach_the_store_and_the_subscriber_reconnects()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        int port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        var store = new AggregatorStore();
        using var subscriber = new RedisResultSubscriber(store, new RedisSubscriberOptions { Port = port });
        try
        {
            await WaitFor(() => subscriber.Connections == 1, "the subscriber never connected");
            Assert.Equal(0, RunMonitor(port, "redis-a"));

            // 10 one-second windows of QueriesPerSecond and RcodeCounter.
            await WaitFor(() => store.Monitors().Sum(m => m.Windows) == 20, "not every result arrived");
            var monitor = Assert.Single(store.Monitors());
            Assert.Equal("redis-a", monitor.ServerId);
            Assert.Equal(0, monitor.SequenceGaps);
            Assert.Equal(0, subscriber.Rejected);

            // Redis restarts: the subscriber reconnects by itself and takes the next monitor's results.
            redis.Dispose();
            redis = RedisServer.Start(port);
            await WaitFor(() => subscriber.Connections == 2, "the subscriber did not reconnect");
            Assert.Equal(0, RunMonitor(port, "redis-b"));
            await WaitFor(() => store.Monitors().Count == 2 && store.Monitors().Sum(m => m.Windows) == 40, "the second monitor's results did not arrive");
            var rcodes = store.Merged("RcodeCounter", "all", "1d")!;
            Assert.Equal(20, rcodes.Windows);
        }
        finally
        {
            redis.Dispose();
        }
    }

    private static int RunMonitor(int port, string server)
    {
        string config = Path.GetTempFileName();
        try
        {
            File.WriteAllText(config, $$$"""
                {"ServerId": "{{{server}}}", "WindowMilliseconds": 1000, "InputMethod": "capture_file",
                 "InputSource": "{{{Path.Combine(RepoPaths.Root, "samples", "sample.pcap")}}}",
                 "Output": {"OutputMethod": "redis", "RedisServer": "127.0.0.1", "RedisPort": {{{port}}}},
                 "PreliminarReducers": [{"Name": "QueriesPerSecond"}, {"Name": "RcodeCounter"}]}
                """);
            return ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "-c", config], out _, out _);
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static async Task WaitFor(Func<bool> condition, string failure)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), failure); // a hang guard
            await Task.Delay(50);
        }
    }
}
