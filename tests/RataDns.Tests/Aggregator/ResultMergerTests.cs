using RataDns.Aggregator;
using static RataDns.Tests.Aggregator.AggregatorTestData;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// Two monitors' windows merged over all servers: each reducer shape's merged result equals, by hand, the sum of
/// what each monitor reported (docs/wire-format.md shapes; rules in src/Aggregator/README.md).
/// </summary>
public class ResultMergerTests
{
    /// <summary>ns1: windows [0,10) and [10,15); ns2: one window [5,15).</summary>
    private static AggregatorStore TwoMonitors(string type, string ns1First, string ns1Second, string ns2)
    {
        var store = new AggregatorStore();
        store.Add(Utf8(Envelope(type, "ns1", 0, 0, 10, ns1First)));
        store.Add(Utf8(Envelope(type, "ns1", 1, 10, 15, ns1Second)));
        store.Add(Utf8(Envelope(type, "ns2", 0, 5, 15, ns2)));
        return store;
    }

    private static void AssertMerged(AggregatorStore store, string type, string expectedAll, string? expectedNs1 = null)
    {
        var all = store.Merged(type, "all", "1m")!;
        Assert.Equal(3, all.Windows);
        SameJson(expectedAll, all.Data!.Value);
        if (expectedNs1 is not null)
        {
            SameJson(expectedNs1, store.Merged(type, "ns1", "1m")!.Data!.Value);
        }
    }

    [Fact]
    public void Rates_are_count_weighted_per_server_and_add_across_servers()
    {
        // ns1: 10 qps over 10 s and 40 qps over 5 s = 300 queries in 15 s = 20 qps; ns2: 5 qps; all: 25 qps.
        var store = TwoMonitors("QueriesPerSecond", """{"qps":10}""", """{"qps":40}""", """{"qps":5}""");
        AssertMerged(store, "QueriesPerSecond", """{"qps":25}""", """{"qps":20}""");

        var pqa = TwoMonitors(
            "PacketsQueriesAndAnswersPerSecond", """{"pps":20,"qps":10,"aps":10}""", """{"pps":80,"qps":40,"aps":40}""", """{"pps":1,"qps":0.5,"aps":0.5}""");
        AssertMerged(pqa, "PacketsQueriesAndAnswersPerSecond", """{"pps":41,"qps":20.5,"aps":20.5}""");
    }

    [Fact]
    public void Counter_maps_and_nested_counters_and_histograms_add_key_wise()
    {
        AssertMerged(
            TwoMonitors("RcodeCounter", """{"NOERROR":5,"NXDOMAIN":1}""", """{"NOERROR":3}""", """{"NOERROR":2,"SERVFAIL":4}"""),
            "RcodeCounter",
            """{"NOERROR":10,"NXDOMAIN":1,"SERVFAIL":4}""",
            """{"NOERROR":8,"NXDOMAIN":1}""");
        AssertMerged(
            TwoMonitors("QueriesNameCounter", """{"a.":2}""", """{"b.":1}""", """{"a.":3}"""),
            "QueriesNameCounter",
            """{"a.":5,"b.":1}""");
        AssertMerged(
            TwoMonitors(
                "OpcodeCounter",
                """{"queries":{"QUERY":4},"responses":{"QUERY":4}}""",
                """{"queries":{"QUERY":1,"NOTIFY":1},"responses":{}}""",
                """{"queries":{"QUERY":2},"responses":{"QUERY":2}}"""),
            "OpcodeCounter",
            """{"queries":{"QUERY":7,"NOTIFY":1},"responses":{"QUERY":6}}""");
        AssertMerged(
            TwoMonitors(
                "MessageSizeHistogram",
                """{"queries":{"0-63":5,"64-127":1},"responses":{"64-127":6}}""",
                """{"queries":{"0-63":1,"64-127":0},"responses":{"64-127":1}}""",
                """{"queries":{"0-63":10,"64-127":2},"responses":{"64-127":9,"128-255":3}}"""),
            "MessageSizeHistogram",
            """{"queries":{"0-63":16,"64-127":3},"responses":{"64-127":16,"128-255":3}}""");
        AssertMerged(
            TwoMonitors(
                "EdnsCounter",
                """{"queries":10,"edns":8,"noEdns":2,"versions":{"0":8},"do":1,"clientSubnet":0,"udpSize":{"1232":8}}""",
                """{"queries":1,"edns":1,"noEdns":0,"versions":{"0":1},"do":0,"clientSubnet":1,"udpSize":{"4096":1}}""",
                """{"queries":5,"edns":5,"noEdns":0,"versions":{"0":5},"do":5,"clientSubnet":0,"udpSize":{"1232":5}}"""),
            "EdnsCounter",
            """{"queries":16,"edns":14,"noEdns":2,"versions":{"0":14},"do":6,"clientSubnet":1,"udpSize":{"1232":13,"4096":1}}""");
    }

