using System.Buffers.Binary;
using RataDns.DnsWire;

namespace RataDns.Capture;

/// <summary>
/// Decodes a captured frame down to its UDP or TCP payload: link layer, VLAN tags, PPPoE sessions, MPLS label
/// stacks, IPv4/IPv6 (options, extension headers), tunnels (IP-in-IP, GRE, GRE-in-UDP, VXLAN), then the transport
/// header. Iterative and bounded everywhere (tags, labels, extension headers, tunnel depth), never throws, and
/// checks every length against the bytes that remain before using it.
/// </summary>
public static class PacketDecoder
{
    /// <summary>IP headers read per frame (the outer one plus one per IP-in-IP, GRE or VXLAN tunnel level).</summary>
    public const int MaxIpHeaders = 4;

    /// <summary>802.1Q / 802.1ad tags skipped per frame.</summary>
    public const int MaxVlanTags = 8;

    /// <summary>IPv6 extension headers walked per IP header.</summary>
    public const int MaxExtensionHeaders = 8;

    /// <summary>MPLS label stack entries skipped per link layer.</summary>
    public const int MaxMplsLabels = 8;

    private const int EthernetHeaderSize = 14;
    private const int VlanTagSize = 4;
    private const int LinuxSllHeaderSize = 16;
    private const int LinuxSll2HeaderSize = 20;
    private const int NullHeaderSize = 4;
    private const int Ipv4MinimumHeaderSize = 20;
    private const int Ipv6HeaderSize = 40;
    private const int UdpHeaderSize = 8;
    private const int TcpMinimumHeaderSize = 20;
    private const int PppoeHeaderSize = 6;
    private const int MplsLabelSize = 4;
    private const int GreMinimumHeaderSize = 4;
    private const int VxlanHeaderSize = 8;
    private const int GeneveHeaderSize = 8;
    private const int GtpHeaderSize = 8;
    private const int Ieee80211HeaderSize = 24;
    private const int LlcSnapHeaderSize = 8;
    private const int NflogHeaderSize = 4;

    /// <summary>Link headers that name another link type behind them (PKTAP, PPI) followed per frame.</summary>
    private const int MaxLinkHeaders = 2;

    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;      // IEEE 802.1Q
    private const ushort EtherTypeQinQ = 0x88A8;      // IEEE 802.1ad service tag
    private const ushort EtherTypeQinQLegacy = 0x9100; // pre-standard QinQ
    private const ushort EtherTypePppoeSession = 0x8864; // RFC 2516
    private const ushort EtherTypeMplsUnicast = 0x8847; // RFC 3032
    private const ushort EtherTypeTransparentBridging = 0x6558; // GRE payload type: an Ethernet frame (RFC 1701, RFC 7637)

    // PPP protocol numbers (RFC 1661 2, IANA PPP DLL protocol numbers).
    private const ushort PppIpv4 = 0x0021;
    private const ushort PppIpv6 = 0x0057;

    // Well-known UDP destination ports of UDP tunnels.
    private const ushort PortVxlan = 4789;     // RFC 7348 5
    private const ushort PortGreInUdp = 4754;  // RFC 8086 3
    private const ushort PortGeneve = 6081;    // RFC 8926 3.3
    private const ushort PortGtpUser = 2152;   // 3GPP TS 29.281 4.4.2

    private const ushort GreProtocolPpp = 0x880B; // PPTP's enhanced GRE (RFC 2637 4.1)

    // BSD address families in NULL/LOOP headers: AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD),
    // 28 (FreeBSD) or 30 (macOS).
    private const uint AddressFamilyInet = 2;

    // IP protocol numbers (IANA).
    private const byte ProtocolHopByHop = 0;
    private const byte ProtocolIpv4 = 4;
    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;
    private const byte ProtocolIpv6 = 41;
    private const byte ProtocolRouting = 43;
    private const byte ProtocolFragment = 44;
    private const byte ProtocolGre = 47;
    private const byte ProtocolAuthentication = 51;
    private const byte ProtocolNoNextHeader = 59;
    private const byte ProtocolDestinationOptions = 60;

    /// <summary>Whether frames of <paramref name="linkType"/> are decoded at all (others are <see cref="PacketDecodeStatus.UnsupportedLinkType"/>).</summary>
    public static bool Supports(LinkType linkType) => (ushort)linkType switch
    {
        (ushort)LinkType.Null or (ushort)LinkType.Ethernet or (ushort)LinkType.Ppp or (ushort)LinkType.PppHdlc
            or (ushort)LinkType.Raw or 12 or 14 or (ushort)LinkType.CiscoHdlc or (ushort)LinkType.Ieee80211
            or (ushort)LinkType.Loop or (ushort)LinkType.LinuxSll or (ushort)LinkType.Radiotap or (ushort)LinkType.User2
            or (ushort)LinkType.Ppi or (ushort)LinkType.Ipv4 or (ushort)LinkType.Ipv6 or (ushort)LinkType.Nflog
            or (ushort)LinkType.Pktap or (ushort)LinkType.LinuxSll2 or (ushort)LinkType.Dnstap => true,
        _ => false,
    };

    /// <summary>
    /// Decodes <paramref name="frame"/> of type <paramref name="linkType"/>. <see cref="PacketDecodeStatus.Ok"/>
    /// means a UDP or TCP packet with a source or destination port in <paramref name="ports"/>.
    /// </summary>
    public static PacketDecodeStatus Decode(
        LinkType linkType, ReadOnlySpan<byte> frame, DnsPortSet ports, out DecodedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var builder = default(Builder);
        var status = DecodeInto(linkType, frame, ports, ref builder);
        packet = new DecodedPacket(in builder);
        return status;
    }

    /// <summary>
    /// Decodes <paramref name="frame"/>, knowing its length on the wire. When the capture's snap length cut the frame
    /// (<paramref name="originalLength"/> above the captured length), an IP or UDP length running past the captured
    /// bytes is the cut, not a malformed packet: the lengths are trimmed to what was captured and a packet that
    /// would otherwise be <see cref="PacketDecodeStatus.Ok"/> is <see cref="PacketDecodeStatus.Snapped"/>. Frames
    /// that were not cut get exactly the checks of <see cref="Decode(LinkType, ReadOnlySpan{byte}, DnsPortSet, out DecodedPacket)"/>.
    /// </summary>
    public static PacketDecodeStatus Decode(
        LinkType linkType, ReadOnlySpan<byte> frame, uint originalLength, DnsPortSet ports, out DecodedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var builder = default(Builder);
        builder.CaptureCut = originalLength > (uint)frame.Length;
        var status = DecodeInto(linkType, frame, ports, ref builder);
        packet = new DecodedPacket(in builder);
        return status;
    }

