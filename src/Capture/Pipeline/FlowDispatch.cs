using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using RataDns.DnsWire;

namespace RataDns.Capture.Pipeline;

/// <summary>
/// What the capture thread needs to know about a frame to hand it to a worker: whether it counts as a DNS packet
/// (for windows of W packets) and a flow hash that sends both directions of a conversation, every segment of a TCP
/// stream and every fragment of an IP datagram to the same worker. A cheap link/IP/transport decode, no DNS parsing.
/// </summary>
public static class FlowDispatch
{
    /// <summary>
    /// Decodes <paramref name="frame"/> far enough to classify it. Returns true for a DNS packet: a UDP datagram or
    /// TCP segment with a payload on a DNS port (also when the snap length cut it), or the first fragment of an IP
    /// datagram (the one that will carry the UDP/TCP header; later fragments complete the same packet).
    /// <paramref name="hash"/> is symmetric (swapping source and destination gives the same value) and depends on
    /// the two IP addresses only: every packet between two hosts (both directions, every TCP segment, every fragment,
    /// which carries no ports past the first) reaches the same worker, so a query and its response always meet, even
    /// when the response is fragmented. The price: the traffic of a single client (a load generator) stays on one
    /// worker; a server's many clients spread over all of them.
    /// </summary>
    public static bool Classify(in CapturedFrame frame, DnsPortSet ports, ulong seed, out uint hash) =>
        Classify(in frame, ports, seed, out hash, out _);

    /// <summary>
    /// As <see cref="Classify(in CapturedFrame, DnsPortSet, ulong, out uint)"/>, also keeping what the decode found
    /// (<paramref name="hint"/>) for the worker, which then does not decode the frame again.
    /// </summary>
    public static bool Classify(in CapturedFrame frame, DnsPortSet ports, ulong seed, out uint hash, out FrameDecodeHint hint)
    {
        var status = PacketDecoder.Decode(in frame, ports, out var packet);
        hash = packet.SourceAddress.IsEmpty ? 0 : Conversation(packet.SourceAddress, 0, packet.DestinationAddress, 0, seed);
        hint = FrameDecodeHint.From(status, in packet, frame.Data);
        return IsDnsPacket(status, in packet);
    }

    /// <summary>As <see cref="Classify(in CapturedFrame, DnsPortSet, ulong, out uint, out FrameDecodeHint)"/> without the hash (one worker).</summary>
    public static bool Classify(in CapturedFrame frame, DnsPortSet ports, out FrameDecodeHint hint)
    {
        var status = PacketDecoder.Decode(in frame, ports, out var packet);
        hint = FrameDecodeHint.From(status, in packet, frame.Data);
        return IsDnsPacket(status, in packet);
    }

    /// <summary>As <see cref="Classify(in CapturedFrame, DnsPortSet, ulong, out uint)"/> without the hash (one worker).</summary>
    public static bool Classify(in CapturedFrame frame, DnsPortSet ports) => Classify(in frame, ports, out _);

    private static bool IsDnsPacket(PacketDecodeStatus status, in DecodedPacket packet)
    {
        switch (status)
        {
            case PacketDecodeStatus.Ok:
            case PacketDecodeStatus.Snapped:
                return !packet.Payload.IsEmpty && (status == PacketDecodeStatus.Ok || packet.Transport == TransportProtocol.Udp);

            case PacketDecodeStatus.IpFragment:
                return packet.FragmentOffset == 0;

            default:
                // Not DNS: any worker will do (it only counts the frame); the hash keeps conversations together anyway.
                return false;
        }
    }

    /// <summary>Maps a hash onto [0, <paramref name="workers"/>) without a division (Lemire's multiply-shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WorkerOf(uint hash, int workers) => (int)(((ulong)hash * (uint)workers) >> 32);

    /// <summary>A symmetric hash of two endpoints: each endpoint is mixed alone, then the two are added.</summary>
    public static uint Conversation(ReadOnlySpan<byte> addressA, ushort portA, ReadOnlySpan<byte> addressB, ushort portB, ulong seed)
    {
        ulong a = Endpoint(addressA, portA, seed);
        ulong b = Endpoint(addressB, portB, seed);
        return (uint)(Mix(a + b + seed) >> 32);
    }

    private static ulong Endpoint(ReadOnlySpan<byte> address, ushort port, ulong seed)
    {
        ulong h = seed ^ ((ulong)port << 48) ^ (ulong)address.Length;
        while (address.Length >= 8)
        {
            h = Mix(h ^ BinaryPrimitives.ReadUInt64LittleEndian(address));
            address = address[8..];
        }

        if (address.Length >= 4)
        {
            h = Mix(h ^ BinaryPrimitives.ReadUInt32LittleEndian(address));
            address = address[4..];
        }

        foreach (byte b in address)
        {
            h = Mix(h ^ b);
        }

        return Mix(h);
    }

    /// <summary>A 64-bit finaliser (the murmur3 / splitmix constants): every input bit affects every output bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return x;
    }
}
