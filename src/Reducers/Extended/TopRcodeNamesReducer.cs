using RataDns.DnsWire;
using RataDns.Reducers.Counters;
using RataDns.Reducers.Original;

namespace RataDns.Reducers.Extended;

/// <summary>
/// TopNxdomainNames, TopRefusedNames and TopServfailNames: responses (QR = 1) whose RCODE is 3, 5 or 2, counted by
/// question name (every question of the response), lowercased and written with the trailing dot as
/// <see cref="NameCounterReducer"/> writes names. The RCODE is the one <see cref="RcodeCounter"/> counts: the
/// 12-bit extended RCODE when the response has an OPT record (RFC 6891 6.1.3), else the header's.
/// Output and error bounds: see <see cref="HeavyHitterReducer"/> (<c>{"total", "top": [{"name", "count",
/// "error"}]}</c>; options <c>Capacity</c>, default 10000, and <c>N</c>, default 20).
/// </summary>
public sealed class TopRcodeNamesReducer : HeavyHitterReducer
{
    public const int Servfail = 2;
    public const int Nxdomain = 3;
    public const int Refused = 5;

    private readonly int _rcode;

    public TopRcodeNamesReducer(int rcode, int n = DefaultN, int capacity = DefaultCapacity)
        : base(n, capacity)
    {
        if (rcode is not (Servfail or Nxdomain or Refused))
        {
            throw new ArgumentOutOfRangeException(nameof(rcode), rcode, "Only SERVFAIL (2), NXDOMAIN (3) and REFUSED (5) have a reducer.");
        }

        _rcode = rcode;
    }

    /// <summary>The RCODE counted.</summary>
    public int Rcode => _rcode;

    /// <inheritdoc />
    public override string Type => _rcode switch
    {
        Nxdomain => "TopNxdomainNames",
        Refused => "TopRefusedNames",
        _ => "TopServfailNames",
    };

    /// <inheritdoc />
    protected override string KeyProperty => "name";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsResponse || packet.HeaderBytes < DnsHeader.Size)
        {
            return;
        }

        int rcode = packet.Header.Rcode;
        if (rcode != (_rcode & 0xF))
        {
            // The extended RCODE keeps the header's 4 bits as its low bits, so a different header RCODE never matches.
            return;
        }

        var header = packet.Header;
        rcode = packet.Facts.Rcode(in header);

        if (rcode == _rcode)
        {
            NameCounting.OfferQuestionNames(Summary, in packet);
        }
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new TopRcodeNamesReducer(_rcode, N, Capacity);

    /// <inheritdoc />
    protected override int FormatKey(ReadOnlySpan<byte> key, Span<byte> text) => ReducerText.FormatWireName(key, text);
}
