using System.Globalization;
using System.Text;
using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Counters;

/// <summary>
/// Shared pieces of the counter reducers: exact counts in arrays indexed by value (bounded by the width of the
/// counted field), finding the OPT record of a message, and writing counts by count descending then key.
/// </summary>
internal static class CounterSupport
{
    /// <summary>
    /// Finds the first OPT record of the additional section (RFC 6891 6.1.1) without allocating. False when the
    /// message has none, when reading stopped on a fault before it, or when its options are malformed.
    /// </summary>
    public static bool TryFindOpt(ReadOnlySpan<byte> message, out EdnsRecord edns)
    {
        edns = default;
        if (message.Length < DnsHeader.Size)
        {
            return false;
        }

        var reader = new DnsMessageReader(message);
        if (reader.Header.AdditionalCount == 0)
        {
            return false;
        }

        while (reader.TryReadRecord(out DnsRecord record))
        {
            if (record.Section == DnsSection.Additional && record.Type == DnsRecordType.OPT)
            {
                return EdnsRecord.TryRead(in record, out edns);
            }
        }

        return false;
    }

    /// <summary>
    /// Counts every question of <paramref name="packet"/> in <paramref name="counts"/> by its QCLASS
    /// (<paramref name="byClass"/>) or QTYPE: the usual single question from the view's shared read, several with
    /// a reader of their own.
    /// </summary>
    public static void CountQuestions(in DnsPacketView packet, long[] counts, bool byClass)
    {
        var shape = packet.ReadQuestion(out var first);
        if (shape == QuestionShape.One)
        {
            counts[byClass ? first.Class : first.Type]++;
            return;
        }

        if (shape == QuestionShape.None)
        {
            return;
        }

        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out var question))
        {
            counts[byClass ? question.Class : question.Type]++;
        }
    }

    /// <summary>
    /// Adds <paramref name="source"/> into <paramref name="destination"/> element by element, each sum at most
    /// <see cref="long.MaxValue"/> (<see cref="SaturatingCount"/>: counts read from states can be that large).
    /// </summary>
    public static void Add(long[] destination, long[] source)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = SaturatingCount.Add(destination[i], source[i]);
        }
    }

    /// <summary>
    /// The state of a counter reducer: <c>[layout, {value: count, ...}]</c>, the non-zero counts by value (as
    /// MessagePack integers), in value order.
    /// </summary>
    public static void WriteState(ref MessagePackWriter writer, long[] counts, int layout = 1)
    {
        writer.WriteArrayHeader(2);
        writer.Write(layout);
        WriteCounts(ref writer, counts);
    }

    /// <summary>Reads what <see cref="WriteState"/> wrote into <paramref name="counts"/> (all zero before).</summary>
    /// <exception cref="InvalidDataException">A value outside the counted field, a negative count, a repeated value.</exception>
    public static void ReadState(ref MessagePackReader reader, long[] counts, string reducer, int layout = 1)
    {
        StateReading.ExactArrayHeader(ref reader, 2, reducer, "items");
        StateReading.Layout(ref reader, layout, reducer);
        ReadCounts(ref reader, counts, reducer, "counts");
    }

    /// <summary>
    /// The state of a reducer counting queries and responses apart: <c>[1, {value: count}, {value: count}]</c>, the
    /// queries' non-zero counters, then the responses'.
    /// </summary>
    public static void WriteQueriesAndResponses(ref MessagePackWriter writer, long[] queries, long[] responses)
    {
        writer.WriteArrayHeader(3);
        writer.Write(1);
        WriteCounts(ref writer, queries);
        WriteCounts(ref writer, responses);
    }

    /// <summary>Reads what <see cref="WriteQueriesAndResponses"/> wrote (both arrays all zero before).</summary>
    public static void ReadQueriesAndResponses(ref MessagePackReader reader, long[] queries, long[] responses, string reducer)
    {
        StateReading.ExactArrayHeader(ref reader, 3, reducer, "items");
        StateReading.Layout(ref reader, 1, reducer);
        ReadCounts(ref reader, queries, reducer, "queries");
        ReadCounts(ref reader, responses, reducer, "responses");
    }

    /// <summary>One array of counters as <c>{value: count, ...}</c>: the non-zero ones, in value order.</summary>
    public static void WriteCounts(ref MessagePackWriter writer, long[] counts)
    {
        int nonZero = 0;
        foreach (long count in counts)
        {
            nonZero += count != 0 ? 1 : 0;
        }

        writer.WriteMapHeader(nonZero);
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] != 0)
            {
                writer.Write(i);
                writer.Write(counts[i]);
            }
        }
    }

    /// <summary>Reads what <see cref="WriteCounts"/> wrote into <paramref name="counts"/> (all zero before).</summary>
    /// <exception cref="InvalidDataException">A value outside the counted field, a negative count, a repeated value.</exception>
    public static void ReadCounts(ref MessagePackReader reader, long[] counts, string reducer, string what)
    {
        int entries = reader.ReadMapHeader();
        if ((uint)entries > (uint)counts.Length)
        {
            throw new InvalidDataException($"{reducer} state: {entries} {what}; at most {counts.Length}.");
        }

        for (int i = 0; i < entries; i++)
        {
            int value = reader.ReadInt32();
            if ((uint)value >= (uint)counts.Length)
            {
                throw new InvalidDataException($"{reducer} state: {what}: value {value} outside 0..{counts.Length - 1}.");
            }

            if (counts[value] != 0)
            {
                throw new InvalidDataException($"{reducer} state: {what}: value {value} appears twice.");
            }

            counts[value] = StateReading.Count(ref reader, reducer, $"the count of {value} in {what}");
        }
    }

    /// <summary>
    /// Writes the non-zero counts as a JSON object <c>{"key": count, ...}</c>, by count descending, then key
    /// (ordinal) ascending, so equal states always give the same bytes.
    /// </summary>
    public static void WriteByCountThenKey(Utf8JsonWriter writer, long[] counts, Func<int, string> name)
    {
        var entries = new List<KeyValuePair<string, long>>();
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] != 0)
            {
                entries.Add(new KeyValuePair<string, long>(name(i), counts[i]));
            }
        }

        entries.Sort(static (a, b) =>
        {
            int byCount = b.Value.CompareTo(a.Value);
            return byCount != 0 ? byCount : string.CompareOrdinal(a.Key, b.Key);
        });
        writer.WriteStartObject();
        foreach (var entry in entries)
        {
            writer.WriteNumber(entry.Key, entry.Value);
        }

        writer.WriteEndObject();
    }

    /// <summary>The value as a decimal string (invariant culture).</summary>
    public static string Decimal(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>"NOERROR", "NXDOMAIN", ... (IANA DNS RCODEs), or the decimal value.</summary>
    public static string RcodeName(int rcode) => DnsRcode.Name(rcode);

    /// <summary>"QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE", "DSO", or the decimal value.</summary>
    public static string OpcodeName(int opcode) => opcode switch
    {
        0 => "QUERY",
        1 => "IQUERY",
        2 => "STATUS",
        4 => "NOTIFY",
        5 => "UPDATE",
        6 => "DSO",
        _ => Decimal(opcode),
    };

    /// <summary>"A", "AAAA", ... or TYPEnnn (RFC 3597), as <see cref="DnsRecordType.TryFormat"/> writes it.</summary>
    public static string TypeName(int type)
    {
        Span<byte> text = stackalloc byte[32];
        DnsRecordType.TryFormat((ushort)type, text, out int n);
        return Encoding.ASCII.GetString(text[..n]);
    }

    /// <summary>"IN", "CH", "HS", "NONE", "ANY" or CLASSnnn, as <see cref="DnsClass.TryFormat"/> writes it.</summary>
    public static string ClassName(int @class)
    {
        Span<byte> text = stackalloc byte[32];
        DnsClass.TryFormat((ushort)@class, text, out int n);
        return Encoding.ASCII.GetString(text[..n]);
    }
}
