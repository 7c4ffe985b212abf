using System.Text;
using RataDns.Aggregator;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Original;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The aggregator's /metrics: counters add every window of every server; a server's gauges are its latest window's;
/// <c>server="all"</c> is the merge of every server's latest window (counts known from the generated queries); a
/// server gone stale loses its gauges.
/// </summary>
public class AggregatorMetricsTests
{
    [Fact]
    public void Counters_add_every_window_and_all_servers_gauges_merge_each_servers_latest_window()
    {
        var now = DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var store = new AggregatorStore(new AggregatorOptions { Clock = () => now, StaleAfter = TimeSpan.FromSeconds(30) });
        var metrics = new AggregatorMetrics(store);

        // ns1: windows 0 and 1; ns2: window 0. Window w of a server asks "a.example" 3 + w times and "b.example" once,
        // with NOERROR responses; ns2 also asks "c.example" 5 times.
        store.Add(Envelope("ns1", 0, ("a.example", 3), ("b.example", 1)));
        store.Add(Envelope("ns1", 1, ("a.example", 4), ("b.example", 1)));
        store.Add(Envelope("ns2", 0, ("a.example", 3), ("b.example", 1), ("c.example", 5)));
        foreach (var (type, server, window, queries) in new[] { ("RcodeCounter", "ns1", 0, 4), ("RcodeCounter", "ns1", 1, 5), ("RcodeCounter", "ns2", 0, 9) })
        {
            store.Add(Envelope(server, window, type, ("a.example", queries)));
        }

        var samples = Samples(metrics);
        Assert.Equal(9, samples["ratadns_dns_responses_total{server=\"ns1\",rcode=\"NOERROR\"}"]);
        Assert.Equal(9, samples["ratadns_dns_responses_total{server=\"ns2\",rcode=\"NOERROR\"}"]);
        Assert.Equal(4, samples["ratadns_dns_top_query_names{server=\"ns1\",rank=\"1\",name=\"a.example.\"}"]);
        Assert.Equal(5, samples["ratadns_dns_top_query_names{server=\"ns2\",rank=\"1\",name=\"c.example.\"}"]);
        Assert.Equal(4 + 3, samples["ratadns_dns_top_query_names{server=\"all\",rank=\"1\",name=\"a.example.\"}"]);
        Assert.Equal(5, samples["ratadns_dns_top_query_names{server=\"all\",rank=\"2\",name=\"c.example.\"}"]);
        Assert.Equal(2, samples["ratadns_dns_top_query_names{server=\"all\",rank=\"3\",name=\"b.example.\"}"]);

        // ns2 goes quiet for longer than the stale timeout, ns1 sends one more window: ns2's gauges go, "all" is ns1's.
        now = now.AddMinutes(1);
        store.Add(Envelope("ns1", 2, ("a.example", 6)));
        samples = Samples(metrics);
        Assert.DoesNotContain(samples.Keys, k => k.StartsWith("ratadns_dns_top_query_names{server=\"ns2\"", StringComparison.Ordinal));
        Assert.Equal(6, samples["ratadns_dns_top_query_names{server=\"all\",rank=\"1\",name=\"a.example.\"}"]);
        Assert.Equal(1, samples["ratadns_aggregator_stale_monitors"]);
    }

    private static byte[] Envelope(string server, int window, params (string Name, int Count)[] names) => Envelope(server, window, "TopNQ", names);

    private static byte[] Envelope(string server, int window, string type, params (string Name, int Count)[] names)
    {
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        var packets = new List<TestPacket>();
        ushort id = 0;
        foreach (var (name, count) in names)
        {
            for (int i = 0; i < count; i++)
            {
                id++;
                long time = (window * 10 * ReducerTestSupport.Second) + id;
                packets.Add(ReducerTestSupport.Query(id, "10.0.0.1", (ushort)(1000 + id), time, (name, 1)));
                packets.Add(ReducerTestSupport.Response(id, "10.0.0.1", (ushort)(1000 + id), time + 1000, (name, 1)));
            }
        }

        ReducerTestSupport.ObserveAll(reducer, packets);
        long start = window * 10 * ReducerTestSupport.Second;
        string data = ReducerTestSupport.Data(reducer, new ReducerWindow(start, start + (10 * ReducerTestSupport.Second), packets.Count));
        string state = Convert.ToBase64String(ReducerState.ToArray(reducer));
        return Encoding.UTF8.GetBytes(
            $"{{\"type\":\"{type}\",\"serverId\":\"{server}\",\"timeStamp\":{(window + 1) * 10},\"data\":{data},"
            + $"\"window\":{{\"start\":{window * 10},\"end\":{(window + 1) * 10},\"packets\":{packets.Count},\"drops\":0,\"sequence\":{window}}},\"state\":\"{state}\"}}");
    }

    private static Dictionary<string, double> Samples(AggregatorMetrics metrics)
    {
        using var stream = new MemoryStream();
        metrics.Registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(stream.ToArray()).Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
