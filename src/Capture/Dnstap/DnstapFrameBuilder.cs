using System.Buffers.Binary;

namespace RataDns.Capture.Dnstap;

/// <summary>
/// The packet a dnstap message stands for, as a <see cref="LinkType.Dnstap"/> frame: a <see cref="DnstapPacketHeader"/>
/// (the encrypted transport, the server's query time of a response) then a raw IP packet, so that everything that
/// reads captured packets reads dnstap the same way: IPv4 or IPv6 by <c>socket_family</c>; a query goes from the
/// query address and port to the response address and port, a response back; UDP for UDP, DNSCrypt over UDP and
/// DoQ, TCP (one segment, the 2-byte length then the message, PSH and ACK, sequence numbers following on per
/// direction) for TCP, DoT, DoH and DNSCrypt over TCP. Missing addresses are the family's zero address, a missing
/// server port is 53. Checksums are computed, so other tools read the IP packets (the frame after the header) as
/// valid packets. The frame's time is the server's: the query time of a query, the response time of a response.
/// </summary>
/// <remarks>One builder per stream of messages (it keeps TCP sequence numbers per flow, at most <see cref="MaxFlows"/>).</remarks>
public sealed class DnstapFrameBuilder
{
    /// <summary>TCP flows whose sequence numbers are kept; beyond, the table starts over (a new flow starts at 1).</summary>
    public const int MaxFlows = 65536;

    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;
    private readonly Dictionary<(UInt128 Source, UInt128 Destination, uint Ports), uint> _sequences = [];

    /// <summary>The largest frame built: the dnstap header, IPv6 and TCP headers, the length prefix and a 64 KiB message.</summary>
    public const int MaxFrameBytes = DnstapPacketHeader.Size + 40 + 20 + 2 + 65535;

    /// <summary>
    /// Writes the frame of <paramref name="message"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxFrameBytes"/> bytes, or the message's size plus 74). False when the message carries no DNS
    /// message of its direction, or an unknown family.
    /// </summary>
    public bool TryBuild(scoped in DnstapMessage message, Span<byte> destination, out int length, out long timestampNanoseconds)
    {
        if (!TryBuildPacket(in message, destination.Length > DnstapPacketHeader.Size ? destination[DnstapPacketHeader.Size..] : default, out length, out timestampNanoseconds))
        {
            return false;
        }

        long serverQueryTime = message.IsResponse && message.QueryTimeSeconds != 0 && message.ResponseTimeSeconds != 0
            ? TimeOf(message.QueryTimeSeconds, message.QueryTimeNanoseconds)
            : 0;
        DnstapPacketHeader.Write(destination, DnstapPacketHeader.EncryptionOf(message.Protocol), message.Type, serverQueryTime);
        length += DnstapPacketHeader.Size;
        return true;
    }