    [Fact]
    public void Top_lists_sum_counts_per_name_and_re_rank_keeping_the_longest_length()
    {
        AssertMerged(
            TwoMonitors("TopNQ", """[["a.",5],["b.",3]]""", """[["c.",2]]""", """[["b.",4],["c.",1]]"""),
            "TopNQ",
            """[["b.",7],["a.",5]]""");

        // Ties: count descending, then the name.
        AssertMerged(
            TwoMonitors("TopN", """[["z.",2],["y.",1]]""", """[["y.",1]]""", """[["x.",2]]"""),
            "TopN",
            """[["x.",2],["y.",2]]""");
    }

    [Fact]
    public void Heavy_hitter_shapes_add_totals_counts_and_errors()
    {
        // Mergeable Space-Saving: a key a window did not list may have had up to that window's threshold there (its
        // smallest count when its list is full, as long as the longest list: 2 here; 0 when shorter), added to the
        // key's count and error. Windows: ns1 #1 (full, threshold 3), ns1 #2 (short, 0), ns2 (full, threshold 2).
        // 10.0.0.1: 4+0+2 = 6, error 1+0+2 = 3; 10.0.0.2: 3+0+2 = 5, error 0; 10.0.0.3: 3+2+2 = 7, error 3+0+2 = 5.
        AssertMerged(
            TwoMonitors(
                "TopClients",
                """{"total":10,"top":[{"client":"10.0.0.1","count":4,"error":1},{"client":"10.0.0.2","count":3,"error":0}]}""",
                """{"total":2,"top":[{"client":"10.0.0.3","count":2,"error":0}]}""",
                """{"total":6,"top":[{"client":"10.0.0.2","count":2,"error":0},{"client":"10.0.0.3","count":2,"error":2}]}"""),
            "TopClients",
            """{"total":18,"top":[{"client":"10.0.0.3","count":7,"error":5},{"client":"10.0.0.1","count":6,"error":3}]}""");

        // de.: 3 + (cl.'s window is full: threshold 4) = 7, error 4; cl.: 3 (threshold of de.'s window) + 4 = 7, error 3;
        // the empty window listed everything it saw (nothing): 0. Equal counts: by name.
        AssertMerged(
            TwoMonitors(
                "TldCounter",
                """{"total":3,"top":[{"name":"de.","count":3,"error":0}]}""",
                """{"total":0,"top":[]}""",
                """{"total":4,"top":[{"name":"cl.","count":4,"error":0}]}"""),
            "TldCounter",
            """{"total":7,"top":[{"name":"cl.","count":7,"error":3}]}""");
    }

    [Fact]
    public void Latency_histograms_add_by_bucket_and_the_percentiles_are_recomputed_from_them()
    {
        // Buckets (upper bound: count) 5:1, 15:1, 103:2 → 4 latencies, max 100.
        // p50 = rank 2 → 15; p90, p99, p999 = rank 4 → bucket 103, capped at the max 100.
        AssertMerged(
            TwoMonitors(
                "ResponseLatency",
                """{"matched":3,"unanswered":1,"unsolicited":0,"untracked":0,"pending":5,"latencyUs":{"p50":103,"p90":100,"p99":100,"p999":100,"max":100},"histogram":[{"leUs":15,"count":1},{"leUs":103,"count":2}]}""",
                """{"matched":0,"unanswered":1,"unsolicited":2,"untracked":0,"pending":2,"latencyUs":{"p50":null,"p90":null,"p99":null,"p999":null,"max":null},"histogram":[]}""",
                """{"matched":1,"unanswered":0,"unsolicited":0,"untracked":3,"pending":1,"latencyUs":{"p50":5,"p90":5,"p99":5,"p999":5,"max":5},"histogram":[{"leUs":5,"count":1}]}"""),
            "ResponseLatency",
            """{"matched":4,"unanswered":2,"unsolicited":2,"untracked":3,"pending":3,"latencyUs":{"p50":15,"p90":100,"p99":100,"p999":100,"max":100},"histogram":[{"leUs":5,"count":1},{"leUs":15,"count":1},{"leUs":103,"count":2}]}""");
    }

