using RataDns.DnsWire;
using RataDns.Capture;
using static RataDns.Tests.Capture.PacketBuilder;

namespace RataDns.Tests.Capture;

public sealed class PacketDecoderTests
{
    private static readonly byte[] Dns = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'c', (byte)'o', (byte)'m', 0, 0, 1, 0, 1];

    private static PacketDecodeStatus Decode(LinkType linkType, byte[] frame, out DecodedPacketCopy copy)
    {
        var status = PacketDecoder.Decode(linkType, frame, DnsPortSet.Default, out var packet);
        copy = new DecodedPacketCopy(packet);
        return status;
    }

    [Fact]
    public void Ethernet_ipv4_udp_query_is_decoded_and_padding_is_trimmed()
    {
        byte[] frame = Concat(Ethernet(0x0800, Ipv4(17, Udp(40000, 53, Dns))), new byte[6]);

        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ethernet, frame, out var p));
        Assert.Equal(4, p.IpVersion);
        Assert.Equal(Ipv4Source, p.Source);
        Assert.Equal(Ipv4Destination, p.Destination);
        Assert.Equal(40000, p.SourcePort);
        Assert.Equal(53, p.DestinationPort);
        Assert.Equal(TransportProtocol.Udp, p.Transport);
        Assert.Equal(Dns, p.Payload);
    }

    [Fact]
    public void Udp_length_shorter_than_the_ip_payload_trims_the_payload()
    {
        // The IP total length covers 4 trailing bytes that the UDP length does not.
        byte[] udp = Concat(Udp(53, 5353, Dns), [0xEE, 0xEE, 0xEE, 0xEE]);
        udp[5] = (byte)(8 + Dns.Length);
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ethernet, Ethernet(0x0800, Ipv4(17, udp)), out var p));
        Assert.Equal(Dns, p.Payload);
    }

    [Theory]
    [InlineData(new ushort[] { 0x8100 })]
    [InlineData(new ushort[] { 0x88A8, 0x8100 })]
    [InlineData(new ushort[] { 0x9100, 0x8100 })]
    [InlineData(new ushort[] { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100 })]
    public void Vlan_and_qinq_tags_are_skipped(ushort[] tags)
    {
        byte[] frame = Ethernet(0x86DD, Ipv6(17, Udp(53, 1234, Dns)), tags);
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ethernet, frame, out var p));
        Assert.Equal(6, p.IpVersion);
        Assert.Equal(Ipv6Destination, p.Destination);
        Assert.Equal(Dns, p.Payload);
    }

    [Fact]
    public void Too_many_vlan_tags_is_bounded()
    {
        byte[] frame = Ethernet(0x0800, Ipv4(17, Udp(53, 1234, Dns)), [.. Enumerable.Repeat((ushort)0x8100, 9)]);
        Assert.Equal(PacketDecodeStatus.TooManyVlanTags, Decode(LinkType.Ethernet, frame, out _));
    }

    [Fact]
    public void Linux_cooked_v1_and_v2_headers()
    {
        byte[] ip = Ipv4(17, Udp(1234, 53, Dns));
        byte[] sll = Concat([0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00], ip);
        byte[] sll2 = Concat([0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0], ip);

        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.LinuxSll, sll, out var a));
        Assert.Equal(Dns, a.Payload);
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.LinuxSll2, sll2, out var b));
        Assert.Equal(Dns, b.Payload);
        Assert.Equal(PacketDecodeStatus.TruncatedLink, Decode(LinkType.LinuxSll2, sll2[..19], out _));
    }

    [Theory]
    [InlineData((ushort)101)]
    [InlineData((ushort)12)]
    [InlineData((ushort)14)]
    [InlineData((ushort)228)]
    public void Raw_ipv4_link_types(ushort linkType)
    {
        Assert.Equal(PacketDecodeStatus.Ok, Decode((LinkType)linkType, Ipv4(17, Udp(1, 53, Dns)), out var p));
        Assert.Equal(Dns, p.Payload);
    }

    [Fact]
    public void Raw_ipv6_link_types_and_version_mismatch()
    {
        byte[] ip6 = Ipv6(17, Udp(1, 53, Dns));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, ip6, out _));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ipv6, ip6, out _));
        Assert.Equal(PacketDecodeStatus.BadIpHeader, Decode(LinkType.Ipv4, ip6, out _));
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(LinkType.Raw, [0x10, 0, 0, 0], out _));
    }

    [Theory]
    [InlineData(LinkType.Null, new byte[] { 2, 0, 0, 0 }, 4)]    // little-endian host
    [InlineData(LinkType.Null, new byte[] { 0, 0, 0, 2 }, 4)]    // big-endian host
    [InlineData(LinkType.Null, new byte[] { 24, 0, 0, 0 }, 6)]
    [InlineData(LinkType.Null, new byte[] { 28, 0, 0, 0 }, 6)]
    [InlineData(LinkType.Null, new byte[] { 0, 0, 0, 30 }, 6)]
    [InlineData(LinkType.Loop, new byte[] { 0, 0, 0, 2 }, 4)]
    [InlineData(LinkType.Loop, new byte[] { 0, 0, 0, 24 }, 6)]
    public void Bsd_null_and_loop_families(LinkType linkType, byte[] family, int version)
    {
        byte[] ip = version == 4 ? Ipv4(17, Udp(1, 53, Dns)) : Ipv6(17, Udp(1, 53, Dns));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(linkType, Concat(family, ip), out var p));
        Assert.Equal(version, p.IpVersion);
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(linkType, Concat([0, 0, 0, 7], ip), out _));
    }

    [Fact]
    public void Ipv4_options_are_skipped_and_bad_ihl_is_rejected()
    {
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, Ipv4(17, Udp(53, 9, Dns), optionBytes: 12), out var p));
        Assert.Equal(Dns, p.Payload);

        byte[] bad = Ipv4(17, Udp(53, 9, Dns));
        bad[0] = 0x44; // IHL 4 words
        Assert.Equal(PacketDecodeStatus.BadIpHeader, Decode(LinkType.Raw, bad, out _));
        bad[0] = 0x4F; // IHL 60 bytes, longer than the packet allows (total 49)
        Assert.NotEqual(PacketDecodeStatus.Ok, Decode(LinkType.Raw, bad, out _));
    }

    [Fact]
    public void Ipv4_fragments_report_their_fields()
    {
        // MF set, offset 0.
        Assert.Equal(PacketDecodeStatus.IpFragment, Decode(LinkType.Raw, Ipv4(17, Udp(53, 9, Dns), identification: 0xBEEF, flagsAndOffset: 0x2000), out var first));
        Assert.Equal(0xBEEFu, first.FragmentIdentification);
        Assert.True(first.MoreFragments);
        Assert.Equal(0, first.FragmentOffset);

        // Last fragment at offset 185 * 8.
        Assert.Equal(PacketDecodeStatus.IpFragment, Decode(LinkType.Raw, Ipv4(17, Dns, identification: 7, flagsAndOffset: 185), out var last));
        Assert.False(last.MoreFragments);
        Assert.Equal(1480, last.FragmentOffset);
        Assert.Equal(Dns, last.IpPayload);

        // DF alone is not a fragment.
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, Ipv4(17, Udp(53, 9, Dns), flagsAndOffset: 0x4000), out _));
    }

    [Fact]
    public void Ipv6_extension_headers_are_walked()
    {
        byte[] udp = Udp(53, 7, Dns);
        byte[] chain = Ipv6Options(43, Ipv6Options(60, Ipv6Options(17, udp, units: 1)));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ipv6, Ipv6(0, chain), out var p));
        Assert.Equal(Dns, p.Payload);

        // AH: length in 4-byte units minus 2; 12 bytes of ICV here (payload len 4 => 24 bytes).
        byte[] ah = Concat([17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1], new byte[12], udp);
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ipv6, Ipv6(51, ah), out var q));
        Assert.Equal(Dns, q.Payload);

        Assert.Equal(PacketDecodeStatus.NotUdpOrTcp, Decode(LinkType.Ipv6, Ipv6(59, new byte[8]), out _));

        byte[] deep = udp;
        for (int i = 0; i < 9; i++)
        {
            deep = Ipv6Options(i == 0 ? (byte)17 : (byte)60, deep);
        }

        Assert.Equal(PacketDecodeStatus.TooManyExtensionHeaders, Decode(LinkType.Ipv6, Ipv6(60, deep), out _));
    }

    [Fact]
    public void Ipv6_fragments_and_atomic_fragments()
    {
        byte[] udp = Udp(53, 7, Dns);
        Assert.Equal(PacketDecodeStatus.IpFragment, Decode(LinkType.Ipv6, Ipv6(44, Ipv6Fragment(17, udp, 0, true, 0xA1B2C3D4)), out var f));
        Assert.Equal(0xA1B2C3D4u, f.FragmentIdentification);
        Assert.True(f.MoreFragments);
        Assert.Equal(17, f.IpProtocol);

        Assert.Equal(PacketDecodeStatus.IpFragment, Decode(LinkType.Ipv6, Ipv6(44, Ipv6Fragment(17, Dns, 1232, false, 9)), out var g));
        Assert.Equal(1232, g.FragmentOffset);

        // RFC 6946 atomic fragment: offset 0, M clear: decoded as a whole packet.
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Ipv6, Ipv6(44, Ipv6Fragment(17, udp, 0, false, 9)), out var a));
        Assert.Equal(Dns, a.Payload);
    }

    [Fact]
    public void Ip_in_ip_is_decapsulated_and_bounded()
    {
        byte[] inner = Ipv4(17, Udp(53, 7, Dns));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, Ipv4(4, inner), out var p));
        Assert.Equal(Dns, p.Payload);
        Assert.Equal(2, p.IpHeaderCount);

        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, Ipv6(4, inner), out _));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, Ipv4(41, Ipv6(17, Udp(53, 7, Dns))), out var q));
        Assert.Equal(6, q.IpVersion);

        // The crafted nesting that sends PacketDotNet 1.4.8 into unbounded recursion stops at the bound here.
        byte[] deep = inner;
        for (int i = 0; i < 2000; i++)
        {
            deep = Ipv4(4, deep, totalLength: 0);
        }

        Assert.Equal(PacketDecodeStatus.TunnelTooDeep, Decode(LinkType.Raw, deep, out _));
    }

    [Fact]
    public void Icmp_quoted_dns_is_not_dns()
    {
        // ICMP destination unreachable quoting the original IPv4/UDP/53 packet.
        byte[] icmp = Concat([3, 3, 0, 0, 0, 0, 0, 0], Ipv4(17, Udp(1234, 53, Dns)));
        Assert.Equal(PacketDecodeStatus.NotUdpOrTcp, Decode(LinkType.Ethernet, Ethernet(0x0800, Ipv4(1, icmp)), out _));
        byte[] icmp6 = Concat([1, 4, 0, 0, 0, 0, 0, 0], Ipv6(17, Udp(1234, 53, Dns)));
        Assert.Equal(PacketDecodeStatus.NotUdpOrTcp, Decode(LinkType.Ipv6, Ipv6(58, icmp6), out _));
    }

    [Fact]
    public void Tcp_header_with_options_and_flags()
    {
        byte[] payload = Concat([0, (byte)Dns.Length], Dns);
        Assert.Equal(PacketDecodeStatus.Ok, Decode(LinkType.Raw, Ipv4(6, Tcp(53, 50000, 0x01020304, 0x18, payload, optionBytes: 12)), out var p));
        Assert.Equal(TransportProtocol.Tcp, p.Transport);
        Assert.Equal(0x18, p.TcpFlags);
        Assert.Equal(0x01020304u, p.TcpSequence);
        Assert.Equal(payload, p.Payload);

        byte[] bad = Ipv4(6, Tcp(53, 50000, 0, 0x10, payload));
        bad[20 + 12] = 0x40; // data offset 4 words
        Assert.Equal(PacketDecodeStatus.BadTransportHeader, Decode(LinkType.Raw, bad, out _));
    }

    [Fact]
    public void Ports_and_transport_length_checks()
    {
        Assert.Equal(PacketDecodeStatus.NotDnsPort, Decode(LinkType.Raw, Ipv4(17, Udp(1000, 2000, Dns)), out var p));
        Assert.Equal(2000, p.DestinationPort);
        Assert.Equal(PacketDecodeStatus.BadTransportHeader, Decode(LinkType.Raw, Ipv4(17, Udp(53, 53, Dns, lengthField: 7)), out _));
        Assert.Equal(PacketDecodeStatus.TruncatedTransport, Decode(LinkType.Raw, Ipv4(17, Udp(53, 53, Dns, lengthField: 200)), out _));
        Assert.Equal(PacketDecodeStatus.TruncatedTransport, Decode(LinkType.Raw, Ipv4(17, new byte[7]), out _));

        var ports = new DnsPortSet([5353, 53]);
        Assert.True(ports.Contains(5353));
        Assert.False(ports.Contains(5354));
        Assert.Equal(PacketDecodeStatus.Ok, PacketDecoder.Decode(LinkType.Raw, Ipv4(17, Udp(5353, 5353, Dns)), ports, out _));
    }

    [Fact]
    public void Unsupported_link_and_non_ip_ether_types()
    {
        Assert.Equal(PacketDecodeStatus.UnsupportedLinkType, Decode((LinkType)7, new byte[64], out _)); // ARCNET
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(LinkType.Ethernet, Ethernet(0x0806, new byte[28]), out _));
        Assert.Equal(PacketDecodeStatus.TruncatedLink, Decode(LinkType.Ethernet, new byte[13], out _));
        Assert.Equal(PacketDecodeStatus.TruncatedIp, Decode(LinkType.Ethernet, Ethernet(0x0800, Ipv4(17, Udp(53, 53, Dns))[..10]), out _));
    }

    /// <summary>Every prefix of valid frames decodes without throwing or reading out of bounds.</summary>
    [Fact]
    public void Every_prefix_of_a_frame_decodes_without_throwing()
    {
        byte[][] frames =
        [
            Ethernet(0x86DD, Ipv6(0, Ipv6Options(44, Ipv6Fragment(17, Udp(53, 7, Dns), 0, false, 1))), 0x88A8, 0x8100),
            Ethernet(0x0800, Ipv4(4, Ipv4(6, Tcp(53, 7, 1, 2, Dns, 8), optionBytes: 8))),
        ];
        foreach (byte[] frame in frames)
        {
            for (int cut = 0; cut <= frame.Length; cut++)
            {
                var status = PacketDecoder.Decode(LinkType.Ethernet, frame.AsSpan(0, cut), DnsPortSet.Default, out _);
                Assert.Equal(cut == frame.Length, status == PacketDecodeStatus.Ok);
            }
        }
    }

    /// <summary>A copy of the decoded view, so assertions can run outside the ref struct's scope.</summary>
    private sealed class DecodedPacketCopy(DecodedPacket p)
    {
        public int IpVersion { get; } = p.IpVersion;
        public byte[] Source { get; } = p.SourceAddress.ToArray();
        public byte[] Destination { get; } = p.DestinationAddress.ToArray();
        public int SourcePort { get; } = p.SourcePort;
        public int DestinationPort { get; } = p.DestinationPort;
        public TransportProtocol Transport { get; } = p.Transport;
        public byte[] Payload { get; } = p.Payload.ToArray();
        public byte[] IpPayload { get; } = p.IpPayload.ToArray();
        public int IpProtocol { get; } = p.IpProtocol;
        public int IpHeaderCount { get; } = p.IpHeaderCount;
        public byte TcpFlags { get; } = p.TcpFlags;
        public uint TcpSequence { get; } = p.TcpSequence;
        public uint FragmentIdentification { get; } = p.FragmentIdentification;
        public int FragmentOffset { get; } = p.FragmentOffset;
        public bool MoreFragments { get; } = p.MoreFragments;
    }
}
