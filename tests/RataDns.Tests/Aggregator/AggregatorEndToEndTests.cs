using System.Text.Json;
using RataDns.Aggregator;
using RataDns.App.Commands;
using RataDns.Configuration;
using RataDns.Tests.Support;
using RataDns.Transport.ZeroMq;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// Two real monitors (<c>ratadns monitor</c> processes, two different captures, different ServerIds) publish on ZeroMQ to a subscriber
/// that binds; the store's merged results over all servers equal the sums of the two runs' JSON-mode results.
/// </summary>
[Collection(NetMqCollection.Name)]
public class AggregatorEndToEndTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    private const string Reducers = """[{"Name": "QueriesPerSecond"}, {"Name": "RcodeCounter"}]""";

    [Fact]
    public async Task Two_monitors_publishing_to_a_binding_subscriber_merge_to_the_sum_of_their_json_results()
    {
        // Two different captures: the bundled sample, and 3,000 packets of another traffic model seed at 300/s.
        string other = Path.Combine(Path.GetTempPath(), $"ratadns-agg-{Environment.ProcessId}.pcap");
        RataDns.App.Gen.SyntheticCapture.Write(other, 3000, seed: 7, packetsPerSecond: 300);
        var captures = new Dictionary<string, string> { ["mon-a"] = Sample, ["mon-b"] = other };

        // The reference: each monitor's JSON-mode results, to a file (1 s time windows: the same at any speed).
        var expected = new Dictionary<string, List<JsonElement>>();
        foreach (string server in new[] { "mon-a", "mon-b" })
        {
            string file = Path.GetTempFileName();
            try
            {
                var run = MonitorConfigurationLoader.Parse($$"""
                    {"ServerId": "{{server}}", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{captures[server]}}",
                     "Output": {"OutputMethod": "file", "OutputFile": "{{file}}"}, "PreliminarReducers": {{Reducers}} }
                    """, "file.json");
                Assert.Equal(0, MonitorCommand.Run(run, null, new StringWriter(), default, new MonitorRunOptions { PinThreads = false }));
                expected[server] = [.. File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
            }
            finally
            {
                File.Delete(file);
            }
        }

        var store = new AggregatorStore();
        using var subscriber = new ZeroMqResultSubscriber(store, new SubscriberSocketOptions { Endpoints = ["tcp://127.0.0.1:*"], Bind = true });
        string endpoint = subscriber.Endpoints.Single();
        var errors = new StringWriter();

        // The monitors run as processes: in this one, a monitor's exit calls NetMQConfig.Cleanup, which would end the
        // subscriber's socket too (and the other monitor's).
        var runs = new[] { "mon-a", "mon-b" }.Select(server => Task.Run(() =>
        {
            string config = Path.GetTempFileName();
            try
            {
                File.WriteAllText(config, $$"""
                    {"ServerId": "{{server}}", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{captures[server]}}", "Speed": 2,
                     "ZeroMq": {"Connect": "{{endpoint}}", "Encoding": "{{(server == "mon-a" ? "msgpack" : "json")}}"},
                     "Output": {"OutputMethod": "zmq"}, "PreliminarReducers": {{Reducers}} }
                    """);
                int exit = ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "-c", config], out _, out string stderr);
                lock (errors)
                {
                    errors.Write(stderr);
                }

                return exit;
            }
            finally
            {
                File.Delete(config);
            }
        })).ToArray();
        Assert.All(await Task.WhenAll(runs), exit => Assert.True(exit == 0, errors.ToString()));

        // A connecting monitor's first windows may go out before its subscription handshake ends (ZeroMQ's late
        // joiner), so how many arrive is not known in advance; but each monitor's results come in order over one
        // connection, so once its last result of each type is stored, everything of it that will arrive has. Wait
        // for that (a hang guard, not a quiet period), then compare with the reference windows that did arrive.
        int total = expected.Values.Sum(e => e.Count);
        var lastResults = expected.SelectMany(e => e.Value.GroupBy(r => r.GetProperty("type").GetString()!).Select(g => (Server: e.Key, Type: g.Key, End: g.Max(End)))).ToList();
        bool AllLastResultsStored() => lastResults.All(l => store.History(l.Type, l.Server, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue).Any(h => h.To == l.End));
        string Status() => $"{store.Monitors().Sum(m => m.Windows)} of {total} results received: {string.Join(", ", store.Monitors().Select(m => $"{m.ServerId}: {m.Windows}, {m.SequenceGaps} gaps"))}";
        for (var patience = System.Diagnostics.Stopwatch.StartNew(); !AllLastResultsStored(); await Task.Delay(50))
        {
            Assert.True(patience.Elapsed < TimeSpan.FromSeconds(60), $"the monitors' last results never arrived ({Status()}); {errors}");
        }

        long seen = store.Monitors().Sum(m => m.Windows);

        Assert.Equal(0, subscriber.DecodeErrors);
        Assert.Null(subscriber.Failure);
        Assert.All(store.Monitors(), m => Assert.Equal(0, m.SequenceGaps));
        foreach (var (server, results) in expected)
        {
            var received = new HashSet<(string, DateTimeOffset)>();
            foreach (string type in new[] { "QueriesPerSecond", "RcodeCounter" })
            {
                received.UnionWith(store.History(type, server, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue).Select(h => (type, h.To)));
            }

            results.RemoveAll(r => !received.Contains((r.GetProperty("type").GetString()!, End(r))));
        }

        Assert.Equal(seen, expected.Values.Sum(e => e.Count));

        // RcodeCounter: every window of both monitors, added.
        var rcodes = new Dictionary<string, long>();
        foreach (var result in expected.Values.SelectMany(e => e).Where(r => r.GetProperty("type").GetString() == "RcodeCounter"))
        {
            foreach (var property in result.GetProperty("data").EnumerateObject())
            {
                rcodes[property.Name] = rcodes.GetValueOrDefault(property.Name) + property.Value.GetInt64();
            }
        }

        var merged = store.Merged("RcodeCounter", "all", "1d")!;
        Assert.Equal(expected.Values.Sum(e => e.Count(r => r.GetProperty("type").GetString() == "RcodeCounter")), merged.Windows);
        Assert.Equal(rcodes.OrderBy(r => r.Key), merged.Data!.Value.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt64())).OrderBy(r => r.Key));
        Assert.True(rcodes.Values.Sum() > 0);

        // QueriesPerSecond, merged from the monitors' states: every query of both monitors (rate × window length of
        // each window) over the span from the first window's start to the last one's end, as one monitor seeing all
        // that traffic in one window would report it.
        double queries = 0;
        double first = double.MaxValue;
        double last = double.MinValue;
        foreach (var result in expected.Values.SelectMany(e => e).Where(r => r.GetProperty("type").GetString() == "QueriesPerSecond"))
        {
            var window = result.GetProperty("window");
            double start = window.GetProperty("start").GetDouble();
            double end = window.GetProperty("end").GetDouble();
            queries += result.GetProperty("data").GetProperty("qps").GetDouble() * (end - start);
            first = Math.Min(first, start);
            last = Math.Max(last, end);
        }

        double qps = queries / (last - first);
        var mergedRate = store.Merged("QueriesPerSecond", "all", "1d")!;
        Assert.Equal("state", mergedRate.Merge);
        Assert.False(mergedRate.Approximate);
        double mergedQps = mergedRate.Data!.Value.GetProperty("qps").GetDouble();
        Assert.Equal(qps, mergedQps, 1e-9 * qps);
        Assert.True(qps > 0);
        File.Delete(other);
    }

    private static DateTimeOffset End(JsonElement result) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(result.GetProperty("window").GetProperty("end").GetDouble() * TimeSpan.TicksPerSecond));
}
