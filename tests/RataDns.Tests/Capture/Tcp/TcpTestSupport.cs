using System.Buffers.Binary;
using System.Text;
using RataDns.Capture;
using RataDns.Capture.Tcp;

namespace RataDns.Tests.Capture.TcpReassembly;

/// <summary>A message as delivered: its bytes, the source port of the segment that completed it, and the timestamp.</summary>
internal sealed record DeliveredMessage(byte[] Bytes, ushort SourcePort, long Timestamp)
{
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(Bytes);
}

/// <summary>Copies every message into a list (test-only: allocates per message).</summary>
internal struct RecordingHandler : ITcpMessageHandler
{
    public RecordingHandler()
    {
    }

    public List<DeliveredMessage> Messages { get; } = [];

    public readonly void OnMessage(in DecodedPacket segment, ReadOnlySpan<byte> message, long timestampNanoseconds) =>
        Messages.Add(new DeliveredMessage(message.ToArray(), segment.SourcePort, timestampNanoseconds));
}

/// <summary>Counts messages and their bytes without copying (for the allocation test).</summary>
internal struct CountingHandler : ITcpMessageHandler
{
    public long Messages;
    public long Bytes;

    public void OnMessage(in DecodedPacket segment, ReadOnlySpan<byte> message, long timestampNanoseconds)
    {
        Messages++;
        Bytes += message.Length;
    }
}

/// <summary>Builds DNS messages and real Ethernet/IP/TCP frames, and feeds frames through the packet decoder.</summary>
internal static class TcpTest
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;

    public const ushort ClientPort = 40000;

    /// <summary>A query for <paramref name="name"/> (type A, class IN), padded with an EDNS padding option (RFC 7830) when asked.</summary>
    public static byte[] Query(ushort id, string name = "www.example.com", int padding = -1, bool response = false)
    {
        var b = new List<byte>();
        b.AddRange([(byte)(id >> 8), (byte)id, response ? (byte)0x81 : (byte)0x01, response ? (byte)0x80 : (byte)0x00, 0, 1, 0, 0, 0, 0, 0, padding >= 0 ? (byte)1 : (byte)0]);
        foreach (string label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            b.Add((byte)label.Length);
            b.AddRange(Encoding.ASCII.GetBytes(label));
        }

        b.AddRange([0, 0, 1, 0, 1]);
        if (padding >= 0)
        {
            int rdLength = 4 + padding;
            b.AddRange([0, 0, 41, 0x10, 0, 0, 0, 0, 0, (byte)(rdLength >> 8), (byte)rdLength, 0, 12, (byte)(padding >> 8), (byte)padding]);
            b.AddRange(new byte[padding]);
        }

        return [.. b];
    }

    /// <summary>The message with its 2-byte length prefix (RFC 1035 4.2.2).</summary>
    public static byte[] Framed(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    public static byte[] Framed(params byte[][] messages) => [.. messages.SelectMany(Framed)];

    /// <summary>An Ethernet/IPv4/TCP frame; <paramref name="toServer"/> picks the direction (client port 40000, server port 53).</summary>
    public static byte[] Frame(bool toServer, uint sequence, byte flags, byte[] payload, ushort clientPort = ClientPort, bool ipv6 = false)
    {
        ushort source = toServer ? clientPort : (ushort)53;
        ushort destination = toServer ? (ushort)53 : clientPort;
        byte[] tcp = PacketBuilder.Tcp(source, destination, sequence, flags, payload);
        if (ipv6)
        {
            byte[] ip6 = PacketBuilder.Ipv6(6, tcp);
            if (!toServer)
            {
                Swap(ip6, 8, 24, 16);
            }

            return PacketBuilder.Ethernet(0x86DD, ip6);
        }

        byte[] ip = PacketBuilder.Ipv4(6, tcp);
        if (!toServer)
        {
            Swap(ip, 12, 16, 4);
        }

        return PacketBuilder.Ethernet(0x0800, ip);
    }

    /// <summary>Decodes <paramref name="frame"/> and adds it to the reassembler.</summary>
    public static void Add<THandler>(TcpDnsReassembler reassembler, byte[] frame, ref THandler handler, long timestamp = 0)
        where THandler : ITcpMessageHandler
    {
        var status = PacketDecoder.Decode(LinkType.Ethernet, frame, DnsPortSet.Default, out var packet);
        Assert.Equal(PacketDecodeStatus.Ok, status);
        reassembler.Add(in packet, timestamp, ref handler);
    }

    /// <summary>Sends <paramref name="payload"/> as one segment and returns the next sequence number.</summary>
    public static uint Send(TcpDnsReassembler reassembler, ref RecordingHandler handler, bool toServer, uint sequence, byte[] payload, byte flags = Ack | Psh, long timestamp = 0, ushort clientPort = ClientPort)
    {
        Add(reassembler, Frame(toServer, sequence, flags, payload, clientPort), ref handler, timestamp);
        return sequence + (uint)payload.Length;
    }

    /// <summary>A SYN from the client (sequence <paramref name="isn"/>); the stream's data starts at isn + 1.</summary>
    public static void Open(TcpDnsReassembler reassembler, ref RecordingHandler handler, uint isn, bool toServer = true, ushort clientPort = ClientPort, long timestamp = 0) =>
        Add(reassembler, Frame(toServer, isn, toServer ? Syn : (byte)(Syn | Ack), [], clientPort), ref handler, timestamp);

    private static void Swap(byte[] b, int a, int c, int length)
    {
        for (int i = 0; i < length; i++)
        {
            (b[a + i], b[c + i]) = (b[c + i], b[a + i]);
        }
    }
}
