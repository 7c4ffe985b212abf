using RataDns.Reducers.Extended;
using RataDns.Tests.Reducers.Original;
using static RataDns.Tests.Reducers.Extended.ExtendedTestSupport;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Extended;

public class DistinctCounterTests
{
    private const ulong Seed = 0x5EED_1234_5678_9ABCUL;

    [Fact]
    public void Small_counts_are_near_exact_and_case_insensitive()
    {
        var reducer = new DistinctCounter(seed: Seed);
        var traffic = new List<TestPacket>();
        for (int i = 0; i < 100; i++)
        {
            // Each name twice in different case, from 3 clients; responses are not counted.
            traffic.Add(Q($"10.0.0.{i % 3}", $"host{i}.Example.com"));
            traffic.Add(Q($"2001:db8::{i % 3}", $"HOST{i}.example.COM"));
            traffic.Add(R("10.9.9.9", $"other{i}.example.com"));
        }

        ObserveAll(reducer, traffic);
        var data = ParseData(reducer);

        // Linear counting at 2^14 registers: about 0.3 expected collisions among 100 keys.
        Assert.InRange(data.Get("qnames").GetInt64(), 98, 102);
        Assert.Equal(6, data.Get("clients").GetInt64());
        Assert.Equal(14, data.Get("precision").GetInt32());
        Assert.Equal(1.04 / Math.Sqrt(1 << 14), data.Get("relativeError").GetDouble(), 12);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(14)]
    public void Large_counts_are_within_a_few_standard_errors(int precision)
    {
        var reducer = new DistinctCounter(precision, Seed);
        const int names = 60_000;
        for (int i = 0; i < names; i++)
        {
            Q($"10.{i % 200}.0.1", $"n{i}.example", time: i).ObserveIn(reducer);
        }

        var data = ParseData(reducer);
        double relative = 1.04 / Math.Sqrt(1 << precision);
        Assert.InRange(data.Get("qnames").GetInt64(), names * (1 - (4 * relative)), names * (1 + (4 * relative)));
        Assert.InRange(data.Get("clients").GetInt64(), 200 * (1 - (4 * relative)), 200 * (1 + (4 * relative)));
        Assert.Equal(relative, data.Get("relativeError").GetDouble(), 12);
    }

    [Fact]
    public void Merge_of_a_split_equals_the_whole_reset_and_create_empty()
    {
        var reducer = new DistinctCounter(12, Seed);
        var traffic = Enumerable.Range(0, 3000)
            .Select(i => Q($"10.{i % 37}.{i % 5}.1", $"n{i % 1700}.example", time: i))
            .ToList();
        AssertMergeEqualsWhole(reducer, traffic, step: 250);

        ObserveAll(reducer, traffic);
        Assert.NotEqual(0, reducer.EstimatedNames);
        reducer.Reset();
        string empty = """{"qnames":0,"clients":0,"precision":12,"relativeError":""" + (1.04 / 64).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "}";
        Assert.Equal(empty, Data(reducer));
        Assert.Equal(empty, Data(reducer.CreateEmpty()));
        Assert.Throws<ArgumentException>(() => reducer.Merge(new DistinctCounter(12, Seed + 1)));
        Assert.Throws<ArgumentException>(() => reducer.Merge(new DistinctCounter(13, Seed)));
    }
}
