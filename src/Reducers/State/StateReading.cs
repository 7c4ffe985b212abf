using MessagePack;

namespace RataDns.Reducers.State;

/// <summary>
/// Checked reads for <see cref="Reducer.ReadState"/> implementations: a count or a length from the wire is compared
/// with the reducer's own bound before anything is allocated or looped over, and a layout number with the one the
/// reducer writes. Every failure is an <see cref="InvalidDataException"/> naming the reducer and what was wrong.
/// </summary>
public static class StateReading
{
    /// <summary>
    /// The largest count a window's state may hold: 2^40, ten million packets a second for 30 hours. Beyond it a count
    /// is refused, so that sums of many windows' counts (an aggregator merging a day of a thousand monitors) cannot
    /// overflow.
    /// </summary>
    public const long MaxCount = 1L << 40;

    /// <summary>Reads an array header of at most <paramref name="max"/> items.</summary>
    public static int ArrayHeader(ref MessagePackReader reader, int max, string reducer, string what)
    {
        int count = reader.ReadArrayHeader();
        if ((uint)count > (uint)max)
        {
            throw new InvalidDataException($"{reducer} state: {count} {what}; at most {max}.");
        }

        return count;
    }

    /// <summary>Reads an array header of exactly <paramref name="expected"/> items.</summary>
    public static void ExactArrayHeader(ref MessagePackReader reader, int expected, string reducer, string what)
    {
        int count = reader.ReadArrayHeader();
        if (count != expected)
        {
            throw new InvalidDataException($"{reducer} state: {count} {what}; expected {expected}.");
        }
    }

    /// <summary>Reads the layout number a reducer writes first and checks it.</summary>
    public static void Layout(ref MessagePackReader reader, int expected, string reducer)
    {
        int layout = reader.ReadInt32();
        if (layout != expected)
        {
            throw new InvalidDataException($"{reducer} state layout {layout}; this build reads layout {expected}.");
        }
    }

    /// <summary>Reads a count that must not be negative.</summary>
    public static long Count(ref MessagePackReader reader, string reducer, string what)
    {
        long value = reader.ReadInt64();
        if (value < 0)
        {
            throw new InvalidDataException($"{reducer} state: {what} is negative ({value}).");
        }

        if (value > MaxCount)
        {
            throw new InvalidDataException($"{reducer} state: {what} is {value}, more than a window can count ({MaxCount}).");
        }

        return value;
    }

    /// <summary>Reads a byte string (bin) of at most <paramref name="maxLength"/> bytes into <paramref name="destination"/>; returns its length.</summary>
    public static int Bytes(ref MessagePackReader reader, scoped Span<byte> destination, int maxLength, string reducer, string what)
    {
        System.Buffers.ReadOnlySequence<byte>? read;
        try
        {
            read = reader.ReadBytes();
        }
        catch (ArgumentOutOfRangeException)
        {
            // MessagePack slices the declared length before checking it against what remains.
            throw new InvalidDataException($"{reducer} state: {what} declares more bytes than remain.");
        }

        var bytes = read ?? throw new InvalidDataException($"{reducer} state: {what} is nil.");
        if (bytes.Length > maxLength || bytes.Length > destination.Length)
        {
            throw new InvalidDataException($"{reducer} state: {what} of {bytes.Length} bytes; at most {maxLength}.");
        }

        System.Buffers.BuffersExtensions.CopyTo(bytes, destination);
        return (int)bytes.Length;
    }
}