    /// <summary>Decodes a captured frame; see <see cref="Decode(LinkType, ReadOnlySpan{byte}, uint, DnsPortSet, out DecodedPacket)"/>.</summary>
    public static PacketDecodeStatus Decode(in CapturedFrame frame, DnsPortSet ports, out DecodedPacket packet) =>
        Decode(frame.LinkType, frame.Data, frame.OriginalLength, ports, out packet);

    /// <summary>
    /// Decodes a datagram that <see cref="Fragments.IpFragmentReassembler"/> put back together: the UDP or TCP header
    /// (and any tunnel) in <paramref name="reassembledPayload"/>, with the IP version, addresses, protocol and header
    /// count of <paramref name="firstFragment"/> (any fragment of the datagram: they share them), then the port check
    /// of <see cref="Decode(LinkType, ReadOnlySpan{byte}, DnsPortSet, out DecodedPacket)"/>. The statuses are those of
    /// Decode: a reassembled datagram that is itself malformed (a UDP length past its end, say) is reported here.
    /// </summary>
    public static PacketDecodeStatus DecodeReassembled(
        scoped in DecodedPacket firstFragment, ReadOnlySpan<byte> reassembledPayload, DnsPortSet ports, out DecodedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var builder = default(Builder);
        var status = DecodeReassembledInto(in firstFragment, reassembledPayload, ports, ref builder);
        packet = new DecodedPacket(in builder);
        return status;
    }

    private static PacketDecodeStatus DecodeReassembledInto(
        scoped in DecodedPacket firstFragment, ReadOnlySpan<byte> reassembledPayload, DnsPortSet ports, ref Builder packet)
    {
        int addressLength = firstFragment.IpVersion switch
        {
            4 => 4,
            6 => 16,
            _ => 0,
        };
        if (addressLength == 0
            || firstFragment.SourceAddress.Length != addressLength
            || firstFragment.DestinationAddress.Length != addressLength)
        {
            return PacketDecodeStatus.NotIp;
        }

        packet.IpVersion = firstFragment.IpVersion;
        packet.SourceAddress = firstFragment.SourceAddress;
        packet.DestinationAddress = firstFragment.DestinationAddress;
        packet.IpProtocol = firstFragment.IpProtocol;
        packet.IpPayload = reassembledPayload;
        packet.IpHeaderCount = Math.Max(1, firstFragment.IpHeaderCount);

        var status = DecodeIpPayload(ports, ref packet, out var inner, out int innerVersion, out bool tunnelled);
        if (status == PacketDecodeStatus.Ok && tunnelled)
        {
            status = DecodeIp(inner, innerVersion, ports, ref packet, packet.IpHeaderCount);
        }

        if (status != PacketDecodeStatus.Ok)
        {
            return status;
        }

        if (!ports.Contains(packet.SourcePort) && !ports.Contains(packet.DestinationPort))
        {
            return PacketDecodeStatus.NotDnsPort;
        }

        return PacketDecodeStatus.Ok;
    }

    private static PacketDecodeStatus DecodeInto(
        LinkType linkType, ReadOnlySpan<byte> frame, DnsPortSet ports, ref Builder packet)
    {
        if (linkType == LinkType.Dnstap && Dnstap.DnstapPacketHeader.TryRead(frame, out var encryption, out long serverQueryTime))
        {
            packet.Encryption = encryption;
            packet.ServerQueryTimeNanoseconds = serverQueryTime;
        }

        var status = SkipLinkLayer(linkType, frame, out int ipOffset, out int ipVersion);
        if (status != PacketDecodeStatus.Ok)
        {
            return status;
        }

        status = DecodeIp(frame[ipOffset..], ipVersion, ports, ref packet);
        if (status != PacketDecodeStatus.Ok)
        {
            return status;
        }

        // A dnstap frame is DNS whatever its ports: the server said so (it may listen on 853, 443 or 5353).
        if (!ports.Contains(packet.SourcePort) && !ports.Contains(packet.DestinationPort) && linkType != LinkType.Dnstap)
        {
            return PacketDecodeStatus.NotDnsPort;
        }

        return packet.Snapped ? PacketDecodeStatus.Snapped : PacketDecodeStatus.Ok;
    }

    /// <summary>
    /// Finds where the IP header starts. <paramref name="ipVersion"/> is 4 or 6 when the link layer says which,
    /// or 0 when the first nibble must tell (raw IP).
    /// </summary>
    private static PacketDecodeStatus SkipLinkLayer(LinkType linkType, ReadOnlySpan<byte> frame, out int ipOffset, out int ipVersion, int depth = 0)
    {
        ipOffset = 0;
        ipVersion = 0;
        switch ((ushort)linkType)
        {
            case (ushort)LinkType.Ppp:
            case (ushort)LinkType.PppHdlc:
                return SkipPpp(frame, 0, out ipOffset, out ipVersion);

            case (ushort)LinkType.CiscoHdlc:
                // Address (1), control (1), then an EtherType.
                if (frame.Length < 4)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                return DispatchEtherType(frame, BinaryPrimitives.ReadUInt16BigEndian(frame[2..]), 4, out ipOffset, out ipVersion);

            case (ushort)LinkType.Ieee80211:
                return SkipIeee80211(frame, 0, out ipOffset, out ipVersion);

            case (ushort)LinkType.Radiotap:
                // it_version (1, 0), it_pad (1), it_len (2, little-endian: the whole radiotap header), it_present...
                if (frame.Length < 4)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                int radiotapLength = BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]);
                if (frame[0] != 0 || radiotapLength < 8)
                {
                    return PacketDecodeStatus.NotIp;
                }

                return radiotapLength > frame.Length ? PacketDecodeStatus.TruncatedLink : SkipIeee80211(frame, radiotapLength, out ipOffset, out ipVersion);

            case (ushort)LinkType.Nflog:
                return SkipNflog(frame, out ipOffset, out ipVersion);

            case (ushort)LinkType.Pktap:
            case (ushort)LinkType.User2:
            case (ushort)LinkType.Ppi:
                return SkipEncapsulatingHeader(linkType, frame, out ipOffset, out ipVersion, depth);

