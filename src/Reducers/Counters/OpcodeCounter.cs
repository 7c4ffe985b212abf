using System.Text.Json;
using MessagePack;

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
    public override void WriteState(ref MessagePackWriter writer) => CounterSupport.WriteQueriesAndResponses(ref writer, _queries, _responses);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) => CounterSupport.ReadQueriesAndResponses(ref reader, _queries, _responses, Type);

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
