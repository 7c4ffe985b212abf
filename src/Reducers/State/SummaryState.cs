using MessagePack;
using RataDns.Reducers.Summaries;

namespace RataDns.Reducers.State;

/// <summary>
/// The state of a reducer built on a <see cref="SpaceSavingSummary"/> (TopN, the name counters, the heavy hitters):
/// <c>[layout, totalWeight, capacity, [[key, count, error], ...]]</c> with every monitored key as raw bytes (bin),
/// by count ascending. Read back, the summary has the same counts, errors, minimum count and total weight, so
/// merging read states is merging the summaries themselves.
/// </summary>
internal static class SummaryState
{
    public static void Write(ref MessagePackWriter writer, SpaceSavingSummary summary, int layout = 1)
    {
        writer.WriteArrayHeader(4);
        writer.Write(layout);
        writer.Write(summary.TotalWeight);
        writer.Write(summary.Capacity);
        int[] order = summary.CountersInLoadOrder();
        writer.WriteArrayHeader(order.Length);
        foreach (int counter in order)
        {
            writer.WriteArrayHeader(3);
            writer.Write(summary.KeyAt(counter));
            writer.Write(summary.CountAt(counter));
            writer.Write(summary.ErrorAt(counter));
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote into <paramref name="summary"/> (just reset).</summary>
    /// <exception cref="InvalidDataException">Another capacity, more keys than it, a key <paramref name="check"/>
    /// refuses or longer than <see cref="SpaceSavingSummary.MaxKeyLength"/>, an error outside 0..count, counts not
    /// ascending, a repeated key, a total below the keys' guaranteed counts.</exception>
    public static void Read(ref MessagePackReader reader, SpaceSavingSummary summary, StateKeyCheck check, string reducer, int layout = 1)
    {
        StateReading.ExactArrayHeader(ref reader, 4, reducer, "items");
        StateReading.Layout(ref reader, layout, reducer);
        long totalWeight = StateReading.Count(ref reader, reducer, "the total weight");
        int capacity = reader.ReadInt32();
        if (capacity != summary.Capacity)
        {
            throw new InvalidDataException($"{reducer} state: capacity {capacity}; this instance keeps {summary.Capacity} keys.");
        }

        int entries = StateReading.ArrayHeader(ref reader, summary.Capacity, reducer, "keys");
        Span<byte> key = stackalloc byte[SpaceSavingSummary.MaxKeyLength];
        for (int i = 0; i < entries; i++)
        {
            StateReading.ExactArrayHeader(ref reader, 3, reducer, "items of a key");
            int length = StateReading.Bytes(ref reader, key, SpaceSavingSummary.MaxKeyLength, reducer, "a key");
            if (!check(key[..length]))
            {
                throw new InvalidDataException($"{reducer} state: key {i} is not a key this reducer stores.");
            }

            long count = StateReading.Count(ref reader, reducer, $"the count of key {i}");
            long error = StateReading.Count(ref reader, reducer, $"the error of key {i}");
            try
            {
                summary.Load(key[..length], count, error);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{reducer} state: key {i}: {e.Message}", e);
            }
        }

        try
        {
            summary.LoadTotalWeight(totalWeight);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{reducer} state: {e.Message}", e);
        }
    }
}