            case (ushort)LinkType.Ethernet:
                // Destination (6), source (6), EtherType (2).
                if (frame.Length < EthernetHeaderSize)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                return SkipEtherType(frame, EthernetHeaderSize - 2, out ipOffset, out ipVersion);

            case (ushort)LinkType.LinuxSll:
                // Packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2).
                if (frame.Length < LinuxSllHeaderSize)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                return SkipEtherType(frame, LinuxSllHeaderSize - 2, out ipOffset, out ipVersion);

            case (ushort)LinkType.LinuxSll2:
                // Protocol (2), reserved (2), interface index (4), ARPHRD type (2), packet type (1),
                // address length (1), address (8).
                if (frame.Length < LinuxSll2HeaderSize)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                return SkipEtherTypeAt(frame, 0, LinuxSll2HeaderSize, out ipOffset, out ipVersion);

            case (ushort)LinkType.Null:
            case (ushort)LinkType.Loop:
                if (frame.Length < NullHeaderSize)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                ipOffset = NullHeaderSize;
                return AddressFamilyToVersion(ReadAddressFamily(linkType, frame), out ipVersion);

            case (ushort)LinkType.Dnstap:
                if (frame.Length < Dnstap.DnstapPacketHeader.Size)
                {
                    return PacketDecodeStatus.TruncatedLink;
                }

                ipOffset = Dnstap.DnstapPacketHeader.Size;
                return PacketDecodeStatus.Ok;

            case (ushort)LinkType.Raw:
            case 12: // DLT_RAW on OpenBSD
            case 14: // DLT_RAW on BSD/OS
                return PacketDecodeStatus.Ok;

            case (ushort)LinkType.Ipv4:
                ipVersion = 4;
                return PacketDecodeStatus.Ok;

            case (ushort)LinkType.Ipv6:
                ipVersion = 6;
                return PacketDecodeStatus.Ok;

