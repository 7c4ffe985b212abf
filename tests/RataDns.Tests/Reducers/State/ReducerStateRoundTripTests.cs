using RataDns.Reducers;
using RataDns.Reducers.State;
using static RataDns.Tests.Reducers.State.StateTestSupport;

namespace RataDns.Tests.Reducers.State;

/// <summary>
/// Every registered reducer writes its state and reads it back into an instance made from the container's header:
/// the instance writes the same view, and the same state bytes again.
/// </summary>
public class ReducerStateRoundTripTests
{
    public static TheoryData<string> KnownTypes() => [.. ReducerRegistry.KnownTypes];

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Every_registered_reducer_has_state_and_a_view_merge_rule(string type)
    {
        var reducer = Create(type, TestOptions(type));
        Assert.True(reducer.HasState, $"{type} has no state: an aggregator cannot merge it exactly.");
        Assert.NotEqual(ViewMergeRule.None, reducer.ViewMerge);
    }

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void State_round_trip_writes_the_same_view_and_state(string type)
    {
        var options = TestOptions(type);
        var original = Create(type, options);
        ObserveAll(original, Traffic(seed: 7, queries: 200));
        byte[] container = ReducerState.ToArray(original, options);

        var header = ReducerState.ReadHeader(container);
        Assert.Equal(type, header.Type);
        var read = Create(header.Type, header.Options).CreateEmpty();
        ReducerState.ReadInto(read, header.Body);

        Assert.Equal(View(original), View(read));
        Assert.Equal(container, ReducerState.ToArray(read, options));
    }

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Empty_state_round_trips(string type)
    {
        var options = TestOptions(type);
        var original = Create(type, options);
        var read = RoundTrip(original, options);
        Assert.Equal(View(original), View(read));
    }

    [Fact]
    public void Reading_a_state_replaces_what_the_instance_held()
    {
        var options = TestOptions("TopNQ");
        var source = Create("TopNQ", options);
        ObserveAll(source, Traffic(seed: 1, queries: 50));
        var target = Create("TopNQ", options);
        ObserveAll(target, Traffic(seed: 2, queries: 50));
        var header = ReducerState.ReadHeader(ReducerState.ToArray(source, options));
        ReducerState.ReadInto(target, header.Body);
        Assert.Equal(View(source), View(target));
    }

    [Fact]
    public void TopN_writes_error_bounds_only_when_the_window_asks()
    {
        var reducer = Create("TopNQ", SmallCapacity("TopNQ", 2));
        ObserveAll(reducer, Traffic(seed: 3, queries: 100));
        string fievel = View(reducer);
        string bounded = View(reducer, Window with { IncludeBounds = true });
        Assert.All(System.Text.Json.JsonDocument.Parse(fievel).RootElement.EnumerateArray(), pair => Assert.Equal(2, pair.GetArrayLength()));
        var triples = System.Text.Json.JsonDocument.Parse(bounded).RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(triples);
        Assert.All(triples, triple => Assert.Equal(3, triple.GetArrayLength()));
        Assert.Contains(triples, triple => triple[2].GetInt64() > 0);
        Assert.False(new ReducerWindow(0, 1, 0).IncludeBounds);
    }

    [Fact]
    public void DistinctCounter_refuses_a_state_of_another_seed_or_precision()
    {
        var options = TestOptions("DistinctCounter");
        var reducer = Create("DistinctCounter", options);
        ObserveAll(reducer, Traffic(seed: 4, queries: 20));
        var body = ReducerState.ReadHeader(ReducerState.ToArray(reducer, options)).Body;

        var otherSeed = Create("DistinctCounter", new Dictionary<string, System.Text.Json.JsonElement>
        {
            ["Precision"] = options["Precision"],
        });
        Assert.Throws<InvalidDataException>(() => ReducerState.ReadInto(otherSeed, body));
        var otherPrecision = Create("DistinctCounter", new Dictionary<string, System.Text.Json.JsonElement>
        {
            ["Seed"] = options["Seed"],
        });
        Assert.Throws<InvalidDataException>(() => ReducerState.ReadInto(otherPrecision, body));
    }
}