    [Fact]
    public void Distinct_estimates_take_each_servers_largest_and_add_across_servers()
    {
        AssertMerged(
            TwoMonitors(
                "DistinctCounter",
                """{"qnames":10,"clients":4,"precision":14,"relativeError":0.008125}""",
                """{"qnames":12,"clients":3,"precision":14,"relativeError":0.008125}""",
                """{"qnames":7,"clients":9,"precision":14,"relativeError":0.008125}"""),
            "DistinctCounter",
            """{"qnames":19,"clients":13,"precision":14,"relativeError":0.008125}""");
    }

    [Fact]
    public void Lists_concatenate_summaries_unite_and_an_unknown_type_is_reported_not_merged()
    {
        AssertMerged(
            TwoMonitors(
                "AlonePackets",
                """{"queries":5,"answers":4,"AloneQueries":[{"id":1,"client":"10.0.0.1","port":53,"qname":"a.","count":1}],"AloneAnswers":[]}""",
                """{"queries":1,"answers":1,"AloneQueries":[],"AloneAnswers":[]}""",
                """{"queries":2,"answers":1,"AloneQueries":[{"id":2,"client":"10.0.0.2","port":53,"qname":"b.","count":1}],"AloneAnswers":[]}"""),
            "AlonePackets",
            """{"queries":8,"answers":6,"AloneQueries":[{"id":1,"client":"10.0.0.1","port":53,"qname":"a.","count":1},{"id":2,"client":"10.0.0.2","port":53,"qname":"b.","count":1}],"AloneAnswers":[]}""");
        AssertMerged(
            TwoMonitors(
                "QueriesSummary",
                """{"10.0.0.1":{"A":["a.","b."]}}""",
                """{"10.0.0.1":{"A":["b.","c."],"MX":["m."]}}""",
                """{"10.0.0.2":{"A":["a."]}}"""),
            "QueriesSummary",
            """{"10.0.0.1":{"A":["a.","b.","c."],"MX":["m."]},"10.0.0.2":{"A":["a."]}}""");
        AssertMerged(
            TwoMonitors(
                "MalformedCounter",
                """{"total":10,"malformed":1,"reasons":{"ok":{"count":9,"examples":[]},"Truncated":{"count":1,"examples":[{"client":"10.0.0.1","qname":null,"offset":12,"section":"question","size":12}]}}}""",
                """{"total":5,"malformed":0,"reasons":{"ok":{"count":5,"examples":[]}}}""",
                """{"total":1,"malformed":1,"reasons":{"Truncated":{"count":1,"examples":[{"client":"10.0.0.2","qname":null,"offset":12,"section":"question","size":12}]}}}"""),
            "MalformedCounter",
            """{"total":16,"malformed":2,"reasons":{"ok":{"count":14,"examples":[]},"Truncated":{"count":2,"examples":[{"client":"10.0.0.1","qname":null,"offset":12,"section":"question","size":12},{"client":"10.0.0.2","qname":null,"offset":12,"section":"question","size":12}]}}}""");

        // A type no reducer here makes, sent without state: never "newest wins", reported instead.
        var unknown = TwoMonitors("MyPluginReducer", """{"v":1}""", """{"v":2}""", """{"v":3}""").Merged("MyPluginReducer", "all", "1m")!;
        Assert.Null(unknown.Data);
        Assert.Equal("none", unknown.Merge);
        Assert.True(unknown.Approximate);
        Assert.Contains(unknown.Problems, p => p.Contains("MyPluginReducer is not a built-in reducer and no plugin assembly was given", StringComparison.Ordinal));
    }

    [Fact]
    public void Concatenated_lists_stop_at_the_configured_length()
    {
        var store = new AggregatorStore(new AggregatorOptions { MaxListItems = 2 });
        for (int i = 0; i < 3; i++)
        {
            store.Add(Utf8(Envelope("QueriesWithUnderscoredName", "ns1", i, i, i + 1, $$"""{"a_b.":[{"sender":"10.0.0.{{i}}"}]}""")));
        }

        SameJson("""{"a_b.":[{"sender":"10.0.0.0"},{"sender":"10.0.0.1"}]}""", store.Merged("QueriesWithUnderscoredName", "all", "1m")!.Data!.Value);
    }
}