    private bool TryBuildPacket(scoped in DnstapMessage message, Span<byte> destination, out int length, out long timestampNanoseconds)
    {
        length = 0;
        timestampNanoseconds = 0;
        var dns = message.DnsMessage;
        int addressLength = message.SocketFamily switch
        {
            1 => 4,
            2 => 16,
            _ => 0,
        };
        if (dns.IsEmpty || addressLength == 0 || dns.Length > ushort.MaxValue)
        {
            return false;
        }

        bool tcp = message.Protocol is DnstapProtocol.Tcp or DnstapProtocol.Dot or DnstapProtocol.Doh or DnstapProtocol.DnsCryptTcp;
        int ipHeader = addressLength == 4 ? 20 : 40;
        int transportHeader = tcp ? 20 : 8;
        int payload = dns.Length + (tcp ? 2 : 0);
        length = ipHeader + transportHeader + payload;
        if (destination.Length < length || length - (addressLength == 4 ? 0 : ipHeader) > ushort.MaxValue)
        {
            length = 0;
            return false;
        }

        Span<byte> client = stackalloc byte[16];
        Span<byte> server = stackalloc byte[16];
        client = client[..addressLength];
        server = server[..addressLength];
        client.Clear();
        server.Clear();
        if (message.QueryAddress.Length == addressLength)
        {
            message.QueryAddress.CopyTo(client);
        }

        if (message.ResponseAddress.Length == addressLength)
        {
            message.ResponseAddress.CopyTo(server);
        }

        ushort clientPort = message.QueryPort;
        ushort serverPort = message.ResponsePort != 0 ? message.ResponsePort : (ushort)53;
        bool response = message.IsResponse;
        ReadOnlySpan<byte> source = response ? server : client;
        ReadOnlySpan<byte> target = response ? client : server;
        ushort sourcePort = response ? serverPort : clientPort;
        ushort targetPort = response ? clientPort : serverPort;

        var frame = destination[..length];
        frame.Clear();
        byte protocol = tcp ? ProtocolTcp : ProtocolUdp;
        if (addressLength == 4)
        {
            frame[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)length);
            frame[6] = 0x40; // DF
            frame[8] = 64;
            frame[9] = protocol;
            source.CopyTo(frame[12..]);
            target.CopyTo(frame[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[10..], InternetChecksum.Finish(InternetChecksum.Add(0, frame[..20])));
        }
        else
        {
            frame[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(frame[4..], (ushort)(length - 40));
            frame[6] = protocol;
            frame[7] = 64;
            source.CopyTo(frame[8..]);
            target.CopyTo(frame[24..]);
        }

        var segment = frame[ipHeader..];
        BinaryPrimitives.WriteUInt16BigEndian(segment, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment[2..], targetPort);
        int checksumOffset;
        if (tcp)
        {
            BinaryPrimitives.WriteUInt32BigEndian(segment[4..], NextSequence(source, target, sourcePort, targetPort, (uint)payload));
            segment[12] = 5 << 4;
            segment[13] = 0x18; // PSH, ACK
            BinaryPrimitives.WriteUInt16BigEndian(segment[14..], 65535);
            BinaryPrimitives.WriteUInt16BigEndian(segment[20..], (ushort)dns.Length);
            dns.CopyTo(segment[22..]);
            checksumOffset = 16;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)segment.Length);
            dns.CopyTo(segment[8..]);
            checksumOffset = 6;
        }

        // The pseudo-header (RFC 768, RFC 9293 3.1, RFC 8200 8.1): addresses, protocol, transport length.
        uint sum = InternetChecksum.Add(0, source);
        sum = InternetChecksum.Add(sum, target);
        sum += protocol;
        sum += (uint)segment.Length;
        ushort checksum = InternetChecksum.Finish(InternetChecksum.Add(sum, segment));
        BinaryPrimitives.WriteUInt16BigEndian(segment[checksumOffset..], checksum == 0 && !tcp ? (ushort)0xFFFF : checksum);

        (ulong seconds, uint nanoseconds) = response
            ? (message.ResponseTimeSeconds != 0 ? (message.ResponseTimeSeconds, message.ResponseTimeNanoseconds) : (message.QueryTimeSeconds, message.QueryTimeNanoseconds))
            : (message.QueryTimeSeconds != 0 ? (message.QueryTimeSeconds, message.QueryTimeNanoseconds) : (message.ResponseTimeSeconds, message.ResponseTimeNanoseconds));
        timestampNanoseconds = TimeOf(seconds, nanoseconds);
        return true;
    }

    private static long TimeOf(ulong seconds, uint nanoseconds) =>
        (long)Math.Min(seconds, (ulong)(long.MaxValue / 1_000_000_000 - 1)) * 1_000_000_000 + Math.Min(nanoseconds, 999_999_999u);

    private uint NextSequence(ReadOnlySpan<byte> source, ReadOnlySpan<byte> target, ushort sourcePort, ushort targetPort, uint bytes)
    {
        var key = (Key(source), Key(target), ((uint)sourcePort << 16) | targetPort);
        if (!_sequences.TryGetValue(key, out uint next))
        {
            if (_sequences.Count >= MaxFlows)
            {
                _sequences.Clear();
            }

            next = 1;
        }

        _sequences[key] = next + bytes;
        return next;
    }

    private static UInt128 Key(ReadOnlySpan<byte> address)
    {
        Span<byte> wide = stackalloc byte[16];
        wide.Clear();
        address.CopyTo(wide);
        return BinaryPrimitives.ReadUInt128BigEndian(wide);
    }
}
