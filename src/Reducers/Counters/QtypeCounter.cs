using System.Text.Json;
using MessagePack;

namespace RataDns.Reducers.Counters;

/// <summary>
/// QtypeCounter: the questions of queries (QR = 0) by QTYPE, <c>{"A": n, "AAAA": n, "TYPE65280": n}</c>, by count
/// descending then name (mnemonic, or TYPEnnn per RFC 3597). Every question is counted, so a query with two
/// questions counts twice; in a malformed question section the questions read before the fault are counted.
/// Exact: one counter per possible 16-bit type (512 KiB).
/// </summary>
public sealed class QtypeCounter : Reducer
{
    private readonly long[] _counts = new long[ushort.MaxValue + 1];

    /// <inheritdoc />
    public override string Type => "QtypeCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.IsQuery)
        {
            CounterSupport.CountQuestions(in packet, _counts, byClass: false);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<QtypeCounter>(other);
        CounterSupport.Add(_counts, same._counts);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CounterSupport.WriteByCountThenKey(writer, _counts, CounterSupport.TypeName);
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary><c>[1, {qtype: count}]</c>: the non-zero counters by 16-bit QTYPE value.</summary>
    public override void WriteState(ref MessagePackWriter writer) => CounterSupport.WriteState(ref writer, _counts);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) => CounterSupport.ReadState(ref reader, _counts, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset() => Array.Clear(_counts);

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new QtypeCounter();
}
