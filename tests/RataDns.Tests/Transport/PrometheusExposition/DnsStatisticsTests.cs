using System.Text;
using System.Text.Json;
using Prometheus;
using RataDns.Tests.Support;
using RataDns.Transport.PrometheusExposition;

namespace RataDns.Tests.Transport.PrometheusExposition;

/// <summary>
/// The bounds docs/prometheus.md promises (traffic-derived labels capped per server, top lists capped and replaced,
/// duplicates not counted twice, odd views skipped), checked on the exposition text that Prometheus's own
/// <c>promtool check metrics</c> accepts.
/// </summary>
public class DnsStatisticsTests
{
    [Fact]
    public void A_label_past_its_bound_is_counted_as_other_and_nothing_is_lost()
    {
        var registry = Metrics.NewCustomRegistry();
        var statistics = new DnsStatistics(registry, new DnsStatisticsOptions { MaxLabelValues = 3 });
        // Five QTYPEs in one window, three more (two new) in the next: the first three distinct values keep their label.
        statistics.ObserveWindow("ns1", "QtypeCounter", Json("""{"A": 5, "AAAA": 4, "TXT": 3, "TYPE65280": 2, "TYPE65281": 1}"""), 0);
        statistics.ObserveWindow("ns1", "QtypeCounter", Json("""{"A": 1, "TYPE65282": 7, "TYPE65280": 1}"""), 1);
        var samples = Samples(registry, "ratadns_dns_queries_total");

        Assert.Equal(6, samples["{server=\"ns1\",qtype=\"A\"}"]);
        Assert.Equal(4, samples["{server=\"ns1\",qtype=\"AAAA\"}"]);
        Assert.Equal(3, samples["{server=\"ns1\",qtype=\"TXT\"}"]);
        Assert.Equal(2 + 1 + 7 + 1, samples["{server=\"ns1\",qtype=\"other\"}"]);
        Assert.Equal(4, samples.Count);
        Assert.Equal(24, samples.Values.Sum());
    }

    [Fact]
    public void A_top_list_keeps_at_most_its_limit_and_a_name_that_left_it_leaves_the_exposition()
    {
        var registry = Metrics.NewCustomRegistry();
        var statistics = new DnsStatistics(registry, new DnsStatisticsOptions { TopLimit = 2 });
        statistics.ObserveWindow("ns1", "TopNQ", Json("""[["a.example.", 9], ["b.example.", 5], ["c.example.", 1]]"""), 0);
        var first = Samples(registry, "ratadns_dns_top_query_names");
        Assert.Equal(9, first["{server=\"ns1\",rank=\"1\",name=\"a.example.\"}"]);
        Assert.Equal(5, first["{server=\"ns1\",rank=\"2\",name=\"b.example.\"}"]);
        Assert.Equal(2, first.Count);

        statistics.ObserveWindow("ns1", "TopNQ", Json("""[["c.example.", 4], ["a.example.", 3]]"""), 1);
        var second = Samples(registry, "ratadns_dns_top_query_names");
        Assert.Equal(
            new Dictionary<string, double> { ["{server=\"ns1\",rank=\"1\",name=\"c.example.\"}"] = 4, ["{server=\"ns1\",rank=\"2\",name=\"a.example.\"}"] = 3 },
            second);
    }

    [Fact]
    public void A_result_delivered_twice_is_counted_once_and_a_restarted_monitor_counts_again()
    {
        var registry = Metrics.NewCustomRegistry();
        var statistics = new DnsStatistics(registry);
        var rcodes = Json("""{"NOERROR": 10, "NXDOMAIN": 2}""");
        statistics.ObserveWindow("ns1", "RcodeCounter", rcodes, 7);
        statistics.ObserveWindow("ns1", "RcodeCounter", rcodes, 7); // the same window again (Redis and ZeroMQ, say)
        Assert.Equal(10, Samples(registry, "ratadns_dns_responses_total")["{server=\"ns1\",rcode=\"NOERROR\"}"]);

        statistics.ObserveWindow("ns1", "RcodeCounter", rcodes, 0); // the monitor restarted: its sequence begins again
        statistics.ObserveWindow("ns2", "RcodeCounter", rcodes, 7); // another server's window 7
        var samples = Samples(registry, "ratadns_dns_responses_total");
        Assert.Equal(20, samples["{server=\"ns1\",rcode=\"NOERROR\"}"]);
        Assert.Equal(10, samples["{server=\"ns2\",rcode=\"NOERROR\"}"]);
    }

    [Fact]
    public void Latency_buckets_are_cumulative_at_each_bound_from_the_reducers_buckets()
    {
        var registry = Metrics.NewCustomRegistry();
        var statistics = new DnsStatistics(registry);
        // Buckets by upper bound in microseconds: 90 µs (<= 100 µs), 1087 µs (<= 2.5 ms), 6 s (past the last bound).
        statistics.ObserveWindow("ns1", "ResponseLatency", Json("""
            {"matched": 6, "unanswered": 1, "unsolicited": 0, "untracked": 0, "pending": 2,
             "histogram": [{"leUs": 90, "count": 3}, {"leUs": 1087, "count": 2}, {"leUs": 6000000, "count": 1}]}
            """), 0);
        var buckets = Samples(registry, "ratadns_dns_response_latency_seconds_bucket");
        Assert.Equal(3, buckets["{server=\"ns1\",le=\"0.0001\"}"]);
        Assert.Equal(3, buckets["{server=\"ns1\",le=\"0.001\"}"]);
        Assert.Equal(5, buckets["{server=\"ns1\",le=\"0.0025\"}"]);
        Assert.Equal(5, buckets["{server=\"ns1\",le=\"5\"}"]);
        Assert.Equal(6, buckets["{server=\"ns1\",le=\"+Inf\"}"]);
        Assert.Equal(1, Samples(registry, "ratadns_dns_exchanges_total")["{server=\"ns1\",outcome=\"unanswered\"}"]);
        Assert.Equal(2, Samples(registry, "ratadns_dns_pending_queries")["{server=\"ns1\"}"]);
    }

    [SkippableFact]
    public void Views_of_another_shape_are_skipped_without_an_exception_and_the_exposition_stays_valid()
    {
        var registry = Metrics.NewCustomRegistry();
        var statistics = new DnsStatistics(registry);
        string[] odd = ["null", "[]", "\"text\"", """{"A": "many", "B": -3, "C": 1e400}""", """{"top": 5}""", """[[1, 2], ["x"]]""",
            """{"histogram": [{"leUs": "a"}], "matched": true}""", """{"reasons": {"bad": 4}, "total": []}""", """{"queries": [1], "responses": {"0-x": 1}}"""];
        foreach (string type in DnsStatistics.ReadTypes)
        {
            foreach (string view in odd)
            {
                statistics.ObserveWindow("ns1", type, Json(view));
            }
        }

        Skip.IfNot(PrometheusServer.IsAvailable, PrometheusServer.MissingReason);
        int exit = ExternalTool.Run(PrometheusServer.Promtool, ["check", "metrics"], out string stdout, out string stderr, stdin: Text(registry));
        Assert.True(exit == 0, stdout + stderr);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static string Text(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The samples of one metric name in the exposition text: labels (as written) to value.</summary>
    private static Dictionary<string, double> Samples(CollectorRegistry registry, string name) =>
        Text(registry).Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
            .ToDictionary(l => l[name.Length..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
}
