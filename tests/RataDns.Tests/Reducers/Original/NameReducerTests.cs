using RataDns.Reducers.Original;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Original;

public class NameReducerTests
{
    [Fact]
    public void Name_counters_count_every_question_lowercased()
    {
        var queries = new NameCounterReducer(PacketSelection.Queries);
        var answers = new NameCounterReducer(PacketSelection.Answers);
        var all = new NameCounterReducer(PacketSelection.All);
        ObserveAll(queries, MixedTraffic());
        ObserveAll(answers, MixedTraffic());
        ObserveAll(all, MixedTraffic());

        AssertJson(
            """{"_ldap._tcp.corp.":2,"example.com.":2,"www.example.com.":2,"_sip.example.com.":1,"_srv.example.com.":1}""",
            Data(queries));
        AssertJson("""{"orphan.example.net.":1,"www.example.com.":1}""", Data(answers));
        AssertJson(
            """{"www.example.com.":3,"_ldap._tcp.corp.":2,"example.com.":2,"_sip.example.com.":1,"_srv.example.com.":1,"orphan.example.net.":1}""",
            Data(all));
        Assert.Equal("QueriesNameCounter", queries.Type);
        Assert.Equal("AnswersNameCounter", answers.Type);
        Assert.Equal("NameCounter", all.Type);
    }

    [Fact]
    public void Name_counter_stays_within_its_capacity_on_100k_unique_names()
    {
        var counter = new NameCounterReducer(PacketSelection.All, capacity: 1000);
        for (int i = 0; i < 100_000; i++)
        {
            Query((ushort)i, "10.0.0.1", 1, i, ($"n{i}.example", 1)).ObserveIn(counter);
        }

        Assert.Equal(1000, counter.NameCount);
        Assert.Equal(1000, ParseData(counter).EnumerateObject().Count());
    }

    [Fact]
    public void TopN_returns_at_most_N_with_ties_broken_by_name()
    {
        var top = new TopNReducer(queriesOnly: false, n: 2);
        ObserveAll(top, MixedTraffic());
        AssertJson("""[["www.example.com.",3],["_ldap._tcp.corp.",2]]""", Data(top));

        var topQ = new TopNReducer(queriesOnly: true, n: 3);
        ObserveAll(topQ, MixedTraffic());
        AssertJson("""[["_ldap._tcp.corp.",2],["example.com.",2],["www.example.com.",2]]""", Data(topQ));
        Assert.Equal("TopNQ", topQ.Type);
    }

    [Fact]
    public void TopN_never_returns_more_than_N_even_when_all_are_tied()
    {
        var top = new TopNReducer(queriesOnly: false, n: 5);
        foreach (string name in new[] { "g.", "f.", "e.", "d.", "c.", "b.", "a." })
        {
            Query(1, "10.0.0.1", 1, 0, (name, 1)).ObserveIn(top);
        }

        AssertJson("""[["a.",1],["b.",1],["c.",1],["d.",1],["e.",1]]""", Data(top));
    }

    [Fact]
    public void Reset_empties_names()
    {
        var all = new NameCounterReducer(PacketSelection.All);
        var top = new TopNReducer(queriesOnly: false);
        ObserveAll(all, MixedTraffic());
        ObserveAll(top, MixedTraffic());
        all.Reset();
        top.Reset();
        Assert.Equal("{}", Data(all));
        Assert.Equal("[]", Data(top));
    }

    internal static void AssertJson(string expected, string actual) =>
        Assert.True(System.Text.Json.JsonElement.DeepEquals(Parse(expected), Parse(actual)), $"expected {expected}\nactual   {actual}");
}
