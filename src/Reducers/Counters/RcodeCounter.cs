using System.Text.Json;
using MessagePack;

namespace RataDns.Reducers.Counters;

/// <summary>
/// RcodeCounter: responses (QR = 1) by RCODE, <c>{"NOERROR": n, "NXDOMAIN": n, ...}</c>, by count descending then
/// name. With an OPT record in the additional section the 12-bit extended RCODE is counted
/// (<c>(OPT TTL high byte &lt;&lt; 4) | header RCODE</c>, RFC 6891 6.1.3), so BADVERS (16) and BADCOOKIE (23)
/// appear; otherwise the 4-bit header RCODE. Names are the IANA mnemonics, other values their decimal form. A
/// response shorter than 4 bytes (RCODE not captured) is not counted; a response whose records cannot be read up
/// to its OPT record counts its header RCODE. Exact: one counter per possible 12-bit value.
/// </summary>
public sealed class RcodeCounter : Reducer
{
    private const int RcodeValues = 1 << 12;

    private readonly long[] _counts = new long[RcodeValues];

    /// <inheritdoc />
    public override string Type => "RcodeCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsResponse || packet.HeaderBytes < 4)
        {
            return;
        }

        var header = packet.Header;
        _counts[packet.Facts.Rcode(in header)]++;
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<RcodeCounter>(other);
        CounterSupport.Add(_counts, same._counts);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CounterSupport.WriteByCountThenKey(writer, _counts, CounterSupport.RcodeName);
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary><c>[1, {rcode: count}]</c>: the non-zero counters by 12-bit RCODE value.</summary>
    public override void WriteState(ref MessagePackWriter writer) => CounterSupport.WriteState(ref writer, _counts);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) => CounterSupport.ReadState(ref reader, _counts, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset() => Array.Clear(_counts);

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new RcodeCounter();
}
