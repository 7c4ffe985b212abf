using RataDns.Capture;
using static RataDns.Tests.Capture.PacketBuilder;

namespace RataDns.Tests.Capture;

/// <summary>PPPoE, MPLS, GRE, GRE-in-UDP and VXLAN decapsulation, and frames cut by the capture's snap length.</summary>
public sealed class PacketDecoderTunnelTests
{
    private static readonly byte[] Dns = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'c', (byte)'o', (byte)'m', 0, 0, 1, 0, 1];

    private static PacketDecodeStatus Decode(byte[] frame, out int ipVersion, out int ipHeaders, out byte[] payload, uint? originalLength = null)
    {
        var status = originalLength is { } length
            ? PacketDecoder.Decode(LinkType.Ethernet, frame, length, DnsPortSet.Default, out var packet)
            : PacketDecoder.Decode(LinkType.Ethernet, frame, DnsPortSet.Default, out packet);
        ipVersion = packet.IpVersion;
        ipHeaders = packet.IpHeaderCount;
        payload = packet.Payload.ToArray();
        return status;
    }

    [Fact]
    public void Pppoe_session_over_qinq_carries_ipv4_and_ipv6()
    {
        // As in ntop_nDPI/dns.pcap frames 4 and 5: 802.1ad + 802.1Q, then PPPoE session, then PPP IPv4.
        byte[] v4 = Ethernet(0x8864, Pppoe(0x0021, Ipv4(17, Udp(47255, 53, Dns))), 0x88A8, 0x8100);
        Assert.Equal(PacketDecodeStatus.Ok, Decode(v4, out int version, out _, out byte[] payload));
        Assert.Equal(4, version);
        Assert.Equal(Dns, payload);

        byte[] v6 = Ethernet(0x8864, Pppoe(0x0057, Ipv6(17, Udp(53, 47255, Dns))));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(v6, out version, out _, out payload));
        Assert.Equal(6, version);
        Assert.Equal(Dns, payload);

        // Protocol-Field-Compression (RFC 1661 6.5): a one-octet PPP protocol.
        byte[] compressed = Ethernet(0x8864, Pppoe(0x0021, Ipv4(17, Udp(1, 53, Dns)), compressProtocol: true));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(compressed, out version, out _, out _));
        Assert.Equal(4, version);
    }

    [Fact]
    public void Pppoe_other_than_ip_session_data_is_not_ip()
    {
        // PPP LCP (0xC021), a discovery code (PADI 0x09) inside a session EtherType, and a truncated PPPoE header.
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(Ethernet(0x8864, Pppoe(0xC021, new byte[8])), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(Ethernet(0x8864, Pppoe(0x0021, Ipv4(17, Udp(1, 53, Dns)), code: 0x09)), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedLink, Decode(Ethernet(0x8864, [0x11, 0, 0, 1, 0, 2, 0x00]), out _, out _, out _));
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(3, 6)]
    public void Mpls_label_stack_is_skipped_to_the_ip_header(int labels, int ipVersion)
    {
        byte[] ip = ipVersion == 4 ? Ipv4(17, Udp(53, 9, Dns)) : Ipv6(17, Udp(53, 9, Dns));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(Ethernet(0x8847, Mpls(ip, labels)), out int version, out _, out byte[] payload));
        Assert.Equal(ipVersion, version);
        Assert.Equal(Dns, payload);
    }

    [Fact]
    public void Mpls_without_bottom_of_stack_or_over_non_ip_is_bounded_and_rejected()
    {
        byte[] ip = Ipv4(17, Udp(53, 9, Dns));
        Assert.Equal(PacketDecodeStatus.TooManyVlanTags, Decode(Ethernet(0x8847, Mpls(ip, 9, bottom: false)), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedLink, Decode(Ethernet(0x8847, Mpls([], 2, bottom: false)), out _, out _, out _));

        // A pseudowire control word (first nibble 0) is not IP.
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(Ethernet(0x8847, Mpls(Concat([0, 0, 0, 0], ip), 1)), out _, out _, out _));
    }

    [Fact]
    public void Snap_length_cut_inside_the_ip_length_is_snapped_only_when_the_original_length_says_so()
    {
        // As in the-tcpdump-group_tcpdump/dns_udp_2.pcap frame 2: a 252-byte IPv4 UDP DNS response (266 bytes on the
        // wire) captured with snaplen 98, so the IP Total Length and UDP Length run 168 bytes past the captured data.
        byte[] response = new byte[252 - 28];
        Dns.CopyTo(response, 0);
        byte[] wire = Ethernet(0x0800, Ipv4(17, Udp(53, 43966, response)));
        Assert.Equal(266, wire.Length);
        byte[] captured = wire[..98];

        Assert.Equal(PacketDecodeStatus.Snapped, Decode(captured, out int version, out _, out byte[] payload, originalLength: 266));
        Assert.Equal(4, version);
        Assert.Equal(wire[42..98], payload);

        // Without a cut the same bytes are a truncated packet, as before.
        Assert.Equal(PacketDecodeStatus.TruncatedIp, Decode(captured, out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedIp, Decode(captured, out _, out _, out _, originalLength: 98));

        // The whole packet with its true original length is Ok; a cut inside the IPv4 header is still truncated.
        Assert.Equal(PacketDecodeStatus.Ok, Decode(wire, out _, out _, out _, originalLength: 266));
        Assert.Equal(PacketDecodeStatus.TruncatedIp, Decode(wire[..30], out _, out _, out _, originalLength: 266));

        // IPv6 Payload Length and a UDP length alone (IP length intact) are trimmed the same way.
        byte[] v6 = Ethernet(0x86DD, Ipv6(17, Udp(53, 9, response)));
        Assert.Equal(PacketDecodeStatus.Snapped, Decode(v6[..120], out version, out _, out payload, originalLength: (uint)v6.Length));
        Assert.Equal(6, version);
        Assert.Equal(v6[62..120], payload);
        byte[] udpLong = Ethernet(0x0800, Ipv4(17, Udp(53, 9, Dns, lengthField: 8 + Dns.Length + 40)));
        Assert.Equal(PacketDecodeStatus.Snapped, Decode(udpLong, out _, out _, out payload, originalLength: (uint)udpLong.Length + 40));
        Assert.Equal(PacketDecodeStatus.TruncatedTransport, Decode(udpLong, out _, out _, out _));
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void Gre_with_optional_fields_carries_ipv4_and_ipv6(bool checksum, bool key, bool sequence)
    {
        byte[] v4 = Ethernet(0x0800, Ipv4(47, Gre(0x0800, Ipv4(17, Udp(37675, 53, Dns)), checksum, key, sequence)));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(v4, out int version, out int headers, out byte[] payload));
        Assert.Equal((4, 2), (version, headers));
        Assert.Equal(Dns, payload);

        byte[] v6 = Ethernet(0x86DD, Ipv6(47, Gre(0x86DD, Ipv6(17, Udp(53, 1, Dns)), checksum, key, sequence)));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(v6, out version, out headers, out payload));
        Assert.Equal((6, 2), (version, headers));
        Assert.Equal(Dns, payload);
    }

    [Fact]
    public void Gre_transparent_ethernet_bridging_and_gre_in_udp_are_followed()
    {
        byte[] bridged = Ethernet(0x0800, Ipv4(47, Gre(0x6558, Ethernet(0x86DD, Ipv6(17, Udp(53, 1, Dns)), 0x8100), key: true)));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(bridged, out int version, out int headers, out byte[] payload));
        Assert.Equal((6, 2), (version, headers));
        Assert.Equal(Dns, payload);

        // RFC 8086: GRE directly in UDP to port 4754; the outer UDP ports are not the packet's.
        byte[] inUdp = Ethernet(0x0800, Ipv4(17, Udp(50000, 4754, Gre(0x0800, Ipv4(17, Udp(51714, 53, Dns))))));
        Assert.Equal(PacketDecodeStatus.Ok, Decode(inUdp, out version, out headers, out payload));
        Assert.Equal((4, 2), (version, headers));
        Assert.Equal(Dns, payload);
    }

    [Fact]
    public void Gre_that_cannot_be_read_is_reported()
    {
        byte[] inner = Ipv4(17, Udp(53, 1, Dns));
        Assert.Equal(PacketDecodeStatus.TruncatedTunnel, Decode(Ethernet(0x0800, Ipv4(47, [0x00, 0x00, 0x08])), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedTunnel, Decode(Ethernet(0x0800, Ipv4(47, Gre(0x0800, [], key: true, sequence: true)[..10])), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.UnsupportedTunnel, Decode(Ethernet(0x0800, Ipv4(47, Gre(0x0800, inner, key: true, version: 1))), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.UnsupportedTunnel, Decode(Ethernet(0x0800, Ipv4(47, Gre(0x880B, inner, key: false, version: 1))), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(Ethernet(0x0800, Ipv4(47, Gre(0x880B, Concat([0xC0, 0x21], inner), key: true, version: 1))), out _, out _, out _)); // PPP LCP
        Assert.Equal(PacketDecodeStatus.NotIp, Decode(Ethernet(0x0800, Ipv4(47, Gre(0x88BE, inner))), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedTunnel, Decode(Ethernet(0x0800, Ipv4(47, Gre(0x6558, new byte[13]))), out _, out _, out _));
    }

    [Fact]
    public void Vxlan_nests_up_to_the_ip_header_bound()
    {
        // As in zeek_zeek/tunnels__vxlan-triple-v2.pcap: three VXLAN levels, four IP headers in all.
        byte[] inner = Ethernet(0x0800, Ipv4(17, Udp(53, 53, Dns)));
        for (int level = 0; level < 3; level++)
        {
            inner = Ethernet(0x0800, Ipv4(17, Udp(40000, 4789, Vxlan(inner))));
        }

        Assert.Equal(PacketDecodeStatus.Ok, Decode(inner, out int version, out int headers, out byte[] payload));
        Assert.Equal((4, 4), (version, headers));
        Assert.Equal(Dns, payload);

        byte[] tooDeep = Ethernet(0x0800, Ipv4(17, Udp(40000, 4789, Vxlan(inner))));
        Assert.Equal(PacketDecodeStatus.TunnelTooDeep, Decode(tooDeep, out _, out _, out _));
    }

    [Fact]
    public void Vxlan_without_the_i_flag_or_cut_short_is_reported()
    {
        byte[] inner = Ethernet(0x0800, Ipv4(17, Udp(53, 53, Dns)));
        Assert.Equal(PacketDecodeStatus.UnsupportedTunnel, Decode(Ethernet(0x0800, Ipv4(17, Udp(1, 4789, Vxlan(inner, flags: 0)))), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedTunnel, Decode(Ethernet(0x0800, Ipv4(17, Udp(1, 4789, [0x08, 0, 0, 0, 0, 0, 42]))), out _, out _, out _));
        Assert.Equal(PacketDecodeStatus.TruncatedTunnel, Decode(Ethernet(0x0800, Ipv4(17, Udp(1, 4789, Vxlan(inner[..13])))), out _, out _, out _));
    }

    /// <summary>A resolver's answer to a client whose random port is 4789 or 4754 is DNS, not a tunnel.</summary>
    [Theory]
    [InlineData(4789)]
    [InlineData(4754)]
    public void Dns_to_a_client_port_that_is_also_a_tunnel_port_is_dns(int clientPort)
    {
        byte[] frame = Ethernet(0x0800, Ipv4(17, Udp(53, (ushort)clientPort, Dns)));
        Assert.Equal(PacketDecodeStatus.Ok, PacketDecoder.Decode(LinkType.Ethernet, frame, DnsPortSet.Default, out var packet));
        Assert.Equal(53, packet.SourcePort);
        Assert.Equal(clientPort, packet.DestinationPort);
        Assert.Equal(Dns, packet.Payload.ToArray());
    }

    /// <summary>Every prefix of tunnelled frames decodes without throwing or reading out of bounds.</summary>
    [Fact]
    public void Every_prefix_of_a_tunnelled_frame_decodes_without_throwing()
    {
        byte[][] frames =
        [
            Ethernet(0x8864, Pppoe(0x0057, Ipv6(17, Udp(53, 7, Dns))), 0x8100),
            Ethernet(0x8847, Mpls(Ipv4(17, Udp(53, 7, Dns)), 3)),
            Ethernet(0x0800, Ipv4(47, Gre(0x6558, Ethernet(0x0800, Ipv4(17, Udp(53, 7, Dns))), true, true, true))),
            Ethernet(0x0800, Ipv4(17, Udp(9, 4789, Vxlan(Ethernet(0x8864, Pppoe(0x0021, Ipv4(6, Tcp(53, 7, 1, 2, Dns)))))))),
        ];
        foreach (byte[] frame in frames)
        {
            for (int cut = 0; cut <= frame.Length; cut++)
            {
                var status = PacketDecoder.Decode(LinkType.Ethernet, frame.AsSpan(0, cut), DnsPortSet.Default, out _);
                Assert.Equal(cut == frame.Length, status == PacketDecodeStatus.Ok);
                PacketDecoder.Decode(LinkType.Ethernet, frame.AsSpan(0, cut), (uint)frame.Length, DnsPortSet.Default, out _);
            }
        }
    }
}
