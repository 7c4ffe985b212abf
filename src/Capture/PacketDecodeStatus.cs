namespace RataDns.Capture;

/// <summary>
/// The outcome of <see cref="PacketDecoder.Decode(LinkType, ReadOnlySpan{byte}, DnsPortSet, out DecodedPacket)"/>. Anything but <see cref="Ok"/> is ordinary traffic for a
/// monitor (counted, never thrown).
/// </summary>
public enum PacketDecodeStatus : byte
{
    /// <summary>A UDP or TCP packet to or from a DNS port; the payload is ready.</summary>
    Ok = 0,

    /// <summary>The frame's link type is not one the decoder knows.</summary>
    UnsupportedLinkType,

    /// <summary>The link layer carries something other than IPv4 or IPv6 (ARP, LLDP, 802.3 LLC, ...).</summary>
    NotIp,

    /// <summary>The frame ends inside the link-layer header or a VLAN tag.</summary>
    TruncatedLink,

    /// <summary>The frame ends inside an IP header, an extension header, or before the IP total/payload length.</summary>
    TruncatedIp,

    /// <summary>An IP header is inconsistent (wrong version, IHL below 5, total length below the header).</summary>
    BadIpHeader,

    /// <summary>A non-first or non-last IP fragment; the fragment fields of the packet are set for reassembly.</summary>
    IpFragment,

    /// <summary>The innermost protocol is neither UDP nor TCP (ICMP, including ICMP-quoted DNS, ESP, no-next-header...).</summary>
    NotUdpOrTcp,

    /// <summary>The IP payload ends inside the UDP or TCP header, or before the UDP length.</summary>
    TruncatedTransport,

    /// <summary>Neither port is a DNS port; the addresses, ports and payload are still set.</summary>
    NotDnsPort,

    /// <summary>More nested IP headers (IP-in-IP, GRE, VXLAN tunnels) than <see cref="PacketDecoder.MaxIpHeaders"/>.</summary>
    TunnelTooDeep,

    /// <summary>More VLAN tags than <see cref="PacketDecoder.MaxVlanTags"/>, or MPLS labels than <see cref="PacketDecoder.MaxMplsLabels"/>.</summary>
    TooManyVlanTags,

    /// <summary>More IPv6 extension headers than <see cref="PacketDecoder.MaxExtensionHeaders"/>.</summary>
    TooManyExtensionHeaders,

    /// <summary>A UDP length below 8 or a TCP data offset below 5 words.</summary>
    BadTransportHeader,

    /// <summary>
    /// Decoded as for <see cref="Ok"/> (a DNS port), but the capture's snap length cut the packet inside its IP or
    /// UDP length: <see cref="DecodedPacket.Payload"/> is only the captured part. A UDP DNS message can be read up to
    /// the cut; a TCP segment must not be fed to stream reassembly. Only the overloads of
    /// <see cref="PacketDecoder.Decode(LinkType, ReadOnlySpan{byte}, uint, DnsPortSet, out DecodedPacket)"/> that know
    /// the original length return it.
    /// </summary>
    Snapped,

    /// <summary>The IP or UDP payload ends inside a GRE or VXLAN header or the tunnelled Ethernet header.</summary>
    TruncatedTunnel,

    /// <summary>A GRE header of version 1 (PPTP) or with RFC 1701 routing, or a VXLAN header without the I flag.</summary>
    UnsupportedTunnel,
}
