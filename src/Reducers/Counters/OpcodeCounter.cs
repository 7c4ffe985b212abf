using System.Text.Json;
using MessagePack;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Counters;

/// <summary>
/// OpcodeCounter: messages by OPCODE, split by direction,
/// <c>{"queries": {"QUERY": n, ...}, "responses": {"NOTIFY": n, ...}}</c>; each object by count descending then
/// name (QUERY, IQUERY, STATUS, NOTIFY, UPDATE, DSO, else the decimal value). Both objects are always written,
/// empty when nothing was seen. A message shorter than 3 bytes (flags not captured) is not counted.
/// </summary>
public sealed class OpcodeCounter : Reducer
{
    private const int OpcodeValues = 16;

    private readonly long[] _queries = new long[OpcodeValues];
    private readonly long[] _responses = new long[OpcodeValues];

    /// <inheritdoc />
    public override string Type => "OpcodeCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.IsQuery)
        {
            _queries[packet.Header.Opcode]++;
        }
        else if (packet.IsResponse)
        {
            _responses[packet.Header.Opcode]++;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<OpcodeCounter>(other);
        CounterSupport.Add(_queries, same._queries);
        CounterSupport.Add(_responses, same._responses);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WritePropertyName("queries"u8);
        CounterSupport.WriteByCountThenKey(writer, _queries, CounterSupport.OpcodeName);
        writer.WritePropertyName("responses"u8);
        CounterSupport.WriteByCountThenKey(writer, _responses, CounterSupport.OpcodeName);
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary><c>[1, {opcode: count}, {opcode: count}]</c>: the non-zero counters of queries, then of responses.</summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(3);
        writer.Write(1);
        CounterSupport.WriteCounts(ref writer, _queries);
        CounterSupport.WriteCounts(ref writer, _responses);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 3, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        CounterSupport.ReadCounts(ref reader, _queries, Type, "queries");
        CounterSupport.ReadCounts(ref reader, _responses, Type, "responses");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset()
    {
        Array.Clear(_queries);
        Array.Clear(_responses);
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new OpcodeCounter();
}
