using System.Buffers.Binary;
using RataDns.DnsWire;

namespace RataDns.Capture.Tcp;

/// <summary>
/// Identifies a TCP connection independently of the direction of a segment: the IP version and the two endpoints
/// (address, port), the lower endpoint first. Addresses are copied into fixed fields (two big-endian halves; an IPv4
/// address is the low 32 bits of the second half), so the key owns no span and no array.
/// </summary>
internal readonly struct TcpConnectionKey : IEquatable<TcpConnectionKey>
{
    // Endpoint "low" and endpoint "high" after ordering: address as two big-endian halves, then the port.
    private readonly ulong _lowHigh;
    private readonly ulong _lowLow;
    private readonly ulong _highHigh;
    private readonly ulong _highLow;
    private readonly ushort _lowPort;
    private readonly ushort _highPort;
    private readonly byte _ipVersion;

    private TcpConnectionKey(
        byte ipVersion, ulong lowHigh, ulong lowLow, ushort lowPort, ulong highHigh, ulong highLow, ushort highPort)
    {
        _ipVersion = ipVersion;
        _lowHigh = lowHigh;
        _lowLow = lowLow;
        _lowPort = lowPort;
        _highHigh = highHigh;
        _highLow = highLow;
        _highPort = highPort;
    }

    /// <summary>
    /// Builds the key of <paramref name="segment"/>'s connection. <paramref name="fromLow"/> tells whether the
    /// segment travels from the lower endpoint to the higher one. False when the addresses do not match the version.
    /// </summary>
    public static bool TryCreate(in DecodedPacket segment, out TcpConnectionKey key, out bool fromLow)
    {
        key = default;
        fromLow = true;
        int addressLength = segment.IpVersion switch
        {
            4 => 4,
            6 => 16,
            _ => 0,
        };
        if (addressLength == 0
            || segment.SourceAddress.Length != addressLength
            || segment.DestinationAddress.Length != addressLength)
        {
            return false;
        }

        ReadAddress(segment.SourceAddress, out ulong sourceHigh, out ulong sourceLow);
        ReadAddress(segment.DestinationAddress, out ulong destinationHigh, out ulong destinationLow);
        fromLow = Compare(sourceHigh, sourceLow, segment.SourcePort, destinationHigh, destinationLow, segment.DestinationPort) <= 0;
        key = fromLow
            ? new TcpConnectionKey(segment.IpVersion, sourceHigh, sourceLow, segment.SourcePort, destinationHigh, destinationLow, segment.DestinationPort)
            : new TcpConnectionKey(segment.IpVersion, destinationHigh, destinationLow, segment.DestinationPort, sourceHigh, sourceLow, segment.SourcePort);
        return true;
    }

    /// <summary>
    /// Rebuilds a TCP segment header for one direction of this connection (addresses, ports, IP version; no payload),
    /// for messages delivered when nothing arrives any more (end of capture). The addresses are written into the
    /// caller's two 16-byte buffers.
    /// </summary>
    public DecodedPacket ToSegment(bool fromLow, Span<byte> sourceBuffer, Span<byte> destinationBuffer)
    {
        int length = _ipVersion == 6 ? 16 : 4;
        WriteAddress(fromLow ? _lowHigh : _highHigh, fromLow ? _lowLow : _highLow, sourceBuffer[..length]);
        WriteAddress(fromLow ? _highHigh : _lowHigh, fromLow ? _highLow : _lowLow, destinationBuffer[..length]);
        var builder = new PacketDecoder.Builder
        {
            IpVersion = _ipVersion,
            SourceAddress = sourceBuffer[..length],
            DestinationAddress = destinationBuffer[..length],
            IpProtocol = (byte)TransportProtocol.Tcp,
            IpHeaderCount = 1,
            SourcePort = fromLow ? _lowPort : _highPort,
            DestinationPort = fromLow ? _highPort : _lowPort,
            Transport = TransportProtocol.Tcp,
        };
        return new DecodedPacket(in builder);
    }

    public bool Equals(TcpConnectionKey other) =>
        _lowHigh == other._lowHigh
        && _lowLow == other._lowLow
        && _highHigh == other._highHigh
        && _highLow == other._highLow
        && _lowPort == other._lowPort
        && _highPort == other._highPort
        && _ipVersion == other._ipVersion;

    public override bool Equals(object? obj) => obj is TcpConnectionKey other && Equals(other);

    public override int GetHashCode() => Hash(0);

    /// <summary>The hash mixed with <paramref name="seed"/> (<see cref="HashCode"/> is itself randomised per process).</summary>
    public int Hash(ulong seed) =>
        HashCode.Combine(seed, _lowHigh ^ (_highHigh * 31), _lowLow, _highLow, ((uint)_lowPort << 16) | _highPort, _ipVersion);

    private static void ReadAddress(ReadOnlySpan<byte> address, out ulong high, out ulong low)
    {
        if (address.Length == 16)
        {
            high = BinaryPrimitives.ReadUInt64BigEndian(address);
            low = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
        }
        else
        {
            high = 0;
            low = BinaryPrimitives.ReadUInt32BigEndian(address);
        }
    }

    private static void WriteAddress(ulong high, ulong low, Span<byte> destination)
    {
        if (destination.Length == 16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, high);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], low);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)low);
        }
    }

    private static int Compare(ulong aHigh, ulong aLow, ushort aPort, ulong bHigh, ulong bLow, ushort bPort)
    {
        int c = aHigh.CompareTo(bHigh);
        if (c != 0)
        {
            return c;
        }

        c = aLow.CompareTo(bLow);
        return c != 0 ? c : aPort.CompareTo(bPort);
    }
}

/// <summary>
/// Compares connection keys with a hash seeded per reassembler, so that a sender who picks addresses and ports to
/// collide in one process does not collide in another (STYLE 8: state keyed by attacker-controlled data).
/// </summary>
internal sealed class TcpConnectionKeyComparer : IEqualityComparer<TcpConnectionKey>
{
    private readonly ulong _seed = HashKeys.New().K0;

    public bool Equals(TcpConnectionKey x, TcpConnectionKey y) => x.Equals(y);

    public int GetHashCode(TcpConnectionKey obj) => obj.Hash(_seed);
}
