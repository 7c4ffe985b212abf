namespace RataDns.Capture;

/// <summary>IP protocol numbers of the transports that carry DNS (IANA protocol numbers).</summary>
public enum TransportProtocol : byte
{
    Tcp = 6,
    Udp = 17,
}

/// <summary>
/// The outcome of <see cref="PacketDecoder.Decode"/>. Anything but <see cref="Ok"/> is ordinary traffic for a
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

    /// <summary>More nested IP-in-IP headers than <see cref="PacketDecoder.MaxIpHeaders"/>.</summary>
    TunnelTooDeep,

    /// <summary>More VLAN tags than <see cref="PacketDecoder.MaxVlanTags"/>.</summary>
    TooManyVlanTags,

    /// <summary>More IPv6 extension headers than <see cref="PacketDecoder.MaxExtensionHeaders"/>.</summary>
    TooManyExtensionHeaders,

    /// <summary>A UDP length below 8 or a TCP data offset below 5 words.</summary>
    BadTransportHeader,
}
