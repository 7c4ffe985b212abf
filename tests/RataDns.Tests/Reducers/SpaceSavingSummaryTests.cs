using System.Buffers.Binary;
using FsCheck.Xunit;
using RataDns.Reducers.Summaries;

namespace RataDns.Tests.Reducers;

/// <summary>
/// Space-Saving guarantees (Metwally et al. 2005, lemma 3.3 and theorem 3.5): count - error &lt;= true &lt;= count
/// for monitored keys, every key heavier than N/k monitored, exact below k distinct keys; the same after a merge
/// (Agarwal et al. 2012); fixed memory and no allocation per offer.
/// </summary>
public class SpaceSavingSummaryTests
{
    [Fact]
    public void Counts_are_exact_while_distinct_keys_fit()
    {
        var summary = new SpaceSavingSummary(64);
        var truth = new Dictionary<int, long>();
        for (int key = 0; key < 64; key++)
        {
            for (int i = 0; i < (key % 7) + 1; i++)
            {
                Assert.True(summary.Offer(Key(key)));
            }

            truth[key] = (key % 7) + 1;
        }

        summary.Offer(Key(3), weight: 10);
        truth[3] += 10;

        var top = summary.Top(100);
        Assert.Equal(64, top.Length);
        Assert.Equal(1, summary.MinCount); // all k counters in use: the smallest (exact) count bounds unseen keys
        Assert.All(top, h => Assert.Equal(0, h.Error));
        Assert.All(top, h => Assert.Equal(truth[BinaryPrimitives.ReadInt32LittleEndian(h.Key.Span)], h.Count));
        Assert.Equal(truth.Values.Sum(), summary.TotalWeight);
        AssertSortedByCountThenKey(top);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(top[0].Key.Span));
    }

    [Fact]
    public void Top_is_sorted_by_count_then_key_bytes()
    {
        var summary = new SpaceSavingSummary(8);
        summary.Offer("b"u8, 2);
        summary.Offer("a"u8, 2);
        summary.Offer("ab"u8, 2);
        summary.Offer("z"u8, 5);
        summary.Offer("c"u8);

        var top = summary.Top(4);
        Assert.Equal(["z", "a", "ab", "b"], top.Select(h => System.Text.Encoding.ASCII.GetString(h.Key.Span)));
        Assert.Equal([5L, 2, 2, 2], top.Select(h => h.Count));
        Assert.Empty(summary.Top(0));
    }

    [Fact]
    public void Keys_longer_than_255_bytes_are_refused()
    {
        var summary = new SpaceSavingSummary(4);
        Assert.False(summary.Offer(new byte[256]));
        Assert.Equal(0, summary.TotalWeight);
        Assert.True(summary.Offer(new byte[255]));
        Assert.True(summary.Offer([]));
        Assert.True(summary.TryGet(new byte[255], out long count, out _));
        Assert.Equal(1, count);
        Assert.Throws<ArgumentOutOfRangeException>(() => summary.Offer("x"u8, 0));
    }

    [Fact]
    public void Zipf_stream_keeps_every_heavy_key_and_bounds_every_count()
    {
        var (stream, truth) = ZipfStream(items: 1_000_000, keys: 100_000, exponent: 1.1, seed: 42);
        var summary = new SpaceSavingSummary(1000);
        foreach (int key in stream)
        {
            summary.Offer(Key(key));
        }

        Assert.Equal(stream.Length, summary.TotalWeight);
        Assert.True(summary.MinCount <= summary.TotalWeight / summary.Capacity);
        AssertGuarantees(summary, truth);
    }

    [Fact]
    public void Merge_of_two_halves_keeps_the_guarantees_for_the_whole_stream()
    {
        var (stream, truth) = ZipfStream(items: 1_000_000, keys: 100_000, exponent: 1.1, seed: 7);
        var first = new SpaceSavingSummary(1000);
        var second = new SpaceSavingSummary(1000);
        for (int i = 0; i < stream.Length; i++)
        {
            (i < stream.Length / 2 ? first : second).Offer(Key(stream[i]));
        }

        first.Merge(second);
        Assert.Equal(stream.Length, first.TotalWeight);
        Assert.Equal(1000, first.MonitoredCount);
        Assert.True(first.MinCount <= first.TotalWeight / first.Capacity);
        AssertGuarantees(first, truth);
        AssertSortedByCountThenKey(first.Top(1000));

        // The merged summary keeps working as a summary of the concatenated stream.
        first.Offer(Key(stream[0]), 5);
        truth[stream[0]] += 5;
        AssertGuarantees(first, truth);
    }

    [Fact]
    public void Merge_is_exact_while_the_union_fits()
    {
        var left = new SpaceSavingSummary(10);
        var right = new SpaceSavingSummary(10);
        left.Offer("a"u8, 3);
        left.Offer("b"u8, 1);
        right.Offer("b"u8, 2);
        right.Offer("c"u8, 4);

        left.Merge(right);

        Assert.Equal([("c", 4L, 0L), ("a", 3, 0), ("b", 3, 0)], left.Top(10).Select(h => (System.Text.Encoding.ASCII.GetString(h.Key.Span), h.Count, h.Error)));
        Assert.Equal(10, left.TotalWeight);
        Assert.Throws<ArgumentException>(() => left.Merge(new SpaceSavingSummary(11)));
    }

    [Fact]
    public void A_summary_merged_while_the_union_fits_keeps_the_guarantees_as_offers_go_on()
    {
        // The merge inserts the union ordered by count only (equal counts in any order): later evictions must still
        // take a least-counted key and keep every bound, checked against exact counts kept here.
        var random = new Random(11);
        var truth = new Dictionary<int, long>();
        var left = new SpaceSavingSummary(8);
        var right = new SpaceSavingSummary(8);
        for (int i = 0; i < 12; i++)
        {
            int key = random.Next(7); // at most 7 keys on both sides: the union fits in 8
            long weight = random.Next(1, 4);
            truth[key] = truth.GetValueOrDefault(key) + weight;
            (i % 2 == 0 ? left : right).Offer(Key(key), weight);
        }

        left.Merge(right);
        Assert.True(HoldsGuarantees(left, truth));
        foreach (var (key, count) in truth)
        {
            Assert.True(left.TryGet(Key(key), out long merged, out long error) && merged == count && error == 0, $"key {key}");
        }

        for (int i = 0; i < 400; i++)
        {
            int key = random.Next(40);
            long weight = random.Next(1, 3);
            truth[key] = truth.GetValueOrDefault(key) + weight;
            left.Offer(Key(key), weight);
            Assert.True(HoldsGuarantees(left, truth), $"after offer {i}");
        }
    }

    [Fact]
    public void Reset_forgets_everything_and_keeps_the_memory()
    {
        var summary = new SpaceSavingSummary(4);
        for (int i = 0; i < 100; i++)
        {
            summary.Offer(Key(i % 9));
        }

        int arena = summary.ArenaBytes;
        summary.Reset();
        Assert.Equal(0, summary.MonitoredCount);
        Assert.Equal(0, summary.TotalWeight);
        Assert.Empty(summary.Top(10));
        Assert.False(summary.TryGet(Key(1), out _, out _));
        summary.Offer(Key(1));
        Assert.True(summary.TryGet(Key(1), out long count, out long error));
        Assert.Equal((1L, 0L), (count, error));
        Assert.Equal(arena, summary.ArenaBytes);
    }

    [Fact]
    public void A_flood_of_unique_keys_uses_fixed_memory_and_allocates_nothing_per_offer()
    {
        var summary = new SpaceSavingSummary(1000);
        Span<byte> key = stackalloc byte[26];
        "flood.example.com."u8.CopyTo(key[8..]);
        for (int i = 0; i < 10_000; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(key, i);
            summary.Offer(key);
        }

        int arena = summary.ArenaBytes;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 10_000; i < 1_000_000; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(key, i);
            summary.Offer(key);
            summary.Offer(key[..8]);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The runtime may allocate a few KB once while it recompiles the hot loop (tiered JIT, OSR).
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated over 1.98M offers");
        Assert.Equal(arena, summary.ArenaBytes);
        Assert.Equal(1000 * 256, summary.ArenaBytes);
        Assert.Equal(1000, summary.MonitoredCount);
        Assert.True(summary.MinCount <= summary.TotalWeight / 1000);
    }

    /// <summary>Random small streams over a small alphabet, with weights, against exact counts; and split + merge.</summary>
    [Property(MaxTest = 300)]
    public bool Bounds_hold_on_random_weighted_streams_and_their_merges(byte[] keys, byte[] weights, byte split)
    {
        var truth = new Dictionary<int, long>();
        var whole = new SpaceSavingSummary(6);
        var left = new SpaceSavingSummary(6);
        var right = new SpaceSavingSummary(6);
        int cut = keys.Length == 0 ? 0 : split % (keys.Length + 1);
        for (int i = 0; i < keys.Length; i++)
        {
            int key = keys[i] % 17;
            long weight = weights.Length == 0 ? 1 : (weights[i % weights.Length] % 4) + 1;
            truth[key] = truth.GetValueOrDefault(key) + weight;
            whole.Offer(Key(key), weight);
            (i < cut ? left : right).Offer(Key(key), weight);
        }

        left.Merge(right);
        return HoldsGuarantees(whole, truth) && HoldsGuarantees(left, truth);
    }

    private static bool HoldsGuarantees(SpaceSavingSummary summary, Dictionary<int, long> truth)
    {
        long n = truth.Values.Sum();
        if (summary.TotalWeight != n || summary.MonitoredCount > summary.Capacity || summary.MinCount > n / summary.Capacity)
        {
            return false;
        }

        foreach (var (key, trueCount) in truth)
        {
            if (summary.TryGet(Key(key), out long count, out long error))
            {
                if (count - error > trueCount || trueCount > count || error > summary.MinCount)
                {
                    return false;
                }
            }
            else if (trueCount > summary.MinCount)
            {
                return false;
            }
        }

        return true;
    }

    private static void AssertGuarantees(SpaceSavingSummary summary, long[] truth)
    {
        long n = summary.TotalWeight;
        long threshold = n / summary.Capacity;
        int heavy = 0;
        for (int key = 0; key < truth.Length; key++)
        {
            if (truth[key] > threshold)
            {
                heavy++;
                Assert.True(summary.TryGet(Key(key), out _, out _), $"key {key} with true count {truth[key]} > N/k = {threshold} is missing");
            }
        }

        Assert.True(heavy > 10, "the stream should have heavy keys");
        foreach (var hitter in summary.Top(summary.Capacity))
        {
            long trueCount = truth[BinaryPrimitives.ReadInt32LittleEndian(hitter.Key.Span)];
            Assert.InRange(trueCount, hitter.GuaranteedCount, hitter.Count);
        }
    }

    private static void AssertSortedByCountThenKey(HeavyHitter[] top)
    {
        for (int i = 1; i < top.Length; i++)
        {
            Assert.True(
                top[i - 1].Count > top[i].Count || (top[i - 1].Count == top[i].Count && top[i - 1].Key.Span.SequenceCompareTo(top[i].Key.Span) < 0),
                $"entries {i - 1} and {i} out of order");
        }
    }

    private static byte[] Key(int key)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, key);
        return bytes;
    }

    /// <summary>A stream where key r (rank r + 1) has probability proportional to 1 / (r + 1)^exponent.</summary>
    private static (int[] Stream, long[] Truth) ZipfStream(int items, int keys, double exponent, int seed)
    {
        var cumulative = new double[keys];
        double total = 0;
        for (int r = 0; r < keys; r++)
        {
            total += 1 / Math.Pow(r + 1, exponent);
            cumulative[r] = total;
        }

        var random = new Random(seed);
        var stream = new int[items];
        var truth = new long[keys];
        for (int i = 0; i < items; i++)
        {
            int index = Array.BinarySearch(cumulative, random.NextDouble() * total);
            int key = index >= 0 ? index : Math.Min(~index, keys - 1);
            stream[i] = key;
            truth[key]++;
        }

        return (stream, truth);
    }
}
