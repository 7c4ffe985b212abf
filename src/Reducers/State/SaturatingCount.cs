namespace RataDns.Reducers.State;

/// <summary>
/// Adding counts in <see cref="Reducer.Merge"/>: a count read from a state may be anything up to
/// <see cref="long.MaxValue"/> (<see cref="StateReading.Count"/> only refuses negative ones), so the sum of two
/// monitors' states can overflow. A plain <c>+</c> wraps to a negative count, which the merged view shows and which
/// the merged state's own reader then refuses; the sum stops at <see cref="long.MaxValue"/> instead.
/// </summary>
public static class SaturatingCount
{
    /// <summary><paramref name="a"/> + <paramref name="b"/> (both not negative), at most <see cref="long.MaxValue"/>.</summary>
    public static long Add(long a, long b)
    {
        long sum = unchecked(a + b);
        if (((a ^ sum) & (b ^ sum)) < 0)
        {
            return a < 0 ? long.MinValue : long.MaxValue;
        }

        return sum;
    }
}
