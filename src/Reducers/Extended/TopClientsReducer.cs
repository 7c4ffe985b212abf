using System.Text;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Extended;

/// <summary>
/// TopClients: queries (QR = 0, one per message) counted by client source address, written as text: IPv4 dotted
/// quad, IPv6 in the RFC 5952 canonical form (<see cref="DnsPresentation.TryFormatAddress"/>).
/// Output and error bounds: see <see cref="HeavyHitterReducer"/> (<c>{"total", "top": [{"client", "count",
/// "error"}]}</c>; options <c>Capacity</c>, default 10000, and <c>N</c>, default 20). The key is the 4 or 16
/// address bytes, so an IPv4 client and its IPv4-mapped IPv6 form are different clients.
/// </summary>
public sealed class TopClientsReducer : HeavyHitterReducer
{
    public TopClientsReducer(int n = DefaultN, int capacity = DefaultCapacity)
        : base(n, capacity)
    {
    }

    /// <inheritdoc />
    public override string Type => "TopClients";

    /// <inheritdoc />
    protected override string KeyProperty => "client";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.IsQuery)
        {
            Summary.Offer(packet.SourceAddress);
        }
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new TopClientsReducer(N, Capacity);

    /// <inheritdoc />
    protected override int FormatKey(ReadOnlySpan<byte> key, Span<byte> text)
    {
        if (DnsPresentation.TryFormatAddress(key, text, out int n))
        {
            return n;
        }

        return System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(key), text);
    }

    /// <inheritdoc />
    protected override bool IsStoredKey(ReadOnlySpan<byte> key) => StateKeys.IsAddress(key);

    /// <summary>The address as text (RFC 5952 for IPv6); lowercase hex for a length that is neither 4 nor 16.</summary>
    internal static string FormatAddress(ReadOnlySpan<byte> address)
    {
        Span<byte> text = stackalloc byte[64];
        return DnsPresentation.TryFormatAddress(address, text, out int n)
            ? Encoding.ASCII.GetString(text[..n])
            : Convert.ToHexStringLower(address);
    }
}
