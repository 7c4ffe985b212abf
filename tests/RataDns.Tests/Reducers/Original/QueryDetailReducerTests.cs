using RataDns.Reducers.Original;
using static RataDns.Tests.Reducers.Original.NameReducerTests;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Original;

public class QueryDetailReducerTests
{
    private const string Ldap = """{"sender":"10.0.0.2","server":"192.0.2.53","query":{"qname":"_ldap._tcp.corp.","qtype":"A","qclass":"IN"}}""";
    private const string Sip = """{"sender":"10.0.0.2","server":"192.0.2.53","query":{"qname":"_SIP.example.com.","qtype":"NS","qclass":"IN"}}""";

    [Fact]
    public void QueriesWithUnderscoredName_groups_distinct_queries_by_lowercase_name()
    {
        var reducer = new QueriesWithUnderscoredNameReducer();
        ObserveAll(reducer, MixedTraffic());
        AssertJson($$"""{"_ldap._tcp.corp.":[{{Ldap}}],"_sip.example.com.":[{{Sip}}]}""", Data(reducer));
        Assert.Equal(0, reducer.DroppedQueries);
    }

    [Fact]
    public void QueriesWithUnderscoredName_keeps_at_most_its_capacity_and_counts_the_rest()
    {
        var reducer = new QueriesWithUnderscoredNameReducer(capacity: 2);
        for (int i = 0; i < 5; i++)
        {
            Query(1, "10.0.0.1", 1, 0, ($"_x{i}.example", 1)).ObserveIn(reducer);
        }

        Assert.Equal(2, ParseData(reducer).EnumerateObject().Count());
        Assert.Equal(3, reducer.DroppedQueries);
    }

    [Fact]
    public void PacketHasUnderscore_counts_per_sender()
    {
        var reducer = new PacketHasUnderscoreReducer();
        ObserveAll(reducer, MixedTraffic());
        AssertJson($$$"""{"10.0.0.2":{"cnt":3,"queries":[{{{Ldap}}},{{{Sip}}}]}}""", Data(reducer));
    }

    [Fact]
    public void QueriesSummary_lists_names_per_sender_and_type()
    {
        var reducer = new QueriesSummaryReducer();
        ObserveAll(reducer, MixedTraffic());
        AssertJson(
            """
            {"10.0.0.1":{"A":["www.example.com."],"SRV":["_srv.example.com."]},
             "10.0.0.2":{"A":["_ldap._tcp.corp."],"NS":["_sip.example.com."],"MX":["example.com."]},
             "2001:db8::7":{"AAAA":["www.example.com."]}}
            """,
            Data(reducer));
        Assert.Equal("PacketSummary", new QueriesSummaryReducer(type: "PacketSummary").Type);
    }

    /// <summary>
    /// QueriesSummary against a plain model (the distinct sender, type and name triples in the order first seen, the
    /// first Capacity of them kept), over thousands of queries that repeat 1,500 triples in random order, so the
    /// key table passes its capacity and its index grows several times while keys keep coming back.
    /// </summary>
    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    public void QueriesSummary_keeps_the_first_distinct_triples_up_to_its_capacity(int seed, int capacity)
    {
        var random = new Random(seed);
        var pool = Enumerable.Range(0, 1500)
            .Select(_ => (Sender: $"10.0.{random.Next(50)}.1", Type: new ushort[] { 1, 28, 15 }[random.Next(3)], Name: $"n{random.Next(40)}.Example"))
            .ToList();
        var reducer = new QueriesSummaryReducer(capacity);
        var kept = new List<(string Sender, string Type, string Name)>();
        var seen = new HashSet<(string, string, string)>();
        for (int i = 0; i < 8000; i++)
        {
            var (sender, type, name) = pool[random.Next(pool.Count)];
            Query((ushort)i, sender, 5000, i, (name, type)).ObserveIn(reducer);
            var triple = (sender, type == 1 ? "A" : type == 28 ? "AAAA" : "MX", name.ToLowerInvariant() + ".");
            if (kept.Count < capacity && seen.Add(triple))
            {
                kept.Add(triple);
            }
        }

        var written = new List<(string, string, string)>();
        foreach (var sender in ParseData(reducer).EnumerateObject())
        {
            foreach (var type in sender.Value.EnumerateObject())
            {
                written.AddRange(type.Value.EnumerateArray().Select(n => (sender.Name, type.Name, n.GetString()!)));
            }
        }

        Assert.Equal(written.Count, written.Distinct().Count());
        Assert.Equal(kept.OrderBy(t => t).ToList(), written.OrderBy(t => t).ToList());
    }

    [Fact]
    public void AlonePackets_matches_by_id_client_port_and_name()
    {
        var reducer = new AlonePacketsReducer();
        ObserveAll(reducer, MixedTraffic());
        AssertJson(
            """
            {"queries":6,"answers":2,
             "AloneQueries":[
               {"id":2,"client":"10.0.0.2","port":5001,"qname":"_ldap._tcp.corp.","count":2},
               {"id":3,"client":"10.0.0.2","port":5002,"qname":"_sip.example.com.","count":1},
               {"id":5,"client":"10.0.0.1","port":5003,"qname":"_srv.example.com.","count":1},
               {"id":2,"client":"10.0.0.2","port":5001,"qname":"example.com.","count":2},
               {"id":4,"client":"2001:db8::7","port":6000,"qname":"www.example.com.","count":1}],
             "AloneAnswers":[
               {"id":9,"client":"10.0.0.3","port":7000,"qname":"orphan.example.net.","count":1}]}
            """,
            Data(reducer));
    }

    [Fact]
    public void AlonePackets_does_not_match_another_port()
    {
        var reducer = new AlonePacketsReducer();
        Query(7, "10.0.0.1", 1000, 0, ("a.example", 1)).ObserveIn(reducer);
        Response(7, "10.0.0.1", 1001, 1, ("a.example", 1)).ObserveIn(reducer);
        var data = ParseData(reducer);
        Assert.Equal(1, data.GetProperty("AloneQueries").GetArrayLength());
        Assert.Equal(1, data.GetProperty("AloneAnswers").GetArrayLength());
    }

    [Fact]
    public void Reset_empties_detail_reducers()
    {
        var underscored = new QueriesWithUnderscoredNameReducer();
        var perSender = new PacketHasUnderscoreReducer();
        var summary = new QueriesSummaryReducer();
        var alone = new AlonePacketsReducer();
        foreach (var reducer in new RataDns.Reducers.Reducer[] { underscored, perSender, summary, alone })
        {
            ObserveAll(reducer, MixedTraffic());
            reducer.Reset();
        }

        Assert.Equal("{}", Data(underscored));
        Assert.Equal("{}", Data(perSender));
        Assert.Equal("{}", Data(summary));
        AssertJson("""{"queries":0,"answers":0,"AloneQueries":[],"AloneAnswers":[]}""", Data(alone));
    }
}
