using System.Buffers.Binary;
using RataDns.Reducers.Summaries;

namespace RataDns.Tests.Reducers;

/// <summary>HyperLogLog accuracy against its standard error 1.04 / sqrt(2^p), merging, and the linear-counting small range.</summary>
public class HyperLogLogTests
{
    private const ulong Seed = 0x5EED_0F_DA7A_2025UL;

    [Theory]
    [InlineData(10)]
    [InlineData(1_000)]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Estimate_is_within_three_standard_errors(int cardinality)
    {
        var sketch = new HyperLogLog(Seed);
        AddRange(sketch, 0, cardinality);
        AddRange(sketch, 0, Math.Min(cardinality, 1000)); // repeats change nothing

        double relative = Math.Abs(sketch.Estimate() - cardinality) / cardinality;
        Assert.True(relative <= 3 * sketch.StandardError, $"relative error {relative:P3} at n = {cardinality}");
    }

    [Fact]
    public void Merge_equals_the_sketch_of_the_union()
    {
        var left = new HyperLogLog(Seed);
        var right = new HyperLogLog(Seed);
        var union = new HyperLogLog(Seed);
        AddRange(left, 0, 600_000);
        AddRange(right, 400_000, 1_000_000);
        AddRange(union, 0, 1_000_000);

        left.Merge(right);

        Assert.True(left.Registers.SequenceEqual(union.Registers));
        double relative = Math.Abs(left.Estimate() - 1_000_000) / 1_000_000;
        Assert.True(relative <= 3 * left.StandardError, $"relative error {relative:P3}");
    }

    [Fact]
    public void Small_cardinalities_are_counted_within_two()
    {
        var sketch = new HyperLogLog(Seed);
        for (int n = 1; n <= 100; n++)
        {
            AddRange(sketch, n - 1, n);
            Assert.InRange(sketch.Estimate(), n - 2, n + 2);
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(16)]
    public void Every_precision_is_within_three_standard_errors(int precision)
    {
        var sketch = new HyperLogLog(Seed, precision);
        Assert.Equal(1 << precision, sketch.Registers.Length);
        foreach (int cardinality in new[] { 5_000, 200_000 })
        {
            sketch.Reset();
            AddRange(sketch, 0, cardinality);
            double relative = Math.Abs(sketch.Estimate() - cardinality) / cardinality;
            Assert.True(relative <= 3 * sketch.StandardError, $"relative error {relative:P3} at p = {precision}, n = {cardinality}");
        }
    }

    [Fact]
    public void Merge_requires_the_same_precision_and_seed()
    {
        var sketch = new HyperLogLog(Seed);
        Assert.Throws<ArgumentException>(() => sketch.Merge(new HyperLogLog(Seed, 12)));
        Assert.Throws<ArgumentException>(() => sketch.Merge(new HyperLogLog(Seed + 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HyperLogLog(Seed, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HyperLogLog(Seed, 17));
    }

    [Fact]
    public void Different_seeds_spread_keys_differently()
    {
        var one = new HyperLogLog(Seed);
        var other = new HyperLogLog(HyperLogLog.NewSeed());
        AddRange(one, 0, 1000);
        AddRange(other, 0, 1000);
        Assert.False(one.Registers.SequenceEqual(other.Registers));
    }

    [Fact]
    public void Reset_empties_the_sketch()
    {
        var sketch = new HyperLogLog(Seed);
        AddRange(sketch, 0, 5000);
        sketch.Reset();
        Assert.Equal(0, sketch.Estimate());
        Assert.All(sketch.Registers.ToArray(), r => Assert.Equal(0, r));
    }

    [Fact]
    public void Add_allocates_nothing()
    {
        var sketch = new HyperLogLog(Seed);
        Span<byte> key = stackalloc byte[20];
        "example.com."u8.CopyTo(key[8..]);
        for (long i = 0; i < 10_000; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(key, i);
            sketch.Add(key);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 10_000; i < 1_000_000; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(key, i);
            sketch.Add(key);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The runtime may allocate a few KB once while it recompiles the hot loop (tiered JIT, OSR).
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated over 990,000 adds");
    }

    private static void AddRange(HyperLogLog sketch, int from, int to)
    {
        Span<byte> key = stackalloc byte[4];
        for (int i = from; i < to; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(key, i);
            sketch.Add(key);
        }
    }
}
