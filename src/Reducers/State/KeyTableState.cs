using MessagePack;
using RataDns.Reducers.Original;

namespace RataDns.Reducers.State;

/// <summary>
/// The state of a <see cref="BoundedKeyTable"/>: <c>[refused, [[key, value], ...]]</c>, the keys (raw bytes, bin) in
/// the table's insertion order with their values, and how many keys it refused. Read back in that order, the table
/// numbers its entries the same way and refuses the same keys in later merges.
/// </summary>
internal static class KeyTableState
{
    public static void Write(ref MessagePackWriter writer, BoundedKeyTable table)
    {
        writer.WriteArrayHeader(2);
        writer.Write(table.Refused);
        writer.WriteArrayHeader(table.Count);
        for (int i = 0; i < table.Count; i++)
        {
            writer.WriteArrayHeader(2);
            writer.Write(table.KeyAt(i));
            writer.Write(table.ValueAt(i));
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote into <paramref name="table"/> (just reset).</summary>
    /// <exception cref="InvalidDataException">More keys than the table's capacity, a key <paramref name="check"/>
    /// refuses, a repeated key, a value outside <paramref name="minValue"/>..<paramref name="maxValue"/>.</exception>
    public static void Read(
        ref MessagePackReader reader,
        BoundedKeyTable table,
        StateKeyCheck check,
        long minValue,
        long maxValue,
        string reducer,
        string what)
    {
        StateReading.ExactArrayHeader(ref reader, 2, reducer, $"items of {what}");
        long refused = StateReading.Count(ref reader, reducer, $"the keys {what} refused");
        int entries = StateReading.ArrayHeader(ref reader, table.Capacity, reducer, $"keys of {what}");
        Span<byte> key = stackalloc byte[BoundedKeyTable.MaxKeyLength];
        for (int i = 0; i < entries; i++)
        {
            StateReading.ExactArrayHeader(ref reader, 2, reducer, $"items of a key of {what}");
            int length = StateReading.Bytes(ref reader, key, BoundedKeyTable.MaxKeyLength, reducer, $"a key of {what}");
            if (!check(key[..length]))
            {
                throw new InvalidDataException($"{reducer} state: key {i} of {what} is not a key this reducer stores.");
            }

            long value = reader.ReadInt64();
            if (value < minValue || value > maxValue)
            {
                throw new InvalidDataException($"{reducer} state: the value {value} of key {i} of {what} lies outside {minValue}..{maxValue}.");
            }

            int entry = table.FindOrAdd(key[..length]);
            if (entry != i)
            {
                throw new InvalidDataException($"{reducer} state: key {i} of {what} appears twice.");
            }

            table.ValueAt(entry) = value;
        }

        table.AddRefused(refused);
    }
}
