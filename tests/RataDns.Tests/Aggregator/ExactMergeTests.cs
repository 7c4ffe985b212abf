using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RataDns.Aggregator;
using RataDns.App.Commands;
using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Plugins;
using RataDns.Tests.Conformance;
using RataDns.Tests.Reducers.Plugins;
using RataDns.Tests.Support;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// Exact beyond one window: a generated capture (400 s of traffic) is split by tshark into two halves by client
/// (each exchange in one half), two monitors reduce them in 10 s windows (40 windows each, one in MessagePack and
/// one in JSON) and publish on ZeroMQ to an aggregator; over 1 minute, 5 minutes and the whole run, the
/// aggregator's merged results equal what ONE monitor writes for the same packets (cut by editcap) in ONE window:
/// exactly for every counter, histogram, name table, sketch and the plugin reducer, rates as counts over the span,
/// response latency over the whole run (a sub-span cuts exchanges at its edges). Independently, tshark's own counts
/// of the capture give the rcodes, qtypes and queries, bound each TopNQ count, and the distinct names.
/// </summary>
[Collection(NetMqCollection.Name)]
public class ExactMergeTests
{
    private const string Tshark = "/usr/bin/tshark";
    private const string Editcap = "/usr/bin/editcap";

    /// <summary>
    /// Options: the tables and name summaries hold every key of the run, so their merges are exact (the TopNQ counts
    /// are still checked against tshark's), while TopClients keeps 50 clients of many, so its counts are bounds.
    /// </summary>
    private static readonly Dictionary<string, string> Options = new()
    {
        ["QueriesSummary"] = "\"Capacity\": 25000", ["PacketSummary"] = "\"Capacity\": 25000",
        ["QueriesWithUnderscoredName"] = "\"Capacity\": 25000", ["PacketHasUnderscore"] = "\"Capacity\": 25000",
        ["QueriesNameCounter"] = "\"Capacity\": 30000", ["AnswersNameCounter"] = "\"Capacity\": 30000", ["NameCounter"] = "\"Capacity\": 30000",
        ["TopN"] = "\"N\": 10, \"Capacity\": 30000", ["TopNQ"] = "\"N\": 10, \"Capacity\": 30000",
        ["TldCounter"] = "\"Capacity\": 30000", ["SldCounter"] = "\"Capacity\": 30000", ["TopNxdomainNames"] = "\"Capacity\": 30000",
        ["TopRefusedNames"] = "\"Capacity\": 30000", ["TopServfailNames"] = "\"Capacity\": 30000",
        ["TopClients"] = "\"N\": 20, \"Capacity\": 50", ["DoBitRatio"] = "\"IncludeResponses\": true",
    };

    /// <summary>
    /// Every built-in type but AlonePackets (its view is per window by definition: queries without an answer in the same
    /// window), and the example plugin.
    /// </summary>
    private static readonly string[] Types = [.. ReducerRegistry.KnownTypes.Where(t => t != "AlonePackets"), "DoBitRatio"];