            default:
                return PacketDecodeStatus.UnsupportedLinkType;
        }
    }

    /// <summary>
    /// Headers that name the link type of the frame behind them: PKTAP (Apple's <c>struct pktap_header</c>:
    /// <c>pth_length</c> (4), <c>pth_type_next</c> (4, 1: a packet follows), <c>pth_dlt</c> (4), the interface name and
    /// process details, in the capturing host's byte order, little-endian on every Mac) and PPI (<c>pph_version</c>
    /// (1, 0), <c>pph_flags</c> (1), <c>pph_len</c> (2) and <c>pph_dlt</c> (4), little-endian). The inner frame is
    /// decoded by its own link type, one level deep.
    /// </summary>
    private static PacketDecodeStatus SkipEncapsulatingHeader(LinkType linkType, ReadOnlySpan<byte> frame, out int ipOffset, out int ipVersion, int depth)
    {
        ipOffset = 0;
        ipVersion = 0;
        if (depth + 1 >= MaxLinkHeaders)
        {
            return PacketDecodeStatus.UnsupportedLinkType;
        }

        bool ppi = linkType == LinkType.Ppi;
        if (frame.Length < (ppi ? 8 : 12))
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        uint headerLength = ppi ? BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]) : BinaryPrimitives.ReadUInt32LittleEndian(frame);
        uint inner = BinaryPrimitives.ReadUInt32LittleEndian(frame[(ppi ? 4 : 8)..]);
        bool packetFollows = ppi ? frame[0] == 0 : BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]) == 1;
        if (!packetFollows || headerLength < (ppi ? 8u : 12u) || inner > ushort.MaxValue)
        {
            return PacketDecodeStatus.NotIp;
        }

        if (headerLength > (uint)frame.Length)
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        var status = SkipLinkLayer((LinkType)inner, frame[(int)headerLength..], out ipOffset, out ipVersion, depth + 1);
        ipOffset += (int)headerLength;
        return status;
    }

    /// <summary>
    /// PPP (RFC 1661 2): the address and control fields ff 03 when present (RFC 1662 3.1; absent when compressed, and
    /// in PPPoE and PPTP's GRE often), then Protocol, 2 octets or 1 when compressed (a compressed field is its odd low
    /// octet).
    /// </summary>
    private static PacketDecodeStatus SkipPpp(ReadOnlySpan<byte> frame, int offset, out int ipOffset, out int ipVersion)
    {
        ipOffset = 0;
        ipVersion = 0;
        if (frame.Length - offset >= 2 && frame[offset] == 0xFF && frame[offset + 1] == 0x03)
        {
            offset += 2;
        }

        return SkipPppProtocol(frame, offset, out ipOffset, out ipVersion);
    }

    private static PacketDecodeStatus SkipPppProtocol(ReadOnlySpan<byte> frame, int offset, out int ipOffset, out int ipVersion)
    {
        ipOffset = 0;
        ipVersion = 0;
        if (frame.Length - offset < 1)
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        ushort protocol;
        if ((frame[offset] & 1) != 0)
        {
            protocol = frame[offset];
            offset += 1;
        }
        else
        {
            if (frame.Length - offset < 2)
            {
                return PacketDecodeStatus.TruncatedLink;
            }

            protocol = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
            offset += 2;
        }

        ipOffset = offset;
        ipVersion = protocol switch
        {
            PppIpv4 => 4,
            PppIpv6 => 6,
            _ => 0,
        };
        return ipVersion == 0 ? PacketDecodeStatus.NotIp : PacketDecodeStatus.Ok;
    }

    /// <summary>
    /// An IEEE 802.11 data frame (IEEE 802.11-2020 9.2, 9.3.2.1) at <paramref name="offset"/>: Frame Control (2; type 2
    /// is data, subtype bit 0x40 no data, bit 0x80 QoS; flags To DS 0x01, From DS 0x02, Protected 0x40, +HTC/Order
    /// 0x80), Duration (2), three addresses (18), Sequence Control (2), a fourth address when both DS bits are set,
    /// QoS Control (2) for QoS subtypes and HT Control (4) when those also carry the Order bit; then an LLC/SNAP header
    /// (aa aa 03, an OUI, the EtherType). Protected frames are encrypted: not IP to a monitor.
    /// </summary>
    private static PacketDecodeStatus SkipIeee80211(ReadOnlySpan<byte> frame, int offset, out int ipOffset, out int ipVersion)
    {
        ipOffset = 0;
        ipVersion = 0;
        if (frame.Length - offset < Ieee80211HeaderSize)
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        byte control = frame[offset];
        byte flags = frame[offset + 1];
        int type = (control >> 2) & 0x03;
        int subtype = control >> 4;
        if ((control & 0x03) != 0 || type != 2 || (subtype & 0x04) != 0 || (flags & 0x40) != 0)
        {
            return PacketDecodeStatus.NotIp;
        }

        int header = Ieee80211HeaderSize + ((flags & 0x03) == 0x03 ? 6 : 0);
        if ((subtype & 0x08) != 0)
        {
            header += 2 + ((flags & 0x80) != 0 ? 4 : 0);
        }

        offset += header;
        if (frame.Length - offset < LlcSnapHeaderSize)
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        if (frame[offset] != 0xAA || frame[offset + 1] != 0xAA || frame[offset + 2] != 0x03)
        {
            return PacketDecodeStatus.NotIp;
        }

        return DispatchEtherType(frame, BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 6)..]), offset + LlcSnapHeaderSize, out ipOffset, out ipVersion);
    }

    /// <summary>
    /// Linux NFLOG (LINKTYPE_NFLOG): family (1: AF_INET 2, AF_INET6 10), version (1, 0), resource id (2), then
    /// attributes: length (2, header included), type (2), the value, padded to 4 bytes. Length and type are in the
    /// capturing host's byte order, which the frame does not say: the order in which the first attribute's length
    /// fits the frame is taken (as tcpdump and Wireshark guess). NFULA_PAYLOAD (9) holds the IP packet.
    /// </summary>
    private static PacketDecodeStatus SkipNflog(ReadOnlySpan<byte> frame, out int ipOffset, out int ipVersion)
    {
        const int PayloadAttribute = 9;
        ipOffset = 0;
        ipVersion = frame.Length > 0 ? frame[0] switch
        {
            2 => 4,
            10 => 6,
            _ => 0,
        } : 0;
        if (frame.Length < NflogHeaderSize + 4)
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        if (ipVersion == 0 || frame[1] != 0)
        {
            return PacketDecodeStatus.NotIp;
        }

        int first = BinaryPrimitives.ReadUInt16LittleEndian(frame[NflogHeaderSize..]);
        bool little = first >= 4 && first <= frame.Length - NflogHeaderSize;
        for (int offset = NflogHeaderSize; frame.Length - offset >= 4;)
        {
            int length = little ? BinaryPrimitives.ReadUInt16LittleEndian(frame[offset..]) : BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
            int type = (little ? BinaryPrimitives.ReadUInt16LittleEndian(frame[(offset + 2)..]) : BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..])) & 0x3FFF;
            if (length < 4 || length > frame.Length - offset)
            {
                return PacketDecodeStatus.TruncatedLink;
            }

            if (type == PayloadAttribute)
            {
                ipOffset = offset + 4;
                return PacketDecodeStatus.Ok;
            }

            offset += (length + 3) & ~3;
        }

        return PacketDecodeStatus.NotIp;
    }

    /// <summary>
    /// The family of a NULL header is in the capturing host's byte order, which the file does not record: like
    /// libpcap, take the order in which the value is small (families fit in 16 bits). LOOP is network order.
    /// </summary>
    private static uint ReadAddressFamily(LinkType linkType, ReadOnlySpan<byte> frame)
    {
        uint family = BinaryPrimitives.ReadUInt32BigEndian(frame);
        if (linkType == LinkType.Null && (family & 0xFFFF0000) != 0)
        {
            family = BinaryPrimitives.ReverseEndianness(family);
        }

        return family;
    }

    private static PacketDecodeStatus AddressFamilyToVersion(uint family, out int ipVersion)
    {
        ipVersion = family switch
        {
            AddressFamilyInet => 4,
            24 or 28 or 30 => 6,
            _ => 0,
        };
        return ipVersion == 0 ? PacketDecodeStatus.NotIp : PacketDecodeStatus.Ok;
    }

    private static PacketDecodeStatus SkipEtherType(ReadOnlySpan<byte> frame, int typeOffset, out int ipOffset, out int ipVersion) =>
        SkipEtherTypeAt(frame, typeOffset, typeOffset + 2, out ipOffset, out ipVersion);

    /// <summary>
    /// Reads the EtherType at <paramref name="typeOffset"/> (the payload starts at <paramref name="payloadOffset"/>),
    /// skipping 802.1Q/802.1ad tags: each tag is TCI (2) then the next EtherType (2).
    /// </summary>
    private static PacketDecodeStatus SkipEtherTypeAt(
        ReadOnlySpan<byte> frame, int typeOffset, int payloadOffset, out int ipOffset, out int ipVersion)
    {
        ipOffset = 0;
        ipVersion = 0;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        int tags = 0;
        while (etherType is EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy)
        {
            if (++tags > MaxVlanTags)
            {
                return PacketDecodeStatus.TooManyVlanTags;
            }

            if (frame.Length - payloadOffset < VlanTagSize)
            {
                return PacketDecodeStatus.TruncatedLink;
            }

            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(payloadOffset + 2)..]);
            payloadOffset += VlanTagSize;
        }

        return DispatchEtherType(frame, etherType, payloadOffset, out ipOffset, out ipVersion);
    }

    /// <summary>
    /// Finds the IP header behind <paramref name="etherType"/>, whose payload starts at <paramref name="payloadOffset"/>:
    /// IPv4, IPv6, a PPPoE session carrying IP, or an MPLS label stack over IP.
    /// </summary>
    private static PacketDecodeStatus DispatchEtherType(
        ReadOnlySpan<byte> frame, ushort etherType, int payloadOffset, out int ipOffset, out int ipVersion)
    {
        ipOffset = payloadOffset;
        ipVersion = 0;
        switch (etherType)
        {
            case EtherTypeIpv4:
                ipVersion = 4;
                return PacketDecodeStatus.Ok;
            case EtherTypeIpv6:
                ipVersion = 6;
                return PacketDecodeStatus.Ok;
            case EtherTypePppoeSession:
                return SkipPppoeSession(frame, payloadOffset, out ipOffset, out ipVersion);
            case EtherTypeMplsUnicast:
                return SkipMplsLabels(frame, payloadOffset, out ipOffset, out ipVersion);
            default:
                return PacketDecodeStatus.NotIp;
        }
    }

    /// <summary>
    /// PPPoE session stage (RFC 2516 4, 5.5): VER (4 bits, 1), TYPE (4 bits, 1), CODE (0 for session data),
    /// SESSION_ID (2), LENGTH (2), then the PPP frame without address and control fields: the Protocol field (RFC
    /// 1661 2), two octets, or one when Protocol-Field-Compression was negotiated (a compressed field is its odd low
    /// octet). The PPPoE LENGTH is not used: the IP lengths bound the packet.
    /// </summary>
    private static PacketDecodeStatus SkipPppoeSession(ReadOnlySpan<byte> frame, int offset, out int ipOffset, out int ipVersion)
    {
        ipOffset = 0;
        ipVersion = 0;
        if (frame.Length - offset < PppoeHeaderSize + 1)
        {
            return PacketDecodeStatus.TruncatedLink;
        }

        if (frame[offset] != 0x11 || frame[offset + 1] != 0x00)
        {
            return PacketDecodeStatus.NotIp;
        }

        return SkipPppProtocol(frame, offset + PppoeHeaderSize, out ipOffset, out ipVersion);
    }

    /// <summary>
    /// MPLS label stack (RFC 3032 2.1): entries of Label (20 bits), TC (3), S (1, bottom of stack), TTL (8), up to
    /// <see cref="MaxMplsLabels"/>. The stack does not say what follows; like RFC 3032 2.2's implicit payloads and
    /// common practice (tcpdump, Wireshark), take IPv4 or IPv6 from the first nibble and anything else (a pseudowire
    /// control word, ...) as not IP.
    /// </summary>
    private static PacketDecodeStatus SkipMplsLabels(ReadOnlySpan<byte> frame, int offset, out int ipOffset, out int ipVersion)
    {
        ipOffset = 0;
        ipVersion = 0;
        for (int labels = 0; ; labels++)
        {
            if (labels == MaxMplsLabels)
            {
                return PacketDecodeStatus.TooManyVlanTags;
            }

            if (frame.Length - offset < MplsLabelSize)
            {
                return PacketDecodeStatus.TruncatedLink;
            }

            bool bottom = (frame[offset + 2] & 0x01) != 0;
            offset += MplsLabelSize;
            if (bottom)
            {
                break;
            }
        }

        return IpByFirstNibble(frame, offset, PacketDecodeStatus.TruncatedIp, out ipOffset, out ipVersion);
    }

    /// <summary>An IP packet at <paramref name="offset"/> that nothing before it names: IPv4 or IPv6 by its first nibble, anything else not IP.</summary>
    private static PacketDecodeStatus IpByFirstNibble(ReadOnlySpan<byte> data, int offset, PacketDecodeStatus truncated, out int ipOffset, out int ipVersion)
    {
        ipOffset = offset;
        ipVersion = 0;
        if (data.Length - offset < 1)
        {
            return truncated;
        }

        ipVersion = data[offset] >> 4;
        if (ipVersion is not (4 or 6))
        {
            ipVersion = 0;
            return PacketDecodeStatus.NotIp;
        }

        return PacketDecodeStatus.Ok;
    }

    /// <summary>
    /// Reads IP headers and the transport header, following tunnels iteratively up to <see cref="MaxIpHeaders"/>
    /// IP headers: IPv4-in-IP (protocol 4), IPv6-in-IP (41), GRE (47), and over UDP, VXLAN (destination port 4789)
    /// and GRE-in-UDP (4754). On Ok the packet's addresses, protocol, IP payload, ports and payload are those of the
    /// innermost packet.
    /// </summary>
    private static PacketDecodeStatus DecodeIp(
        ReadOnlySpan<byte> ip, int expectedVersion, DnsPortSet ports, ref Builder packet, int headersRead = 0)
    {
        for (int depth = headersRead; ; depth++)
        {
            if (depth == MaxIpHeaders)
            {
                return PacketDecodeStatus.TunnelTooDeep;
            }

            if (ip.IsEmpty)
            {
                return PacketDecodeStatus.TruncatedIp;
            }

            int version = ip[0] >> 4;
            if (expectedVersion == 0 && version is not (4 or 6))
            {
                // Raw IP whose first nibble is neither 4 nor 6.
                return PacketDecodeStatus.NotIp;
            }

            if (expectedVersion != 0 && version != expectedVersion)
            {
                return PacketDecodeStatus.BadIpHeader;
            }

            packet.IpHeaderCount = depth + 1;
            var status = version == 4 ? DecodeIpv4(ip, ref packet) : DecodeIpv6(ip, ref packet);
            if (status != PacketDecodeStatus.Ok)
            {
                return status;
            }

            status = DecodeIpPayload(ports, ref packet, out ip, out expectedVersion, out bool tunnelled);
            if (status != PacketDecodeStatus.Ok || !tunnelled)
            {
                return status;
            }
        }
    }

    /// <summary>
    /// Reads what follows an IP header whose protocol and payload are in <paramref name="packet"/>: the UDP or TCP
    /// header, or a tunnel. <paramref name="tunnelled"/> is true when an inner IP packet (of
    /// <paramref name="innerVersion"/>, 0 when its first nibble must tell) starts <paramref name="inner"/>.
    /// </summary>
    private static PacketDecodeStatus DecodeIpPayload(
        DnsPortSet ports, scoped ref Builder packet, out ReadOnlySpan<byte> inner, out int innerVersion, out bool tunnelled)
    {
        var ip = packet.IpPayload;
        inner = default;
        innerVersion = 0;
        tunnelled = false;
        PacketDecodeStatus status;
        int innerOffset;
        switch (packet.IpProtocol)
        {
            case ProtocolIpv4:
                innerVersion = 4;
                inner = ip;
                tunnelled = true;
                return PacketDecodeStatus.Ok;

            case ProtocolIpv6:
                innerVersion = 6;
                inner = ip;
                tunnelled = true;
                return PacketDecodeStatus.Ok;

            case ProtocolGre:
                status = SkipGre(ip, out innerOffset, out innerVersion);
                break;

            case ProtocolUdp:
                status = DecodeUdp(ref packet);
                if (status != PacketDecodeStatus.Ok)
                {
                    return status;
                }

                ip = packet.Payload;

                // A datagram to or from a DNS port is DNS, whatever the other port: a resolver's random source
                // port may well be 4789 or 4754, and its answer must not be taken for a tunnel.
                if (ports.Contains(packet.SourcePort) || ports.Contains(packet.DestinationPort))
                {
                    return PacketDecodeStatus.Ok;
                }

                if (packet.DestinationPort == PortVxlan)
                {
                    status = SkipVxlan(ip, out innerOffset, out innerVersion);
                }
                else if (packet.DestinationPort == PortGreInUdp)
                {
                    status = SkipGre(ip, out innerOffset, out innerVersion);
                }
                else if (packet.DestinationPort == PortGeneve)
                {
                    status = SkipGeneve(ip, out innerOffset, out innerVersion);
                }
                else if (packet.DestinationPort == PortGtpUser)
                {
                    status = SkipGtpUser(ip, out innerOffset, out innerVersion);
                }
                else
                {
                    return PacketDecodeStatus.Ok;
                }

                // The outer UDP header is the tunnel's, not the packet's.
                packet.Transport = default;
                packet.SourcePort = 0;
                packet.DestinationPort = 0;
                packet.Payload = default;
                break;

            case ProtocolTcp:
                return DecodeTcp(ref packet);

            default:
                // ICMP and ICMPv6 errors quote the packet that caused them: not DNS traffic, even when the quote is.
                return PacketDecodeStatus.NotUdpOrTcp;
        }

        if (status != PacketDecodeStatus.Ok)
        {
            return status;
        }

        inner = ip[innerOffset..];
        tunnelled = true;
        return PacketDecodeStatus.Ok;
    }

    /// <summary>
    /// GRE (RFC 2784 2, with the Key and Sequence Number extensions of RFC 2890 2): C (checksum present), a reserved
    /// bit (R, routing present, in RFC 1701), K (key present), S (sequence present), reserved, Ver (3 bits, 0), then
    /// Protocol Type (an EtherType) and the optional Checksum + Reserved1 (4), Key (4) and Sequence Number (4), in
    /// that order. Version 1 (PPTP's enhanced GRE, RFC 2637) and RFC 1701 source routing are not read. The payload
    /// is IPv4, IPv6, MPLS, or an Ethernet frame (transparent Ethernet bridging, 0x6558).
    /// </summary>
    private static PacketDecodeStatus SkipGre(ReadOnlySpan<byte> gre, out int innerOffset, out int ipVersion)
    {
        innerOffset = 0;
        ipVersion = 0;
        if (gre.Length < GreMinimumHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(gre);
        if ((flags & 0x0007) == 1)
        {
            return SkipEnhancedGre(gre, flags, out innerOffset, out ipVersion);
        }

        if ((flags & 0x0007) != 0 || (flags & 0x4000) != 0)
        {
            return PacketDecodeStatus.UnsupportedTunnel;
        }

        int headerLength = GreMinimumHeaderSize
            + ((flags & 0x8000) != 0 ? 4 : 0)  // C: Checksum, Reserved1
            + ((flags & 0x2000) != 0 ? 4 : 0)  // K: Key
            + ((flags & 0x1000) != 0 ? 4 : 0); // S: Sequence Number
        if (gre.Length < headerLength)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        ushort protocolType = BinaryPrimitives.ReadUInt16BigEndian(gre[2..]);
        if (protocolType == EtherTypeTransparentBridging)
        {
            return SkipInnerEthernet(gre, headerLength, out innerOffset, out ipVersion);
        }

        return DispatchEtherType(gre, protocolType, headerLength, out innerOffset, out ipVersion);
    }

    /// <summary>
    /// PPTP's enhanced GRE (RFC 2637 4.1), version 1: C and R clear, K set (Payload Length (2) and Call ID (2)), S
    /// (Sequence Number, 4) and A (0x0080: Acknowledgment Number, 4) optional, Protocol Type 0x880B, then a PPP frame.
    /// An acknowledgment alone carries no payload.
    /// </summary>
    private static PacketDecodeStatus SkipEnhancedGre(ReadOnlySpan<byte> gre, ushort flags, out int innerOffset, out int ipVersion)
    {
        innerOffset = 0;
        ipVersion = 0;
        if ((flags & 0xC000) != 0 || (flags & 0x2000) == 0 || BinaryPrimitives.ReadUInt16BigEndian(gre[2..]) != GreProtocolPpp)
        {
            return PacketDecodeStatus.UnsupportedTunnel;
        }

        int headerLength = GreMinimumHeaderSize + 4 + ((flags & 0x1000) != 0 ? 4 : 0) + ((flags & 0x0080) != 0 ? 4 : 0);
        if (gre.Length < headerLength)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        if (gre.Length == headerLength)
        {
            return PacketDecodeStatus.NotIp;
        }

        return SkipPpp(gre, headerLength, out innerOffset, out ipVersion);
    }

    /// <summary>
    /// Geneve (RFC 8926 3.4): Ver (2 bits, 0), Opt Len (6 bits, in 4-byte words), O, C, reserved, Protocol Type (an
    /// EtherType; 0x6558 an Ethernet frame), VNI (3), reserved (1), then the options and the inner packet.
    /// </summary>
    private static PacketDecodeStatus SkipGeneve(ReadOnlySpan<byte> geneve, out int innerOffset, out int ipVersion)
    {
        innerOffset = 0;
        ipVersion = 0;
        if (geneve.Length < GeneveHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        if ((geneve[0] >> 6) != 0)
        {
            return PacketDecodeStatus.UnsupportedTunnel;
        }

        int headerLength = GeneveHeaderSize + ((geneve[0] & 0x3F) * 4);
        if (geneve.Length < headerLength)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        ushort protocolType = BinaryPrimitives.ReadUInt16BigEndian(geneve[2..]);
        return protocolType == EtherTypeTransparentBridging
            ? SkipInnerEthernet(geneve, headerLength, out innerOffset, out ipVersion)
            : DispatchEtherType(geneve, protocolType, headerLength, out innerOffset, out ipVersion);
    }

    /// <summary>
    /// GTP-U (3GPP TS 29.281 5.1, 5.2): Version (3 bits, 1), PT (1), spare, E, S, PN; Message Type (0xFF: G-PDU, a
    /// user packet); Length (2); TEID (4); with E, S or PN a Sequence Number (2), N-PDU Number (1) and the first
    /// extension header's type (1); each extension header is its length in 4-byte words, its content, and the next
    /// type (0: none). The user packet is IPv4 or IPv6 by its first nibble.
    /// </summary>
    private static PacketDecodeStatus SkipGtpUser(ReadOnlySpan<byte> gtp, out int innerOffset, out int ipVersion)
    {
        const int MaxExtensionHeaders = 8;
        innerOffset = 0;
        ipVersion = 0;
        if (gtp.Length < GtpHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        byte flags = gtp[0];
        if ((flags >> 5) != 1 || (flags & 0x10) == 0)
        {
            return PacketDecodeStatus.UnsupportedTunnel;
        }

        if (gtp[1] != 0xFF)
        {
            return PacketDecodeStatus.NotIp; // echo, error indication, end marker: signalling, no user packet
        }

        int offset = GtpHeaderSize;
        if ((flags & 0x07) != 0)
        {
            if (gtp.Length - offset < 4)
            {
                return PacketDecodeStatus.TruncatedTunnel;
            }

            byte next = gtp[offset + 3];
            offset += 4;
            for (int count = 0; next != 0; count++)
            {
                if (count == MaxExtensionHeaders)
                {
                    return PacketDecodeStatus.UnsupportedTunnel;
                }

                if (gtp.Length - offset < 1 || gtp[offset] == 0)
                {
                    return PacketDecodeStatus.TruncatedTunnel;
                }

                int length = gtp[offset] * 4;
                if (gtp.Length - offset < length)
                {
                    return PacketDecodeStatus.TruncatedTunnel;
                }

                next = gtp[offset + length - 1];
                offset += length;
            }
        }

        return IpByFirstNibble(gtp, offset, PacketDecodeStatus.TruncatedTunnel, out innerOffset, out ipVersion);
    }

    /// <summary>
    /// VXLAN (RFC 7348 5): Flags (8 bits, I = 0x08: the VNI is valid, which RFC 7348 requires), Reserved (24),
    /// VNI (24), Reserved (8), then an inner Ethernet frame without FCS.
    /// </summary>
    private static PacketDecodeStatus SkipVxlan(ReadOnlySpan<byte> vxlan, out int innerOffset, out int ipVersion)
    {
        innerOffset = 0;
        ipVersion = 0;
        if (vxlan.Length < VxlanHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        if ((vxlan[0] & 0x08) == 0)
        {
            return PacketDecodeStatus.UnsupportedTunnel;
        }

        return SkipInnerEthernet(vxlan, VxlanHeaderSize, out innerOffset, out ipVersion);
    }

    /// <summary>An Ethernet frame inside a tunnel, starting at <paramref name="offset"/>: as on the outer link, VLAN tags, PPPoE and MPLS included.</summary>
    private static PacketDecodeStatus SkipInnerEthernet(ReadOnlySpan<byte> data, int offset, out int innerOffset, out int ipVersion)
    {
        innerOffset = 0;
        ipVersion = 0;
        if (data.Length - offset < EthernetHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTunnel;
        }

        return SkipEtherType(data, offset + EthernetHeaderSize - 2, out innerOffset, out ipVersion);
    }

    /// <summary>
    /// IPv4 (RFC 791 3.1): IHL in 32-bit words (at least 5; options skipped), Total Length trims link padding,
    /// flags/fragment offset: <c>0 DF MF offset(13 bits, in 8-byte units)</c>.
    /// </summary>
    private static PacketDecodeStatus DecodeIpv4(ReadOnlySpan<byte> ip, ref Builder packet)
    {
        if (ip.Length < Ipv4MinimumHeaderSize)
        {
            return PacketDecodeStatus.TruncatedIp;
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (headerLength < Ipv4MinimumHeaderSize)
        {
            return PacketDecodeStatus.BadIpHeader;
        }

        if (headerLength > ip.Length)
        {
            return PacketDecodeStatus.TruncatedIp;
        }

        // A Total Length of 0 is what TCP segmentation offload leaves in captures taken on the sending host:
        // the frame's own length is then the only length there is.
        if (totalLength == 0)
        {
            totalLength = ip.Length;
        }

        if (totalLength < headerLength)
        {
            return PacketDecodeStatus.BadIpHeader;
        }

        if (totalLength > ip.Length)
        {
            if (!packet.CaptureCut && CompleteUdpBeyondIpLength(ip, headerLength, ip[9]))
            {
                // An IP length longer than the frame whose UDP datagram is whole in it: the length field is wrong,
                // not the packet short (tshark and tcpdump decode it, flagging the length).
                totalLength = ip.Length;
            }
            else
            {
                if (!packet.CaptureCut)
                {
                    return PacketDecodeStatus.TruncatedIp;
                }

                // The snap length cut the packet: what was captured is all there is (pcap snaplen, pcapng Captured
                // Packet Length below Original Packet Length).
                totalLength = ip.Length;
                packet.Snapped = true;
            }
        }

        packet.IpVersion = 4;
        packet.SourceAddress = ip.Slice(12, 4);
        packet.DestinationAddress = ip.Slice(16, 4);
        packet.IpProtocol = ip[9];
        packet.IpPayload = ip[headerLength..totalLength];

        ushort flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        bool moreFragments = (flagsAndOffset & 0x2000) != 0;
        int fragmentOffset = (flagsAndOffset & 0x1FFF) * 8;
        if (moreFragments || fragmentOffset != 0)
        {
            packet.FragmentIdentification = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
            packet.FragmentOffset = fragmentOffset;
            packet.MoreFragments = moreFragments;
            return PacketDecodeStatus.IpFragment;
        }

        return PacketDecodeStatus.Ok;
    }

    /// <summary>
    /// IPv6 (RFC 8200 3 and 4): a 40-byte header, then extension headers chained by Next Header. Hop-by-hop,
    /// routing and destination options give their length in 8-byte units not counting the first 8 (RFC 8200 4.3);
    /// AH in 4-byte units not counting the first 2 (RFC 4302 2.2). A Fragment header (RFC 8200 4.5) with offset 0
    /// and M clear is an atomic fragment (RFC 6946) and is read through.
    /// </summary>
    private static PacketDecodeStatus DecodeIpv6(ReadOnlySpan<byte> ip, ref Builder packet)
    {
        if (ip.Length < Ipv6HeaderSize)
        {
            return PacketDecodeStatus.TruncatedIp;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);

        // Payload Length 0 means a jumbogram (RFC 2675) or offload; as for IPv4, use what was captured.
        if (payloadLength == 0)
        {
            payloadLength = ip.Length - Ipv6HeaderSize;
        }

        if (payloadLength > ip.Length - Ipv6HeaderSize)
        {
            if (!packet.CaptureCut && CompleteUdpBeyondIpLength(ip, Ipv6HeaderSize, ip[6]))
            {
                // As for IPv4: a payload length longer than the frame around a whole UDP datagram is a wrong field.
                payloadLength = ip.Length - Ipv6HeaderSize;
            }
            else
            {
                if (!packet.CaptureCut)
                {
                    return PacketDecodeStatus.TruncatedIp;
                }

                // Cut by the snap length, as for IPv4.
                payloadLength = ip.Length - Ipv6HeaderSize;
                packet.Snapped = true;
            }
        }

        packet.IpVersion = 6;
        packet.SourceAddress = ip.Slice(8, 16);
        packet.DestinationAddress = ip.Slice(24, 16);
        byte nextHeader = ip[6];
        var rest = ip.Slice(Ipv6HeaderSize, payloadLength);

        for (int count = 0; ; count++)
        {
            int extensionLength;
            switch (nextHeader)
            {
                case ProtocolHopByHop:
                case ProtocolRouting:
                case ProtocolDestinationOptions:
                    if (rest.Length < 8)
                    {
                        return PacketDecodeStatus.TruncatedIp;
                    }

                    extensionLength = (rest[1] + 1) * 8;
                    break;

                case ProtocolAuthentication:
                    if (rest.Length < 8)
                    {
                        return PacketDecodeStatus.TruncatedIp;
                    }

                    extensionLength = (rest[1] + 2) * 4;
                    break;

                case ProtocolFragment:
                    // Next Header (1), reserved (1), offset (13 bits) res (2) M (1), Identification (4).
                    if (rest.Length < 8)
                    {
                        return PacketDecodeStatus.TruncatedIp;
                    }

                    extensionLength = 8;
                    ushort offsetAndFlags = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
                    int fragmentOffset = (offsetAndFlags >> 3) * 8;
                    bool moreFragments = (offsetAndFlags & 1) != 0;
                    if (fragmentOffset != 0 || moreFragments)
                    {
                        packet.IpProtocol = rest[0];
                        packet.IpPayload = rest[extensionLength..];
                        packet.FragmentIdentification = BinaryPrimitives.ReadUInt32BigEndian(rest[4..]);
                        packet.FragmentOffset = fragmentOffset;
                        packet.MoreFragments = moreFragments;
                        return PacketDecodeStatus.IpFragment;
                    }

                    break;

                default:
                    // An upper-layer protocol, or No Next Header (59): the walk ends here.
                    packet.IpProtocol = nextHeader;
                    packet.IpPayload = nextHeader == ProtocolNoNextHeader ? default : rest;
                    return PacketDecodeStatus.Ok;
            }

            if (count == MaxExtensionHeaders)
            {
                return PacketDecodeStatus.TooManyExtensionHeaders;
            }

            if (extensionLength > rest.Length)
            {
                return PacketDecodeStatus.TruncatedIp;
            }

            nextHeader = rest[0];
            rest = rest[extensionLength..];
        }
    }

    /// <summary>
    /// Whether the UDP datagram right after an IP header of <paramref name="headerLength"/> bytes is whole in
    /// <paramref name="ip"/> (its Length, at least 8, within the bytes there), though the IP length says more.
    /// </summary>
    private static bool CompleteUdpBeyondIpLength(ReadOnlySpan<byte> ip, int headerLength, byte protocol)
    {
        if (protocol != ProtocolUdp || ip.Length - headerLength < UdpHeaderSize)
        {
            return false;
        }

        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(ip[(headerLength + 4)..]);
        return udpLength >= UdpHeaderSize && udpLength <= ip.Length - headerLength;
    }

    /// <summary>UDP (RFC 768): ports, Length (header included, at least 8), checksum.</summary>
    private static PacketDecodeStatus DecodeUdp(ref Builder packet)
    {
        var segment = packet.IpPayload;
        if (segment.Length < UdpHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTransport;
        }

        packet.Transport = TransportProtocol.Udp;
        packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
        if (length < UdpHeaderSize)
        {
            return PacketDecodeStatus.BadTransportHeader;
        }

        if (length > segment.Length)
        {
            if (!packet.CaptureCut)
            {
                return PacketDecodeStatus.TruncatedTransport;
            }

            // Cut by the snap length, as for IPv4.
            length = segment.Length;
            packet.Snapped = true;
        }

        packet.Payload = segment[UdpHeaderSize..length];
        return PacketDecodeStatus.Ok;
    }

    /// <summary>
    /// TCP (RFC 9293 3.1): ports, sequence number, Data Offset (header length in 32-bit words, at least 5) in the
    /// high nibble of byte 12, flags in byte 13.
    /// </summary>
    private static PacketDecodeStatus DecodeTcp(ref Builder packet)
    {
        var segment = packet.IpPayload;
        if (segment.Length < TcpMinimumHeaderSize)
        {
            return PacketDecodeStatus.TruncatedTransport;
        }

        packet.Transport = TransportProtocol.Tcp;
        packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        packet.TcpSequence = BinaryPrimitives.ReadUInt32BigEndian(segment[4..]);
        packet.TcpFlags = segment[13];
        int headerLength = (segment[12] >> 4) * 4;
        if (headerLength < TcpMinimumHeaderSize)
        {
            return PacketDecodeStatus.BadTransportHeader;
        }

        if (headerLength > segment.Length)
        {
            return PacketDecodeStatus.TruncatedTransport;
        }

        packet.Payload = segment[headerLength..];
        return PacketDecodeStatus.Ok;
    }

    /// <summary>The mutable twin of <see cref="DecodedPacket"/>, filled in as decoding goes.</summary>
    internal ref struct Builder
    {
        public byte IpVersion;
        public ReadOnlySpan<byte> SourceAddress;
        public ReadOnlySpan<byte> DestinationAddress;
        public byte IpProtocol;
        public ReadOnlySpan<byte> IpPayload;
        public int IpHeaderCount;
        public ushort SourcePort;
        public ushort DestinationPort;
        public TransportProtocol Transport;
        public ReadOnlySpan<byte> Payload;
        public byte TcpFlags;
        public uint TcpSequence;
        public uint FragmentIdentification;
        public int FragmentOffset;
        public bool MoreFragments;
        public EncryptedTransport Encryption;
        public long ServerQueryTimeNanoseconds;

        /// <summary>Input: the frame is shorter than it was on the wire (its original length is known and larger).</summary>
        public bool CaptureCut;

        /// <summary>Output: an IP or UDP length was trimmed to the captured bytes because of <see cref="CaptureCut"/>.</summary>
        public bool Snapped;
    }
}
