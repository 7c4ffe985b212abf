using System.Text.Json;
using RataDns.Aggregator;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Tests.Reducers.Original;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// DistinctCounter with <c>"Sketch": true</c> ships its HyperLogLog registers, and the aggregator merges them
/// exactly: two monitors whose names overlap merge to the estimate of one reducer that saw every query (the same
/// registers), not to the sum; without sketches the merge can only give the upper bound.
/// </summary>
public class DistinctSketchMergeTests
{
    [Fact]
    public void Sketches_merge_to_the_union_of_the_names_across_monitors()
    {
        // Monitor A asks names 0..4999, monitor B 2500..7499: 7,500 distinct in all, 5,000 each.
        var a = Reducer(sketch: true);
        var b = Reducer(sketch: true);
        var all = Reducer(sketch: true);
        Observe(a, 0, 5000, "10.0.0.1");
        Observe(b, 2500, 7500, "10.0.0.2");
        Observe(all, 0, 5000, "10.0.0.1");
        Observe(all, 2500, 7500, "10.0.0.2");

        var merged = ViewMerger.Merge(ViewMergeRule.DistinctEstimates, [Result("a", a), Result("b", b)])!.Value;
        var single = JsonDocument.Parse(ReducerTestSupport.Data(all)).RootElement;

        Assert.Equal("sketch", merged.GetProperty("merged").GetString());
        Assert.Equal(single.GetProperty("qnames").GetInt64(), merged.GetProperty("qnames").GetInt64());
        Assert.Equal(single.GetProperty("clients").GetInt64(), merged.GetProperty("clients").GetInt64());
        double error = merged.GetProperty("relativeError").GetDouble();
        Assert.InRange(merged.GetProperty("qnames").GetInt64(), 7500 * (1 - (4 * error)), 7500 * (1 + (4 * error)));
        Assert.Equal(2, merged.GetProperty("clients").GetInt64());
    }

    [Fact]
    public void Without_sketches_the_merge_is_the_sum_an_upper_bound()
    {
        var a = Reducer(sketch: false);
        var b = Reducer(sketch: false);
        Observe(a, 0, 5000, "10.0.0.1");
        Observe(b, 2500, 7500, "10.0.0.2");
        var merged = ViewMerger.Merge(ViewMergeRule.DistinctEstimates, [Result("a", a), Result("b", b)])!.Value;
        long sum = JsonDocument.Parse(ReducerTestSupport.Data(a)).RootElement.GetProperty("qnames").GetInt64()
            + JsonDocument.Parse(ReducerTestSupport.Data(b)).RootElement.GetProperty("qnames").GetInt64();
        Assert.False(merged.TryGetProperty("merged", out _));
        Assert.Equal(sum, merged.GetProperty("qnames").GetInt64());
    }

    private static Reducer Reducer(bool sketch) => ReducerRegistry.Create(new ReducerConfiguration
    {
        Name = "DistinctCounter",
        Options = new Dictionary<string, JsonElement> { ["Sketch"] = JsonDocument.Parse(sketch ? "true" : "false").RootElement },
    });

    private static void Observe(Reducer reducer, int from, int to, string client)
    {
        var packets = Enumerable.Range(from, to - from)
            .Select(i => ReducerTestSupport.Query((ushort)i, client, 40000, i * 1000L, ($"host{i}.example.", 1)));
        ReducerTestSupport.ObserveAll(reducer, packets);
    }

    private static WindowResult Result(string server, Reducer reducer) =>
        new("DistinctCounter", server, 1, 0, 1, 0, 0, JsonDocument.Parse(ReducerTestSupport.Data(reducer)).RootElement.Clone());
}
