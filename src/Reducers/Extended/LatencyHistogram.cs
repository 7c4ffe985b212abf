using System.Numerics;

namespace RataDns.Reducers.Extended;

/// <summary>
/// Latencies in whole microseconds on fixed log-linear buckets (HdrHistogram's layout with 16 sub-buckets per
/// power of two): values 0..15 have a bucket each; a value v &gt;= 16 with 2^e &lt;= v &lt; 2^(e+1) falls in one
/// of 16 equal sub-buckets of that octave, of width 2^(e-4) &lt;= v / 16. Values of 2^36 µs (about 19 hours) and
/// more share the last bucket. Because the bounds are fixed, merging is exact: bucket-wise addition.
/// <para>
/// Resolution: a percentile is reported as the inclusive upper bound of the bucket holding the exact
/// (nearest-rank) percentile x, capped at the maximum seen, so the reported r satisfies <c>x &lt;= r &lt; x + x/16</c>
/// (exact below 16 µs): at most 6.25 % high, never low.
/// </para>
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 4;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int TopExponent = 36;

    /// <summary>16 exact buckets, then 16 per octave from 2^4 to 2^35.</summary>
    public const int BucketCount = SubBuckets + ((TopExponent - SubBucketBits) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];
    private long _total;
    private long _max;

    public long Total => _total;

    public long Max => _max;

    public long CountAt(int bucket) => _counts[bucket];

    public void Record(long microseconds)
    {
        long v = Math.Max(0, microseconds);
        _counts[BucketOf(v)]++;
        _total++;
        _max = Math.Max(_max, v);
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        _total += other._total;
        _max = Math.Max(_max, other._max);
    }

    /// <summary>
    /// Replaces the histogram with bucket counts and a maximum read from a state (the total follows from them).
    /// </summary>
    /// <exception cref="ArgumentException">Not <see cref="BucketCount"/> counts, a negative count, a total beyond a
    /// 64-bit count, or a maximum that does not lie in the last non-empty bucket (0 when all are empty).</exception>
    public void Load(ReadOnlySpan<long> counts, long max)
    {
        if (counts.Length != BucketCount)
        {
            throw new ArgumentException($"{counts.Length} buckets; a latency histogram has {BucketCount}.", nameof(counts));
        }

        long total = 0;
        int last = -1;
        for (int i = 0; i < BucketCount; i++)
        {
            if (counts[i] < 0 || counts[i] > long.MaxValue - total)
            {
                throw new ArgumentException($"Bucket {i} holds {counts[i]}: negative, or the total overflows.", nameof(counts));
            }

            total += counts[i];
            last = counts[i] != 0 ? i : last;
        }

        if (last < 0 ? max != 0 : max < 0 || BucketOf(max) != last)
        {
            throw new ArgumentException($"A maximum of {max} µs outside the last non-empty bucket ({last}).", nameof(max));
        }

        counts.CopyTo(_counts);
        _total = total;
        _max = max;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        _total = 0;
        _max = 0;
    }

    /// <summary>
    /// The reported <paramref name="quantile"/> (0 &lt; q &lt;= 1): the upper bound of the bucket holding the
    /// nearest-rank value (rank ceil(q·n)), capped at <see cref="Max"/>. 0 when empty.
    /// </summary>
    public long Percentile(double quantile)
    {
        if (_total == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(quantile * _total));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), _max);
            }
        }

        return _max;
    }

    public static int BucketOf(long microseconds)
    {
        if (microseconds < SubBuckets)
        {
            return (int)Math.Max(0, microseconds);
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)microseconds);
        if (exponent >= TopExponent)
        {
            return BucketCount - 1;
        }

        int shift = exponent - SubBucketBits;
        int sub = (int)(microseconds >> shift) & (SubBuckets - 1);
        return SubBuckets + (shift * SubBuckets) + sub;
    }

    /// <summary>The largest value (inclusive) of <paramref name="bucket"/>; the last bucket reports long.MaxValue.</summary>
    public static long UpperBound(int bucket)
    {
        if (bucket < SubBuckets)
        {
            return bucket;
        }

        if (bucket == BucketCount - 1)
        {
            return long.MaxValue;
        }

        int shift = (bucket - SubBuckets) / SubBuckets;
        int sub = (bucket - SubBuckets) % SubBuckets;
        return ((long)(SubBuckets + sub + 1) << shift) - 1;
    }
}
