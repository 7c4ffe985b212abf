using System.Buffers.Binary;

namespace RataDns.App.Gen;

/// <summary>
/// The clients of a unique-client flood: every <see cref="Advance"/> hands out an address never handed out before.
/// IPv4 addresses count up through 10.0.0.0/8, then 100.64.0.0/10 (RFC 6598), then 172.16.0.0/12, each range without
/// its first and last address; IPv6 addresses count up through 2001:db8:ffff::/64 (RFC 3849). Once the IPv4 ranges are
/// used up every further client is IPv6, so addresses never repeat however long the flood. Two reused buffers hold
/// the current address: no allocation per client.
/// </summary>
internal sealed class FloodClients
{
    /// <summary>The IPv4 ranges, in order: first address and size (a power of two).</summary>
    private static readonly (uint First, uint Size)[] Ipv4Ranges =
    [
        (0x0A00_0000u, 1u << 24),   // 10.0.0.0/8
        (0x6440_0000u, 1u << 22),   // 100.64.0.0/10
        (0xAC10_0000u, 1u << 20),   // 172.16.0.0/12
    ];

    private readonly byte[] _ipv4 = new byte[4];
    private readonly byte[] _ipv6 = [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private int _range;
    private uint _inRange;
    private ulong _ipv6Count;
    private bool _currentIsIpv6;

    /// <summary>How many clients have been handed out, the current one included.</summary>
    public ulong Count { get; private set; }

    /// <summary>The current client's address (4 or 16 bytes; rewritten by <see cref="Advance"/>).</summary>
    public ReadOnlySpan<byte> Current => _currentIsIpv6 ? _ipv6 : _ipv4;

    /// <summary>Moves to a new client, IPv6 when <paramref name="preferIpv6"/> or when IPv4 is used up.</summary>
    public void Advance(bool preferIpv6)
    {
        Count++;
        if (!preferIpv6 && _range < Ipv4Ranges.Length)
        {
            var (first, size) = Ipv4Ranges[_range];
            BinaryPrimitives.WriteUInt32BigEndian(_ipv4, first + 1 + _inRange);   // skip the range's first address
            _currentIsIpv6 = false;
            if (++_inRange == size - 2)                                          // and its last
            {
                _range++;
                _inRange = 0;
            }

            return;
        }

        BinaryPrimitives.WriteUInt64BigEndian(_ipv6.AsSpan(8), ++_ipv6Count);
        _currentIsIpv6 = true;
    }
}
