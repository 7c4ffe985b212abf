using System.Buffers.Binary;
using RataDns.Capture;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;
using static RataDns.Tests.Capture.PacketBuilder;

namespace RataDns.Tests.Capture;

/// <summary>
/// The link layers and tunnels of issue 17 (NFLOG, PKTAP, PPI, radiotap and 802.11, PPP, Cisco HDLC, PPTP's GRE,
/// Geneve, GTP-U, and an IP length one byte past a whole UDP datagram): each frame is built from its specification,
/// written to a pcap file of its link type, and tshark — the reference — must find the same DNS question in it as the
/// decoder does. The corpus (../shared/corpus) has real captures of each; CorpusConformanceTests compares those.
/// </summary>
public sealed class LinkLayerTsharkTests : IDisposable
{
    private const string Name = "link-layer.example";
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> Cases() => [.. Frames().Keys];

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void The_decoder_finds_the_dns_message_tshark_finds(string name)
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is not installed (scripts/setup.sh installs it)");
        var (linkType, frame) = Frames()[name];

        var status = PacketDecoder.Decode(linkType, frame, DnsPortSet.Default, out var packet);
        Assert.Equal(PacketDecodeStatus.Ok, status);
        Assert.Equal(Query, packet.Payload.ToArray());

        string file = Path.Combine(_directory.Path, name + ".pcap");
        File.WriteAllBytes(file, Pcap((ushort)linkType, frame));
        Assert.Equal(0, ExternalTool.Run("/usr/bin/tshark", ["-r", file, "-Y", "dns", "-T", "fields", "-e", "dns.qry.name", "-e", "dns.id"], out string stdout, out string stderr));
        Assert.True(stdout.Trim() == $"{Name}\t0x5244", $"tshark: '{stdout.Trim()}' {stderr}");
    }

    [Fact]
    public void Encrypted_or_dataless_80211_frames_and_unknown_link_types_are_not_ip()
    {
        byte[] data = Ieee80211Data(Llc(0x0800, Ipv4(17, Udp(40000, 53, Query))), qos: false, flags: 0x41); // To DS, Protected
        Assert.Equal(PacketDecodeStatus.NotIp, PacketDecoder.Decode(LinkType.Ieee80211, data, DnsPortSet.Default, out _));
        byte[] nullData = Ieee80211Data([], qos: false, flags: 0x01, subtype: 0x04);
        Assert.Equal(PacketDecodeStatus.NotIp, PacketDecoder.Decode(LinkType.Ieee80211, nullData, DnsPortSet.Default, out _));

        // PKTAP naming PKTAP again is not followed (one level), nor an inner type the decoder does not know.
        byte[] nested = Pktap(258, Pktap(1, Ethernet(0x0800, Ipv4(17, Udp(40000, 53, Query)))));
        Assert.Equal(PacketDecodeStatus.UnsupportedLinkType, PacketDecoder.Decode(LinkType.Pktap, nested, DnsPortSet.Default, out _));

        // An NFLOG frame whose attributes end without a payload, and one whose first attribute runs past the frame.
        Assert.Equal(PacketDecodeStatus.NotIp, PacketDecoder.Decode(LinkType.Nflog, Nflog(2, payload: null), DnsPortSet.Default, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedLink, PacketDecoder.Decode(LinkType.Nflog, [2, 0, 0, 0, 0xFF, 0x00, 0x09, 0x00], DnsPortSet.Default, out _));
    }

    [Fact]
    public void An_ip_length_past_the_frame_is_still_truncated_when_the_udp_datagram_is_not_whole()
    {
        // The UDP length says more than there is: a cut packet, not a wrong IP length field.
        byte[] udp = Udp(40000, 53, Query, lengthField: 8 + Query.Length + 10);
        byte[] frame = Ethernet(0x0800, Ipv4(17, udp, totalLength: 20 + udp.Length + 1));
        Assert.Equal(PacketDecodeStatus.TruncatedIp, PacketDecoder.Decode(LinkType.Ethernet, frame, DnsPortSet.Default, out _));
    }

    /// <summary>A standard query for link-layer.example. A, id 0x5244.</summary>
    private static byte[] Query { get; } = new TestMessageBuilder { Id = 0x5244, Flags = 0x0100 }.Question(Name, 1).ToArray();

    private static Dictionary<string, (LinkType Type, byte[] Frame)> Frames()
    {
        byte[] v4 = Ipv4(17, Udp(40000, 53, Query));
        byte[] v6 = Ipv6(17, Udp(40000, 53, Query));
        byte[] ethernet = Ethernet(0x0800, v4);
        return new Dictionary<string, (LinkType, byte[])>
        {
            ["nflog-ipv4"] = (LinkType.Nflog, Nflog(2, v4)),
            ["nflog-ipv6"] = (LinkType.Nflog, Nflog(10, v6)),
            ["pktap-ethernet"] = (LinkType.Pktap, Pktap(1, ethernet)),
            ["ppi-80211"] = (LinkType.Ppi, Ppi(105, Ieee80211Data(Llc(0x0800, v4), qos: true, flags: 0x01))),
            ["radiotap-80211-qos"] = (LinkType.Radiotap, Radiotap(Ieee80211Data(Llc(0x86DD, v6), qos: true, flags: 0x02))),
            ["80211-four-addresses"] = (LinkType.Ieee80211, Ieee80211Data(Llc(0x0800, v4), qos: false, flags: 0x03)),
            ["ppp"] = (LinkType.Ppp, Concat([0xFF, 0x03, 0x00, 0x21], v4)),
            ["ppp-hdlc-ipv6"] = (LinkType.PppHdlc, Concat([0xFF, 0x03, 0x00, 0x57], v6)),
            ["cisco-hdlc"] = (LinkType.CiscoHdlc, Concat([0x0F, 0x00, 0x08, 0x00], v4)),
            ["gre-pptp"] = (LinkType.Ethernet, Ethernet(0x0800, Ipv4(47, EnhancedGre(Concat([0xFF, 0x03, 0x00, 0x21], v4))))),
            ["geneve-ethernet"] = (LinkType.Ethernet, Ethernet(0x0800, Ipv4(17, Udp(50000, 6081, Geneve(0x6558, ethernet, optionWords: 2))))),
            ["gtp-u-ipv6"] = (LinkType.Ethernet, Ethernet(0x0800, Ipv4(17, Udp(2152, 2152, GtpUser(v6))))),
            ["ipv4-length-one-past"] = (LinkType.Ethernet, Ethernet(0x0800, Ipv4(17, Udp(40000, 53, Query), totalLength: 20 + 8 + Query.Length + 1))),
        };
    }

    /// <summary>NFLOG (libpcap's pcap-linktype(7), Linux nfnetlink_log): header, a prefix attribute, the payload attribute; little-endian as written on x86.</summary>
    private static byte[] Nflog(byte family, byte[]? payload)
    {
        var b = new List<byte> { family, 0, 0, 0x14 };
        void Attribute(ushort type, byte[] value)
        {
            var header = new byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(4 + value.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), type);
            b.AddRange(header);
            b.AddRange(value);
            while (b.Count % 4 != 0)
            {
                b.Add(0);
            }
        }

        Attribute(10, "dns\0"u8.ToArray()); // NFULA_PREFIX
        if (payload is not null)
        {
            Attribute(9, payload); // NFULA_PAYLOAD
        }

        return [.. b];
    }

    /// <summary>Apple's PKTAP header (struct pktap_header, 108 bytes): length, type (1: packet), inner DLT, interface name; the rest zero.</summary>
    private static byte[] Pktap(uint innerLinkType, byte[] inner)
    {
        var header = new byte[108];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 108);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), innerLinkType);
        "en0"u8.CopyTo(header.AsSpan(12));
        return Concat(header, inner);
    }

    /// <summary>A PPI header without fields: version 0, flags 0, length 8, the inner DLT.</summary>
    private static byte[] Ppi(uint innerLinkType, byte[] inner)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), 8);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), innerLinkType);
        return Concat(header, inner);
    }

    /// <summary>A radiotap header with one field (flags, 1 byte) and padding to 12 bytes.</summary>
    private static byte[] Radiotap(byte[] inner)
    {
        byte[] header = [0, 0, 12, 0, 0x02, 0, 0, 0, 0x00, 0, 0, 0]; // present: bit 1 (flags), flags 0 (no FCS)
        return Concat(header, inner);
    }

    /// <summary>An 802.11 data frame: frame control (data, QoS data when asked), duration, addresses, sequence, optional fourth address and QoS control.</summary>
    private static byte[] Ieee80211Data(byte[] body, bool qos, byte flags, int subtype = 0)
    {
        var b = new List<byte> { (byte)(0x08 | ((qos ? 0x08 | subtype : subtype) << 4)), flags, 0x2C, 0x00 };
        for (int address = 0; address < 3; address++)
        {
            b.AddRange([0x02, 0, 0, 0, 0, (byte)(address + 1)]);
        }

        b.AddRange([0x10, 0x00]);
        if ((flags & 0x03) == 0x03)
        {
            b.AddRange([0x02, 0, 0, 0, 0, 4]);
        }

        if (qos)
        {
            b.AddRange([0x00, 0x00]);
        }

        b.AddRange(body);
        return [.. b];
    }

    /// <summary>LLC/SNAP (RFC 1042): aa aa 03, OUI 00 00 00, the EtherType.</summary>
    private static byte[] Llc(ushort etherType, byte[] payload) =>
        Concat([0xAA, 0xAA, 0x03, 0, 0, 0, (byte)(etherType >> 8), (byte)etherType], payload);

    /// <summary>PPTP's enhanced GRE (RFC 2637 4.1): K and S set, version 1, protocol 0x880B, payload length, call id, sequence.</summary>
    private static byte[] EnhancedGre(byte[] ppp) =>
        Concat([0x30, 0x01, 0x88, 0x0B, (byte)(ppp.Length >> 8), (byte)ppp.Length, 0x00, 0x07, 0, 0, 0, 1], ppp);

    /// <summary>Geneve (RFC 8926 3.4) with <paramref name="optionWords"/> 4-byte words of options (one option, class 0x0101, type 1).</summary>
    private static byte[] Geneve(ushort protocolType, byte[] inner, int optionWords)
    {
        var header = new List<byte> { (byte)optionWords, 0, (byte)(protocolType >> 8), (byte)protocolType, 0, 0, 42, 0 };
        if (optionWords > 0)
        {
            header.AddRange([0x01, 0x01, 0x01, (byte)(optionWords - 1)]);
            header.AddRange(new byte[(optionWords - 1) * 4]);
        }

        return Concat([.. header], inner);
    }

    /// <summary>GTP-U (3GPP TS 29.281): version 1, PT, E and S set, G-PDU, TEID, sequence, and one PDU session container extension header.</summary>
    private static byte[] GtpUser(byte[] user)
    {
        byte[] extension = [0x01, 0x00, 0x01, 0x00]; // length 1 word, content, next type 0
        int length = 4 + extension.Length + user.Length;
        return Concat([0x36, 0xFF, (byte)(length >> 8), (byte)length, 0, 0, 0, 9, 0, 1, 0, 0x85], extension, user);
    }

    /// <summary>A little-endian pcap file (microseconds) of one frame with the given link type.</summary>
    private static byte[] Pcap(ushort linkType, byte[] frame)
    {
        var file = new byte[24 + 16 + frame.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), linkType);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24), 1_700_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(32), (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(36), (uint)frame.Length);
        frame.CopyTo(file, 40);
        return file;
    }
}
