using System.Buffers;
using System.Text;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;

namespace RataDns.Tests.Reducers;

/// <summary>
/// Counts read from states may be as large as <see cref="long.MaxValue"/>; merging two of them (an aggregator summing
/// monitors) used to wrap to a negative count, shown in the merged view and refused by the merged state's own reader.
/// Found by the fuzz target <c>state</c> (fuzz/regressions/state/merged-counts-overflow-*).
/// </summary>
public class MergedStateCountTests
{
    private const string MaxCount = "9223372036854775807";

    [Theory]
    [InlineData("RcodeCounter", "92 01 81 03 d3 7f ff ff ff ff ff ff ff", "{\"NXDOMAIN\":" + MaxCount + "}")] // [1, {3: max}]
    [InlineData("PacketsQueriesAndAnswersPerSecond", "94 01 d3 7f ff ff ff ff ff ff ff cf 7f ff ff ff ff ff ff ff 00", "{\"pps\":9.223372036854776E+17,\"qps\":9.223372036854776E+17,\"aps\":0}")] // [1, max, max, 0]
    public void Merging_two_states_at_the_largest_count_stops_there_instead_of_wrapping(string type, string stateHex, string expectedView)
    {
        var prototype = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        byte[] state = Convert.FromHexString(stateHex.Replace(" ", "", StringComparison.Ordinal));
        var first = prototype.CreateEmpty();
        ReducerState.ReadInto(first, state);
        var second = prototype.CreateEmpty();
        ReducerState.ReadInto(second, state);

        var merged = prototype.CreateEmpty();
        merged.Merge(first);
        merged.Merge(second);
        var later = prototype.CreateEmpty();
        later.Merge(first);
        later.MergeLater(second);

        foreach (var sum in new[] { merged, later })
        {
            Assert.Equal(expectedView, View(sum));
            var header = ReducerState.ReadHeader(ReducerState.ToArray(sum));
            var readBack = prototype.CreateEmpty();
            ReducerState.ReadInto(readBack, header.Body);
            Assert.Equal(expectedView, View(readBack));
        }
    }

    [Theory]
    [InlineData(0L, 0L, 0L)]
    [InlineData(1L, 2L, 3L)]
    [InlineData(long.MaxValue, 0L, long.MaxValue)]
    [InlineData(long.MaxValue, 1L, long.MaxValue)]
    [InlineData(long.MaxValue, long.MaxValue, long.MaxValue)]
    [InlineData(long.MaxValue - 1, 1L, long.MaxValue)]
    public void Saturating_count_adds_up_to_the_largest_long(long a, long b, long sum)
    {
        Assert.Equal(sum, SaturatingCount.Add(a, b));
        Assert.Equal(sum, SaturatingCount.Add(b, a));
    }

    private static string View(Reducer reducer)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            reducer.WriteData(writer, new ReducerWindow(0, 10_000_000_000, 2));
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
