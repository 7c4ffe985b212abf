using System.Buffers.Binary;
using RataDns.Capture;
using RataDns.Capture.Fragments;
using RataDns.DnsWire;
using static RataDns.Tests.Capture.PacketBuilder;

namespace RataDns.Tests.Capture.Fragments;

/// <summary>What one fragment fed to a reassembler gave, copied out of the spans.</summary>
internal sealed record FeedOutcome(
    PacketDecodeStatus FragmentStatus, FragmentResult Result, byte[]? Payload, PacketDecodeStatus? Decoded, ReassembledPacket? Packet);

/// <summary>The members of a decoded reassembled packet, copied out of its spans.</summary>
internal sealed class ReassembledPacket(DecodedPacket p)
{
    public int IpVersion { get; } = p.IpVersion;

    public byte[] Source { get; } = p.SourceAddress.ToArray();

    public byte[] Destination { get; } = p.DestinationAddress.ToArray();

    public int IpProtocol { get; } = p.IpProtocol;

    public int IpHeaderCount { get; } = p.IpHeaderCount;

    public int SourcePort { get; } = p.SourcePort;

    public int DestinationPort { get; } = p.DestinationPort;

    public TransportProtocol Transport { get; } = p.Transport;

    public byte[] Payload { get; } = p.Payload.ToArray();

    public uint TcpSequence { get; } = p.TcpSequence;
}

/// <summary>Builds fragmented raw-IP frames and feeds them through the decoder and a reassembler.</summary>
internal static class FragmentTestSupport
{
    public const byte ProtocolUdp = 17;
    public const byte ProtocolTcp = 6;

    /// <summary>A DNS-looking payload: a header with <paramref name="id"/> and the QR bit, then filler bytes that depend on the seed.</summary>
    public static byte[] DnsMessage(ushort id, int length, int seed = 1)
    {
        var message = new byte[length];
        new Random(seed).NextBytes(message);
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), 0x8180);
        return message;
    }

    /// <summary>
    /// Cuts <paramref name="ipPayload"/> into IPv4 fragments of <paramref name="size"/> bytes (a multiple of 8), each a
    /// whole raw IPv4 packet, in order. <paramref name="sourceHost"/> replaces the last byte of the source address.
    /// </summary>
    public static List<byte[]> Ipv4Fragments(byte protocol, byte[] ipPayload, int size, ushort identification, byte sourceHost = 1)
    {
        var frames = new List<byte[]>();
        for (int offset = 0; offset < ipPayload.Length; offset += size)
        {
            int length = Math.Min(size, ipPayload.Length - offset);
            bool more = offset + length < ipPayload.Length;
            frames.Add(Ipv4Fragment(protocol, ipPayload.AsSpan(offset, length).ToArray(), offset, more, identification, sourceHost));
        }

        return frames;
    }

    public static byte[] Ipv4Fragment(byte protocol, byte[] data, int offset, bool more, ushort identification, byte sourceHost = 1)
    {
        ushort flagsAndOffset = (ushort)((more ? 0x2000 : 0) | (offset / 8));
        byte[] frame = Ipv4(protocol, data, identification: identification, flagsAndOffset: flagsAndOffset);
        frame[15] = sourceHost;
        return frame;
    }

    /// <summary>As <see cref="Ipv4Fragments"/>, for IPv6 with a Fragment header (RFC 8200 4.5).</summary>
    public static List<byte[]> Ipv6Fragments(byte nextHeader, byte[] ipPayload, int size, uint identification, byte sourceHost = 1)
    {
        var frames = new List<byte[]>();
        for (int offset = 0; offset < ipPayload.Length; offset += size)
        {
            int length = Math.Min(size, ipPayload.Length - offset);
            bool more = offset + length < ipPayload.Length;
            frames.Add(Ipv6FragmentPacket(nextHeader, ipPayload.AsSpan(offset, length).ToArray(), offset, more, identification, sourceHost));
        }

        return frames;
    }

    public static byte[] Ipv6FragmentPacket(byte nextHeader, byte[] data, int offset, bool more, uint identification, byte sourceHost = 1)
    {
        byte[] frame = Ipv6(44, Ipv6Fragment(nextHeader, data, offset, more, identification));
        frame[23] = sourceHost;
        return frame;
    }

    /// <summary>Decodes a raw IP frame, adds it if it is a fragment, and decodes a completed datagram.</summary>
    public static FeedOutcome Feed(IpFragmentReassembler reassembler, byte[] frame, long timestamp = 0, DnsPortSet? ports = null)
    {
        ports ??= DnsPortSet.Default;
        var status = PacketDecoder.Decode(LinkType.Raw, frame, ports, out var fragment);
        if (status != PacketDecodeStatus.IpFragment)
        {
            return new FeedOutcome(status, FragmentResult.Invalid, null, null, null);
        }

        var result = reassembler.Add(in fragment, timestamp, out var payload);
        if (result != FragmentResult.Reassembled)
        {
            Assert.True(payload.IsEmpty);
            return new FeedOutcome(status, result, null, null, null);
        }

        var decoded = PacketDecoder.DecodeReassembled(in fragment, payload, ports, out var packet);
        return new FeedOutcome(status, result, payload.ToArray(), decoded, new ReassembledPacket(packet));
    }

    /// <summary>Feeds every frame; returns the outcomes in order.</summary>
    public static List<FeedOutcome> FeedAll(IpFragmentReassembler reassembler, IEnumerable<byte[]> frames, long timestamp = 0) =>
        [.. frames.Select(f => Feed(reassembler, f, timestamp))];

    public static List<T> Shuffled<T>(IReadOnlyList<T> items, Random random)
    {
        var list = items.ToList();
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }

        return list;
    }
}
