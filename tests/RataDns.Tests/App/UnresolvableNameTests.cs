using System.Diagnostics;
using System.Text;
using NetMQ.Sockets;
using NetMQ;
using RataDns.Aggregator;
using RataDns.App.Commands;
using RataDns.Tests.Aggregator;
using RataDns.Tests.Support;
using RataDns.Transport.ZeroMq;

namespace RataDns.Tests.App;

/// <summary>
/// On a DNS server, DNS is what may be broken: a ZeroMQ or Redis endpoint whose host name does not resolve is one
/// warning and a retry, never a crash (issue 16); an endpoint that is not of the form tcp://HOST:PORT is one clear
/// line and exit 2 before anything is opened; a name that starts resolving later is connected then.
/// Names under <c>.invalid</c> never resolve (RFC 6761, 6.4).
/// </summary>
[Collection(NetMqCollection.Name)]
public class UnresolvableNameTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [Fact]
    public void A_monitor_publishing_to_a_name_that_does_not_resolve_warns_and_finishes_its_run()
    {
        int exit = RunRataDns(["monitor", "-c", Config(), "--zmq-connect", "tcp://nohost.invalid:5000", "-q"], out string stderr);
        Assert.Equal(0, exit);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        Assert.Contains("zmq connect tcp://nohost.invalid:5000: the host name does not resolve", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n'), l => l.Contains("does not resolve", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tcp://nohost", "'tcp://nohost' has no port; expected tcp://HOST:PORT")]
    [InlineData("nohost:5556", "'nohost:5556' is not a ZeroMQ endpoint; expected tcp://HOST:PORT")]
    [InlineData("tcp://127.0.0.1:99999", "the port '99999' is not a number from 1 to 65535")]
    public void An_endpoint_of_another_form_is_one_line_and_exit_2(string endpoint, string message)
    {
        int exit = RunRataDns(["monitor", "-c", Config(), "--zmq-connect", endpoint, "-q"], out string stderr);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        exit = RunRataDns(["aggregate", "--connect", endpoint, "--http", "http://127.0.0.1:0", "--history", "none"], out stderr);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_aggregator_whose_monitor_and_redis_names_do_not_resolve_warns_keeps_serving_and_stops_cleanly()
    {
        var log = new StringWriter();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<AggregateRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = Task.Run(() => AggregateCommand.Run(
            new AggregateSettings { Endpoints = ["tcp://nohost.invalid:5556"], HttpUrl = "http://127.0.0.1:0", Redis = ("redis.invalid", 6379) },
            TextWriter.Synchronized(log),
            stop.Token,
            r => started.SetResult(r)));
        var aggregator = await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        WaitFor(() => log.ToString().Contains("redis redis.invalid:6379 *: the host name does not resolve", StringComparison.Ordinal), log);
        Assert.Contains("zmq connect tcp://nohost.invalid:5556: the host name does not resolve", log.ToString(), StringComparison.Ordinal);
        Assert.Contains("tcp://nohost.invalid:5556 (not resolved yet)", aggregator.Subscriber.Endpoints);
        stop.Cancel();
        Assert.Equal(0, await run);
    }

    [SkippableFact]
    public void A_monitor_name_that_resolves_later_is_connected_then()
    {
        Skip.IfNot(Environment.UserName == "root" && new FileInfo("/etc/hosts") is { Exists: true, IsReadOnly: false }, "needs root to add a name to /etc/hosts for the test");
        string name = $"ratadns-late-{Environment.ProcessId}-{Random.Shared.Next(1_000_000)}.test";
        int port = RedisServer.FreePort();
        var warnings = new List<string>();
        var store = new AggregatorStore();
        using var publisher = new PublisherSocket();
        publisher.Bind($"tcp://127.0.0.1:{port}");
        using var subscriber = new ZeroMqResultSubscriber(store, new SubscriberSocketOptions
        {
            Endpoints = [$"tcp://{name}:{port}"],
            Warn = w =>
            {
                lock (warnings)
                {
                    warnings.Add(w);
                }
            },
        });
        string original = File.ReadAllText("/etc/hosts");
        try
        {
            Assert.Contains(warnings, w => w.Contains("does not resolve", StringComparison.Ordinal));
            File.AppendAllText("/etc/hosts", $"\n127.0.0.1 {name}\n");

            // Publish until a result arrives: the subscriber connects once the name resolves (after 1 s, 2 s, ...).
            var clock = Stopwatch.StartNew();
            int window = 0;
            while (store.Monitors().Count == 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"nothing arrived; {string.Join(" | ", warnings)}");
                string envelope = $$$"""{"type":"RcodeCounter","serverId":"late","timeStamp":{{{window + 1}}},"data":{"NOERROR":1},"window":{"start":{{{window}}},"end":{{{window + 1}}},"sequence":{{{window}}}}}""";
                publisher.SendMoreFrame("RcodeCounter").SendFrame(Encoding.UTF8.GetBytes(envelope));
                window++;
                Thread.Sleep(100);
            }

            lock (warnings)
            {
                Assert.Contains(warnings, w => w.Contains("resolves now; connected", StringComparison.Ordinal));
            }

            Assert.Equal([$"tcp://{name}:{port}"], subscriber.Endpoints);
        }
        finally
        {
            File.WriteAllText("/etc/hosts", original);
        }
    }

    private static string Config()
    {
        string config = Path.Combine(Path.GetTempPath(), $"ratadns-unresolvable-{Environment.ProcessId}.json");
        File.WriteAllText(config, $$$"""{"ServerId": "u", "InputMethod": "capture_file", "InputSource": "{{{Sample}}}", "WindowMilliseconds": 1000, "Output": {"OutputMethod": "zmq"}}""");
        return config;
    }

    private static int RunRataDns(string[] arguments, out string stderr) =>
        ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), .. arguments], out _, out stderr, timeoutMs: 120_000);

    private static void WaitFor(Func<bool> condition, StringWriter log)
    {
        // A hang guard, not a timing.
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), log.ToString());
            Thread.Sleep(50);
        }
    }
}
