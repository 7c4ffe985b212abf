using System.Text.Json;
using MessagePack;

namespace RataDns.Reducers.Counters;

/// <summary>
/// QclassCounter: the questions of queries (QR = 0) by QCLASS, <c>{"IN": n, "CH": n, "CLASS32769": n}</c>, by
/// count descending then name (IN, CH, HS, NONE, ANY, else CLASSnnn per RFC 3597). The raw 16-bit value is
/// counted: the mDNS unicast-response bit (RFC 6762 5.4) is not masked off, so an mDNS "QU" question for IN
/// shows as CLASS32769. Every question is counted, as in <see cref="QtypeCounter"/>. Exact: one counter per
/// possible value (512 KiB).
/// </summary>
public sealed class QclassCounter : Reducer
{
    private readonly long[] _counts = new long[ushort.MaxValue + 1];

    /// <inheritdoc />
    public override string Type => "QclassCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.IsQuery)
        {
            CounterSupport.CountQuestions(in packet, _counts, byClass: true);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<QclassCounter>(other);
        CounterSupport.Add(_counts, same._counts);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CounterSupport.WriteByCountThenKey(writer, _counts, CounterSupport.ClassName);
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary><c>[1, {qclass: count}]</c>: the non-zero counters by 16-bit QCLASS value.</summary>
    public override void WriteState(ref MessagePackWriter writer) => CounterSupport.WriteState(ref writer, _counts);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) => CounterSupport.ReadState(ref reader, _counts, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset() => Array.Clear(_counts);

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new QclassCounter();
}
