using RataDns.DnsWire;
using RataDns.Capture;
using RataDns.Capture.Fragments;
using static RataDns.Tests.Capture.Fragments.FragmentTestSupport;
using static RataDns.Tests.Capture.PacketBuilder;

namespace RataDns.Tests.Capture.Fragments;

public sealed class DecodeReassembledTests
{
    [Fact]
    public void Reassembled_tcp_segment_is_decoded()
    {
        byte[] dns = DnsMessage(0x5151, 3000);
        byte[] tcp = PacketBuilder.Tcp(40000, 53, 1000, 0x18, [(byte)(dns.Length >> 8), (byte)dns.Length, .. dns]);
        var reassembler = new IpFragmentReassembler();

        var outcome = FeedAll(reassembler, Ipv6Fragments(ProtocolTcp, tcp, 1448, 3))[^1];

        Assert.Equal(FragmentResult.Reassembled, outcome.Result);
        Assert.Equal(PacketDecodeStatus.Ok, outcome.Decoded);
        Assert.Equal(TransportProtocol.Tcp, outcome.Packet!.Transport);
        Assert.Equal(1000u, outcome.Packet.TcpSequence);
        Assert.Equal(dns.Length + 2, outcome.Packet.Payload.Length);
        Assert.Equal(6, outcome.Packet.IpVersion);
    }

    [Fact]
    public void Reassembled_ip_in_ip_is_followed_to_the_inner_packet()
    {
        // An IPv4 packet (with a UDP DNS message) tunnelled in IPv6, the outer packet fragmented.
        byte[] dns = DnsMessage(0x7777, 2000);
        byte[] inner = Ipv4(17, PacketBuilder.Udp(53, 33333, dns));
        var reassembler = new IpFragmentReassembler();

        var outcome = FeedAll(reassembler, Ipv6Fragments(4, inner, 1000, 12))[^1];

        Assert.Equal(PacketDecodeStatus.Ok, outcome.Decoded);
        Assert.Equal(4, outcome.Packet!.IpVersion);
        Assert.Equal(Ipv4Source, outcome.Packet.Source);
        Assert.Equal(2, outcome.Packet.IpHeaderCount);
        Assert.Equal(dns, outcome.Packet.Payload);
    }

    [Fact]
    public void A_reassembled_datagram_that_is_itself_malformed_is_reported_by_the_decoder()
    {
        // The UDP length claims 100 bytes more than the reassembled datagram holds.
        byte[] dns = DnsMessage(1, 2000);
        byte[] udp = PacketBuilder.Udp(53, 1234, dns, lengthField: dns.Length + 108);
        var reassembler = new IpFragmentReassembler();

        var outcome = FeedAll(reassembler, Ipv4Fragments(17, udp, 1000, 1))[^1];

        Assert.Equal(FragmentResult.Reassembled, outcome.Result);
        Assert.Equal(PacketDecodeStatus.TruncatedTransport, outcome.Decoded);
    }

    [Fact]
    public void Ports_are_checked_and_non_transport_protocols_are_reported()
    {
        var reassembler = new IpFragmentReassembler();

        var other = FeedAll(reassembler, Ipv4Fragments(17, PacketBuilder.Udp(1000, 2000, new byte[2000]), 1000, 2))[^1];
        Assert.Equal(PacketDecodeStatus.NotDnsPort, other.Decoded);

        var icmp = FeedAll(reassembler, Ipv4Fragments(1, new byte[2000], 1000, 3))[^1];
        Assert.Equal(PacketDecodeStatus.NotUdpOrTcp, icmp.Decoded);
    }

    [Fact]
    public void A_packet_without_addresses_is_not_ip()
    {
        Assert.Equal(PacketDecodeStatus.NotIp, PacketDecoder.DecodeReassembled(default, new byte[20], DnsPortSet.Default, out _));
    }
}
