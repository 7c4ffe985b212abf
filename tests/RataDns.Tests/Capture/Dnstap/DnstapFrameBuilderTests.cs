using System.Buffers.Binary;
using RataDns.Capture;
using RataDns.Capture.Dnstap;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;

namespace RataDns.Tests.Capture.Dnstap;

/// <summary>
/// The packets dnstap messages stand for (issue 17): built by <see cref="DnstapFrameBuilder"/>, written as a raw-IP
/// pcap, they must read in tshark — the reference — as the DNS messages, addresses, ports and transports the dnstap
/// fields say, with valid checksums; the decoder reads them back the same way.
/// </summary>
public sealed class DnstapFrameBuilderTests : IDisposable
{
    private static readonly byte[] Client4 = [192, 0, 2, 7];
    private static readonly byte[] Server4 = [198, 51, 100, 53];
    private static readonly byte[] Client6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
    private static readonly byte[] Server6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [SkippableFact]
    public void Tshark_reads_the_frames_as_the_dnstap_fields_say()
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is not installed (scripts/setup.sh installs it)");
        byte[] query = new TestMessageBuilder { Id = 0x1111, Flags = 0x0100 }.Question("dnstap.example", 1).ToArray();
        byte[] answer = new TestMessageBuilder { Id = 0x1111, Flags = 0x8180 }.Question("dnstap.example", 1).ToArray();
        var builder = new DnstapFrameBuilder();
        var frames = new List<(byte[] Frame, long Time)>();
        var whole = new List<(byte[] Frame, DnstapMessageType Type, DnstapProtocol Protocol)>();
        void Add(DnstapMessageType type, byte family, DnstapProtocol protocol, byte[] message)
        {
            var m = new DnstapMessage
            {
                Type = type, SocketFamily = family, Protocol = protocol,
                QueryAddress = family == 1 ? Client4 : Client6, ResponseAddress = family == 1 ? Server4 : Server6,
                QueryPort = 40000, ResponsePort = 53, QueryTimeSeconds = 1_700_000_000, QueryTimeNanoseconds = 5_000,
                ResponseTimeSeconds = 1_700_000_000, ResponseTimeNanoseconds = 9_000,
            };
            if (((byte)type & 1) == 1)
            {
                m.QueryMessage = message;
            }
            else
            {
                m.ResponseMessage = message;
            }

            var buffer = new byte[DnstapFrameBuilder.MaxFrameBytes];
            Assert.True(builder.TryBuild(in m, buffer, out int length, out long time));
            frames.Add((buffer[DnstapPacketHeader.Size..length], time)); // the IP packet, after RataDns's own header
            whole.Add((buffer[..length], type, protocol));
        }

        Add(DnstapMessageType.ClientQuery, 1, DnstapProtocol.Udp, query);
        Add(DnstapMessageType.ClientResponse, 1, DnstapProtocol.Udp, answer);
        Add(DnstapMessageType.ClientQuery, 1, DnstapProtocol.Tcp, query);
        Add(DnstapMessageType.ClientQuery, 1, DnstapProtocol.Tcp, query); // the same flow: the sequence follows on
        Add(DnstapMessageType.AuthResponse, 2, DnstapProtocol.Udp, answer);
        Add(DnstapMessageType.ClientQuery, 2, DnstapProtocol.Dot, query);

        string file = Path.Combine(_directory.Path, "dnstap-frames.pcap");
        File.WriteAllBytes(file, Pcap(frames));
        Assert.Equal(0, ExternalTool.Run(
            "/usr/bin/tshark",
            ["-r", file, "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,",
             "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport", "-e", "tcp.srcport", "-e", "dns.flags.response", "-e", "dns.qry.name", "-e", "tcp.seq_raw",
             "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "ip.checksum.status", "-e", "frame.time_epoch"],
            out string stdout, out string stderr));
        // Checksum status 1 is tshark's "Good" (0 Bad, 2 Unverified); tcp.seq_raw is the sequence number on the wire.
        string[] rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(rows.Length == 6, stdout + stderr);
        Assert.Equal("192.0.2.7,,40000,,0,dnstap.example,,1,,1,1700000000.000005000", rows[0]);
        Assert.Equal("198.51.100.53,,53,,1,dnstap.example,,1,,1,1700000000.000009000", rows[1]);
        Assert.Equal("192.0.2.7,,,40000,0,dnstap.example,1,,1,1,1700000000.000005000", rows[2]);
        Assert.Equal($"192.0.2.7,,,40000,0,dnstap.example,{1 + 2 + query.Length},,1,1,1700000000.000005000", rows[3]);
        Assert.Equal(",2001:db8::53,53,,1,dnstap.example,,1,,,1700000000.000009000", rows[4]);
        Assert.Equal(",2001:db8::7,,40000,0,dnstap.example,1,,1,,1700000000.000005000", rows[5]);

        // The decoder reads each whole frame back: the DNS message (after TCP's length prefix), UDP or TCP, the
        // encrypted transport (DoT here), and a response's query time (the dnstap query_time, 1700000000.000005).
        foreach (var (frame, type, protocol) in whole)
        {
            Assert.Equal(PacketDecodeStatus.Ok, PacketDecoder.Decode(LinkType.Dnstap, frame, DnsPortSet.Default, out var packet));
            var payload = packet.Payload.ToArray();
            Assert.True(payload.AsSpan().EndsWith(query) || payload.AsSpan().EndsWith(answer));
            Assert.Equal(protocol == DnstapProtocol.Dot ? RataDns.DnsWire.EncryptedTransport.Tls : RataDns.DnsWire.EncryptedTransport.None, packet.Encryption);
            Assert.Equal(((byte)type & 1) == 0 ? 1_700_000_000_000_005_000L : 0, packet.ServerQueryTimeNanoseconds);
        }
    }

    [Fact]
    public void A_message_without_its_dns_message_or_family_builds_nothing()
    {
        var builder = new DnstapFrameBuilder();
        var buffer = new byte[DnstapFrameBuilder.MaxFrameBytes];
        var noMessage = new DnstapMessage { Type = DnstapMessageType.ClientResponse, SocketFamily = 1, Protocol = DnstapProtocol.Udp, QueryMessage = new byte[12] };
        Assert.False(builder.TryBuild(in noMessage, buffer, out _, out _));
        var noFamily = new DnstapMessage { Type = DnstapMessageType.ClientQuery, Protocol = DnstapProtocol.Udp, QueryMessage = new byte[12] };
        Assert.False(builder.TryBuild(in noFamily, buffer, out _, out _));
        var small = new DnstapMessage { Type = DnstapMessageType.ClientQuery, SocketFamily = 2, Protocol = DnstapProtocol.Udp, QueryMessage = new byte[12] };
        Assert.False(builder.TryBuild(in small, new byte[50], out _, out _));
    }

    /// <summary>A nanosecond pcap (magic a1b23c4d) of raw IP frames.</summary>
    private static byte[] Pcap(List<(byte[] Frame, long Time)> frames)
    {
        var file = new List<byte>();
        var header = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B23C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 262144);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 101);
        file.AddRange(header);
        foreach (var (frame, time) in frames)
        {
            var record = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(time / 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)(time % 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), (uint)frame.Length);
            file.AddRange(record);
            file.AddRange(frame);
        }

        return [.. file];
    }
}