    [SkippableFact]
    public async Task Two_monitors_over_many_windows_merge_in_the_aggregator_as_one_monitor_over_all_of_it_in_one_window()
    {
        Skip.IfNot(File.Exists(Tshark) && File.Exists(Editcap), "tshark and editcap are needed (scripts/setup.sh installs them)");
        Skip.IfNot(File.Exists(PluginTestSupport.ExampleDll), $"{PluginTestSupport.ExampleDll} is built with the solution");
        string dir = Directory.CreateTempSubdirectory("ratadns-exact-").FullName;
        try
        {
            string all = Path.Combine(dir, "all.pcap");
            RataDns.App.Gen.SyntheticCapture.Write(all, 40_000, seed: 11, packetsPerSecond: 100);

            // tshark splits it by the client's port parity: both directions of an exchange land in the same half.
            const string even = "(udp.dstport == 53 && udp.srcport % 2 == 0) || (udp.srcport == 53 && udp.dstport % 2 == 0)"
                + " || (tcp.dstport == 53 && tcp.srcport % 2 == 0) || (tcp.srcport == 53 && tcp.dstport % 2 == 0)";
            var halves = new Dictionary<string, string> { ["even"] = Path.Combine(dir, "even.pcap"), ["odd"] = Path.Combine(dir, "odd.pcap") };
            Tool(Tshark, ["-r", all, "-Y", even, "-w", halves["even"]]);
            Tool(Tshark, ["-r", all, "-Y", $"!({even})", "-w", halves["odd"]]);

            var catalog = new ReducerCatalog([new PluginAssemblyReference(PluginTestSupport.ExampleDll, "test")]);
            var store = new AggregatorStore(new AggregatorOptions
            {
                Spans = [new("1m", TimeSpan.FromMinutes(1)), new("5m", TimeSpan.FromMinutes(5)), new("run", TimeSpan.FromDays(1))],
                Catalog = catalog,
            });

            // Each monitor's PUB socket binds; the aggregator's SUB connects to both and is warmed up (a late joiner
            // would miss the first windows), then the monitors run in this process on those sockets.
            var publishers = halves.Keys.ToDictionary(k => k, k => new ZeroMqPublisher(new ZeroMqOptions
            {
                Endpoints = ["tcp://127.0.0.1:*"],
                Encoding = k == "even" ? ZeroMqEncoding.MessagePack : ZeroMqEncoding.Json,
                SendHighWatermark = 0,
                QueueCapacity = 4096,
                Linger = TimeSpan.FromSeconds(60),
            }));
            using var subscriber = new ZeroMqResultSubscriber(store, new SubscriberSocketOptions { Endpoints = [.. publishers.Values.Select(p => p.Endpoints[0])] });
            foreach (var (server, publisher) in publishers)
            {
                // Warm-up results until one arrives: the subscription is then in place (the bound is a count of
                // attempts, the test asserts nothing about how long it takes).
                byte[] warmUp = System.Text.Encoding.UTF8.GetBytes("{\"type\":\"WarmUp\",\"serverId\":\"" + server + "\",\"timeStamp\":1,\"data\":{}}");
                for (int attempt = 0; attempt < 1000 && WarmUps(store, server) == 0; attempt++)
                {
                    publisher.Publish(new ResultEnvelope("WarmUp", server, "WarmUp", warmUp));
                    await Task.Delay(50);
                }

                Assert.True(WarmUps(store, server) > 0, $"{server}: no warm-up result arrived in 1000 attempts");
            }

            var windows = new Dictionary<string, int>();
            long accepted = 0;
            foreach (var (server, capture) in halves)
            {
                var configuration = Configuration(server, capture, "\"WindowMilliseconds\": 10000", """{"OutputMethod": "zmq"}""");
                var publisher = publishers[server];
                var errors = new StringWriter();
                // The run closes its outputs at the end; the socket stays open here until everything has arrived (in
                // the program, NetMQConfig.Cleanup at exit waits for the linger; in a test process nothing does).
                var kept = new KeptOpenChannel(publisher);
                Assert.True(0 == MonitorCommand.Run(configuration, null, errors, default, new MonitorRunOptions { PinThreads = false, ZeroMq = () => kept, Statistics = true }), errors.ToString());
                Assert.True(publisher.Statistics.Dropped == 0, errors.ToString());
                accepted += kept.Accepted;
            }

            // Every result both monitors published: the publishers took them (counted as they were handed over: the
            // socket threads may still be sending when the runs return, so their Sent count is not final yet) and,
            // the subscription being in place with no high-water mark, deliver each.
            long expected = accepted;
            long Stored() => store.Monitors().Sum(m => m.Windows) - publishers.Keys.Sum(k => WarmUps(store, k));
            for (int attempt = 0; attempt < 1200 && Stored() < expected; attempt++)
            {
                await Task.Delay(100);
            }

            Assert.Equal(expected, Stored());
            foreach (string server in halves.Keys)
            {
                var history = store.History("RcodeCounter", server, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue);
                windows[server] = history.Count;
                Assert.True(history.Count >= 40, $"{server}: {history.Count} windows; {subscriber.Received} received, {store.StateErrors} state errors, {store.Rejected} rejected");
            }

            foreach (var publisher in publishers.Values)
            {
                publisher.Dispose();
            }

            Assert.Equal(0, subscriber.DecodeErrors);
            Assert.Equal(0, store.StateErrors);
            Assert.All(store.Monitors(), m => Assert.Equal(0, m.SequenceGaps));

            foreach (string span in new[] { "1m", "5m", "run" })
            {
                var merged = Types.ToDictionary(t => t, t => store.Merged(t, "all", span)!);
                var first = merged["RcodeCounter"];
                Assert.All(merged.Values, m => Assert.Equal((first.From, first.To), (m.From, m.To)));
                Assert.All(merged.Values, m => Assert.True(m.Merge == "state" && !m.Approximate, $"{m.Type} over {span}: {m.Merge}, {string.Join("; ", m.Problems)}"));
                long windowCount = span == "1m" ? 2 * 5 : span == "5m" ? 2 * 29 : windows.Values.Sum();
                Assert.True(merged["RcodeCounter"].Windows >= windowCount, $"{span}: {merged["RcodeCounter"].Windows} windows");

                // The reference: the same packets (the whole capture cut to the span by editcap), one monitor, one window.
                string cut = Path.Combine(dir, $"cut-{span}.pcap");
                Tool(Editcap, ["-A", Seconds(first.From), "-B", Seconds(first.To.AddTicks(span == "run" ? 10 : 0)), all, cut]);
                var reference = OneWindow(cut, dir);
                Compare(span, merged, reference);
                CompareWithTshark(span, merged, cut);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The merged views against one monitor's single window over the same packets.</summary>
    private static void Compare(string span, Dictionary<string, MergedResult> merged, Dictionary<string, JsonElement> reference)
    {
        foreach (string type in Types)
        {
            var ours = merged[type];
            var theirs = reference[type];
            var data = ours.Data!.Value;
            var referenceData = theirs.GetProperty("data");
            switch (type)
            {
                case "QueriesPerSecond" or "AnswersPerSecond" or "PacketsPerSecond" or "PacketsQueriesAndAnswersPerSecond":
                    // A rate is a count over a span: the merged span is the windows' (aligned 10 s bounds), the
                    // reference's from its first to its last packet, so the counts (rate × span) are compared.
                    double ourSeconds = (ours.To - ours.From).TotalSeconds;
                    var window = theirs.GetProperty("window");
                    double referenceSeconds = window.GetProperty("end").GetDouble() - window.GetProperty("start").GetDouble();
                    foreach (var property in referenceData.EnumerateObject())
                    {
                        double expected = property.Value.GetDouble() * referenceSeconds;
                        Assert.Equal(expected, data.GetProperty(property.Name).GetDouble() * ourSeconds, Math.Max(1e-6, expected * 1e-9));
                    }

                    break;
                case "ResponseLatency" when span != "run":
                    break; // a sub-span cuts exchanges at its edges: a query before it answered inside it
                case "TopClients":
                    break; // Capacity 50, fewer than the clients: bounded, checked against tshark below
                case "TopN" or "TopNQ":
                    // The aggregator adds each pair's error term: zero here (fewer names than Capacity).
                    var pairs = new JsonArray();
                    foreach (var pair in data.EnumerateArray())
                    {
                        Assert.Equal(0, pair[2].GetInt64());
                        pairs.Add(new JsonArray(pair[0].GetString(), pair[1].GetInt64()));
                    }

                    Assert.Equal(referenceData.GetRawText(), pairs.ToJsonString());
                    break;
                default:
                    Assert.True(
                        JsonNode.DeepEquals(JsonNode.Parse(referenceData.GetRawText()), JsonNode.Parse(data.GetRawText())),
                        $"{type} over {span}:\n merged    {Shorten(data.GetRawText())}\n reference {Shorten(referenceData.GetRawText())}");
                    break;
            }
        }
    }

    /// <summary>tshark's own counts of the same packets.</summary>
    private static void CompareWithTshark(string span, Dictionary<string, MergedResult> merged, string capture)
    {
        var messages = TsharkConformance.ParseTsharkMessages(Tool(Tshark, ["-r", capture, .. Split(TsharkConformance.TsharkFieldArguments), .. Split(TsharkConformance.TsharkExtraFieldArguments)]));
        Assert.NotEmpty(messages);
        var queries = messages.Where(m => !m.IsResponse).ToList();

        // Rcodes of responses (the 12-bit rcode with EDNS), by the IANA mnemonics.
        var rcodes = messages.Where(m => m.IsResponse)
            .GroupBy(m => Rcodes.GetValueOrDefault(((m.ExtendedRcodeHigh ?? 0) << 4) | (m.Flags & 0xF), "?"))
            .ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(rcodes.OrderBy(r => r.Key), Counts(merged["RcodeCounter"]).OrderBy(r => r.Key));

        // Question types of queries (every question).
        var qtypes = queries.SelectMany(m => m.Questions).GroupBy(q => Qtypes.GetValueOrDefault(q.Type, "TYPE" + q.Type)).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(qtypes.OrderBy(r => r.Key), Counts(merged["QtypeCounter"]).OrderBy(r => r.Key));

        // Queries: qps × the span.
        double qps = merged["QueriesPerSecond"].Data!.Value.GetProperty("qps").GetDouble();
        Assert.Equal(queries.Count, qps * (merged["QueriesPerSecond"].To - merged["QueriesPerSecond"].From).TotalSeconds, 1e-6 * queries.Count);

        // TopNQ: each count within its Space-Saving bound of the true count of its name.
        var names = queries.SelectMany(m => m.Questions).GroupBy(q => TsharkConformance.ToTsharkDisplay(q.Name).ToLowerInvariant().TrimEnd('.') + ".")
            .ToDictionary(g => g.Key, g => (long)g.Count());
        foreach (var pair in merged["TopNQ"].Data!.Value.EnumerateArray())
        {
            long count = pair[1].GetInt64();
            long error = pair[2].GetInt64();
            long truth = names.GetValueOrDefault(pair[0].GetString()!);
            Assert.True(count - error <= truth && truth <= count, $"{span}: {pair[0]} count {count} error {error}, tshark {truth}");
        }

        // TopClients: 50 clients kept of many: each listed count bounds the true count of queries from that client.
        var clients = Tool(Tshark, ["-r", capture, "-Y", "dns.flags.response == 0", "-T", "fields", "-e", "ip.src", "-e", "ipv6.src"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Replace("\t", "", StringComparison.Ordinal).Trim())
            .GroupBy(c => c).ToDictionary(g => g.Key, g => (long)g.Count());
        var top = merged["TopClients"].Data!.Value;
        Assert.Equal(queries.Count, top.GetProperty("total").GetInt64());
        Assert.Contains(top.GetProperty("top").EnumerateArray(), e => e.GetProperty("error").GetInt64() > 0);
        foreach (var entry in top.GetProperty("top").EnumerateArray())
        {
            long count = entry.GetProperty("count").GetInt64();
            long error = entry.GetProperty("error").GetInt64();
            long truth = clients.GetValueOrDefault(entry.GetProperty("client").GetString()!);
            Assert.True(count - error <= truth && truth <= count, $"{span}: client {entry} tshark {truth}");
        }

        // DistinctCounter: the merged sketch's estimate within 4 standard errors of the distinct names tshark saw.
        var distinct = merged["DistinctCounter"].Data!.Value;
        double relative = distinct.GetProperty("relativeError").GetDouble();
        Assert.InRange(distinct.GetProperty("qnames").GetInt64(), names.Count * (1 - (4 * relative)), names.Count * (1 + (4 * relative)));
    }

    /// <summary>Rcode mnemonics (IANA "DNS RCODEs"), written down here rather than taken from the code under test.</summary>
    private static readonly Dictionary<int, string> Rcodes = new()
    {
        [0] = "NOERROR", [1] = "FORMERR", [2] = "SERVFAIL", [3] = "NXDOMAIN", [4] = "NOTIMP", [5] = "REFUSED",
        [6] = "YXDOMAIN", [7] = "YXRRSET", [8] = "NXRRSET", [9] = "NOTAUTH", [10] = "NOTZONE", [16] = "BADVERS",
    };

    /// <summary>Query type mnemonics (IANA "Resource Record (RR) TYPEs") of the numbers tshark prints.</summary>
    private static readonly Dictionary<string, string> Qtypes = new()
    {
        ["1"] = "A", ["2"] = "NS", ["5"] = "CNAME", ["6"] = "SOA", ["12"] = "PTR", ["15"] = "MX", ["16"] = "TXT",
        ["28"] = "AAAA", ["33"] = "SRV", ["35"] = "NAPTR", ["43"] = "DS", ["48"] = "DNSKEY", ["64"] = "SVCB",
        ["65"] = "HTTPS", ["255"] = "ANY",
    };

    private static int WarmUps(AggregatorStore store, string server) =>
        store.History("WarmUp", server, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue).Count;

    private static IEnumerable<KeyValuePair<string, long>> Counts(MergedResult merged) =>
        merged.Data!.Value.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt64()));

    /// <summary>One monitor over <paramref name="capture"/> in one window (more packets than it has), every type, to a file.</summary>
    private static Dictionary<string, JsonElement> OneWindow(string capture, string dir)
    {
        string output = Path.Combine(dir, "reference.ndjson");
        File.Delete(output);
        var configuration = Configuration("reference", capture, "\"WindowSize\": 100000000", $$"""{"OutputMethod": "file", "OutputFile": "{{output}}"}""");
        var errors = new StringWriter();
        Assert.True(0 == MonitorCommand.Run(configuration, null, errors, default, new MonitorRunOptions { PinThreads = false }), errors.ToString());
        var results = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(Types.Length, results.Count);
        return results.ToDictionary(r => r.GetProperty("type").GetString()!, r => r);
    }

    private static MonitorConfiguration Configuration(string server, string capture, string window, string output)
    {
        string reducers = string.Join(", ", Types.Select(t => Options.TryGetValue(t, out string? o) ? $$"""{"Name": "{{t}}", {{o}}}""" : $$"""{"Name": "{{t}}"}"""));
        return MonitorConfigurationLoader.Parse(
            $$"""
            {"ServerId": "{{server}}", {{window}}, "InputMethod": "capture_file", "InputSource": "{{capture}}", "Workers": 2,
             "ReducerAssemblies": ["{{PluginTestSupport.ExampleDll}}"],
             "Output": {{output}}, "PreliminarReducers": [{{reducers}}]}
            """,
            Path.Combine(Path.GetTempPath(), "exact.json"));
    }

    private static string Tool(string file, IEnumerable<string> arguments)
    {
        int exit = ExternalTool.Run(file, arguments, out string stdout, out string stderr, timeoutMs: 300_000);
        Assert.True(exit == 0, $"{file} {string.Join(' ', arguments)}: exit {exit}: {stderr}");
        return stdout;
    }

    private static string[] Split(string arguments)
    {
        // TsharkFieldArguments: plain words, no quoting.
        return arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string Seconds(DateTimeOffset time) =>
        ((time - DateTimeOffset.UnixEpoch).Ticks / (decimal)TimeSpan.TicksPerSecond).ToString("0.0000000", CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length > 600 ? text[..600] + "..." : text;

    /// <summary>A channel whose Dispose leaves the publisher open (the test closes it once the aggregator has everything).</summary>
    private sealed class KeptOpenChannel(IResultChannel inner) : IResultChannel
    {
        public ChannelStatistics Statistics => inner.Statistics;

        public bool CarriesState => inner.CarriesState;

        /// <summary>Results the run handed over and the publisher took (queued; its socket thread sends them later).</summary>
        public long Accepted { get; private set; }

        public string Describe() => inner.Describe();

        public bool Publish(in ResultEnvelope result)
        {
            bool accepted = inner.Publish(result);
            if (accepted)
            {
                Accepted++;
            }

            return accepted;
        }

        public void EndOfWindow() => inner.EndOfWindow();

        public void Dispose()
        {
        }
    }
}
