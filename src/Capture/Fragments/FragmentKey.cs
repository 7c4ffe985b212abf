using System.Buffers.Binary;
using RataDns.DnsWire;

namespace RataDns.Capture.Fragments;

/// <summary>
/// What identifies the fragments of one datagram: for IPv4 source, destination, protocol and Identification
/// (RFC 791 3.2); for IPv6 source, destination and Identification (RFC 8200 4.5), plus the Fragment header's Next
/// Header, so that the protocol handed to <see cref="PacketDecoder.DecodeReassembled"/> is the same for every
/// fragment. Addresses sit in fixed fields (an IPv4 address in the low 32 bits of the first word), never in a string.
/// </summary>
internal readonly struct FragmentKey : IEquatable<FragmentKey>
{
    private readonly ulong _source0;
    private readonly ulong _source1;
    private readonly ulong _destination0;
    private readonly ulong _destination1;

    /// <summary>Identification (32 bits), version (8) and protocol (8) packed in one word.</summary>
    private readonly ulong _identity;

    private FragmentKey(ulong source0, ulong source1, ulong destination0, ulong destination1, ulong identity)
    {
        _source0 = source0;
        _source1 = source1;
        _destination0 = destination0;
        _destination1 = destination1;
        _identity = identity;
    }

    /// <summary>The key of <paramref name="fragment"/>; false when its version and address lengths do not agree.</summary>
    public static bool TryCreate(in DecodedPacket fragment, out FragmentKey key)
    {
        key = default;
        var source = fragment.SourceAddress;
        var destination = fragment.DestinationAddress;
        ulong identity = fragment.FragmentIdentification | ((ulong)fragment.IpVersion << 32) | ((ulong)fragment.IpProtocol << 40);
        if (fragment.IpVersion == 4 && source.Length == 4 && destination.Length == 4)
        {
            key = new FragmentKey(
                BinaryPrimitives.ReadUInt32BigEndian(source), 0, BinaryPrimitives.ReadUInt32BigEndian(destination), 0, identity);
            return true;
        }

        if (fragment.IpVersion == 6 && source.Length == 16 && destination.Length == 16)
        {
            key = new FragmentKey(
                BinaryPrimitives.ReadUInt64BigEndian(source),
                BinaryPrimitives.ReadUInt64BigEndian(source[8..]),
                BinaryPrimitives.ReadUInt64BigEndian(destination),
                BinaryPrimitives.ReadUInt64BigEndian(destination[8..]),
                identity);
            return true;
        }

        return false;
    }

    public bool IsIpv6 => (byte)(_identity >> 32) == 6;

    public bool Equals(FragmentKey other) =>
        _source0 == other._source0
        && _source1 == other._source1
        && _destination0 == other._destination0
        && _destination1 == other._destination1
        && _identity == other._identity;

    public override bool Equals(object? obj) => obj is FragmentKey other && Equals(other);

    /// <summary>Unseeded; the reassembler uses <see cref="Hash"/>, which an attacker cannot steer into one bucket.</summary>
    public override int GetHashCode() => HashCode.Combine(_source0, _source1, _destination0, _destination1, _identity);

    /// <summary>
    /// SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF"; 1 compression and 3 finalisation
    /// rounds, as Rust's default hasher) of the key's five words under a secret 128-bit seed: the addresses and
    /// identifications come from the wire, so without a seed a sender could fill one hash bucket.
    /// </summary>
    public ulong Hash(in FragmentKeySeed seed)
    {
        // The key's five words, little-endian, are the 40-byte message.
        Span<byte> message = stackalloc byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(message, _source0);
        BinaryPrimitives.WriteUInt64LittleEndian(message[8..], _source1);
        BinaryPrimitives.WriteUInt64LittleEndian(message[16..], _destination0);
        BinaryPrimitives.WriteUInt64LittleEndian(message[24..], _destination1);
        BinaryPrimitives.WriteUInt64LittleEndian(message[32..], _identity);
        return SipHash.Hash13(seed.K0, seed.K1, message);
    }
}

/// <summary>The secret key of <see cref="FragmentKey.Hash"/>, drawn once per reassembler.</summary>
internal readonly struct FragmentKeySeed
{
    public FragmentKeySeed(ulong k0, ulong k1)
    {
        K0 = k0;
        K1 = k1;
    }

    public ulong K0 { get; }

    public ulong K1 { get; }

    public static FragmentKeySeed Random()
    {
        var (k0, k1) = HashKeys.New();
        return new FragmentKeySeed(k0, k1);
    }
}
