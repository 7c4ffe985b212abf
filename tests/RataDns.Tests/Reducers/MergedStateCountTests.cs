using System.Buffers;
using System.Text;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;

namespace RataDns.Tests.Reducers;

/// <summary>
/// Counts read from states used to be accepted up to <see cref="long.MaxValue"/>; merging two of them (an aggregator
/// summing monitors) wrapped to a negative count, shown in the merged view and refused by the merged state's own
/// reader. Found by the fuzz target <c>state</c> (fuzz/regressions/state/merged-counts-overflow-*). A window's count is
/// now at most <see cref="StateReading.MaxCount"/> (2^40), so sums of millions of windows stay exact, and the merges
/// that add counters saturate besides.
/// </summary>
public class MergedStateCountTests
{
    [Theory]
    [InlineData("RcodeCounter", "92 01 81 03 d3 7f ff ff ff ff ff ff ff")] // [1, {3: long.MaxValue}]
    [InlineData("PacketsQueriesAndAnswersPerSecond", "94 01 d3 7f ff ff ff ff ff ff ff cf 7f ff ff ff ff ff ff ff 00")] // [1, max, max, 0]
    public void A_count_larger_than_a_window_can_hold_is_refused(string type, string stateHex)
    {
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        byte[] state = Convert.FromHexString(stateHex.Replace(" ", "", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() => ReducerState.ReadInto(reducer, state));
        Assert.Contains("more than a window can count", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_thousand_windows_at_the_largest_count_merge_exactly()
    {
        // [1, {3: 2^40}]: 0x92 0x01 0x81 0x03 0xcf + 8 bytes big-endian.
        byte[] state = [0x92, 0x01, 0x81, 0x03, 0xcf, 0, 0, 1, 0, 0, 0, 0, 0];
        var prototype = ReducerRegistry.Create(new ReducerConfiguration { Name = "RcodeCounter" });
        var merged = prototype.CreateEmpty();
        var window = prototype.CreateEmpty();
        for (int i = 0; i < 1000; i++)
        {
            ReducerState.ReadInto(window, state);
            merged.MergeLater(window);
        }

        Assert.Equal("{\"NXDOMAIN\":" + (1000L << 40).ToString(System.Globalization.CultureInfo.InvariantCulture) + "}", View(merged));
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
