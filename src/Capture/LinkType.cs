namespace RataDns.Capture;

/// <summary>
/// The link-layer header type of a captured frame: the LINKTYPE_ value of the pcap file header or of a pcapng
/// Interface Description Block (https://www.tcpdump.org/linktypes.html). Values not named here are still carried
/// as numbers (a cast), and the packet decoder reports them as unsupported.
/// </summary>
public enum LinkType : ushort
{
    /// <summary>BSD loopback: a 4-byte address family in the capturing host's byte order.</summary>
    Null = 0,

    /// <summary>IEEE 802.3 Ethernet (with optional 802.1Q / 802.1ad tags).</summary>
    Ethernet = 1,

    /// <summary>PPP (RFC 1661): optional address and control (ff 03), then a 1- or 2-byte protocol.</summary>
    Ppp = 9,

    /// <summary>PPP in HDLC-like framing (RFC 1662): address ff, control 03, protocol.</summary>
    PppHdlc = 50,

    /// <summary>Cisco HDLC: address, control, then an EtherType.</summary>
    CiscoHdlc = 104,

    /// <summary>IEEE 802.11 frames without a radio header.</summary>
    Ieee80211 = 105,

    /// <summary>IEEE 802.11 behind a radiotap header (its length in the header, little-endian).</summary>
    Radiotap = 127,

    /// <summary>DLT_USER2: Apple's tools write PKTAP frames with it.</summary>
    User2 = 149,

    /// <summary>Per-Packet Information: a header naming the link type of the frame behind it.</summary>
    Ppi = 192,

    /// <summary>Linux netfilter NFLOG: a 4-byte header and type-length-value attributes, one of which is the IP packet.</summary>
    Nflog = 239,

    /// <summary>Apple PKTAP: a header (its length first, host byte order) naming the link type of the frame behind it.</summary>
    Pktap = 258,

    /// <summary>OpenBSD DLT_RAW (12) and BSD/OS DLT_RAW (14) are also raw IP; <see cref="PacketDecoder"/> accepts them.</summary>
    Raw = 101,

    /// <summary>OpenBSD loopback: a 4-byte address family in network byte order.</summary>
    Loop = 108,

    /// <summary>Linux "cooked" capture v1, 16-byte header.</summary>
    LinuxSll = 113,

    /// <summary>Raw IPv4, no link header.</summary>
    Ipv4 = 228,

    /// <summary>Raw IPv6, no link header.</summary>
    Ipv6 = 229,

    /// <summary>Linux "cooked" capture v2, 20-byte header.</summary>
    LinuxSll2 = 276,

    /// <summary>
    /// RataDns's own, not a tcpdump.org LINKTYPE: the frames its dnstap input builds, a
    /// <see cref="Dnstap.DnstapPacketHeader"/> (what dnstap knows that a packet cannot say: the encrypted transport,
    /// the server's query time) followed by a raw IP packet. They never leave the process.
    /// </summary>
    Dnstap = 65520,
}

/// <summary>Link types as tcpdump.org's list names them, for messages: "7 (ARCNET_BSD)".</summary>
public static class LinkTypeNames
{
    private static readonly Dictionary<ushort, string> Names = new()
    {
        [0] = "NULL", [1] = "ETHERNET", [3] = "AX25", [6] = "IEEE802_5", [7] = "ARCNET_BSD", [8] = "SLIP", [9] = "PPP",
        [10] = "FDDI", [50] = "PPP_HDLC", [51] = "PPP_ETHER", [100] = "ATM_RFC1483", [101] = "RAW", [104] = "C_HDLC",
        [105] = "IEEE802_11", [107] = "FRELAY", [108] = "LOOP", [113] = "LINUX_SLL", [114] = "LTALK", [117] = "PFLOG",
        [119] = "IEEE802_11_PRISM", [122] = "IP_OVER_FC", [123] = "SUNATM", [127] = "IEEE802_11_RADIOTAP",
        [129] = "ARCNET_LINUX", [138] = "APPLE_IP_OVER_IEEE1394", [139] = "MTP2_WITH_PHDR", [140] = "MTP2", [141] = "MTP3",
        [142] = "SCCP", [143] = "DOCSIS", [144] = "LINUX_IRDA", [147] = "USER0", [148] = "USER1", [149] = "USER2",
        [150] = "USER3", [163] = "IEEE802_11_AVS", [165] = "BACNET_MS_TP", [166] = "PPP_PPPD", [169] = "GPRS_LLC",
        [177] = "LINUX_LAPD", [187] = "BLUETOOTH_HCI_H4", [189] = "USB_LINUX", [192] = "PPI", [195] = "IEEE802_15_4_WITHFCS",
        [201] = "BLUETOOTH_HCI_H4_WITH_PHDR", [220] = "USB_LINUX_MMAPPED", [228] = "IPV4", [229] = "IPV6", [239] = "NFLOG",
        [240] = "NETANALYZER", [241] = "NETANALYZER_TRANSPARENT", [249] = "USBPCAP", [253] = "NETLINK", [258] = "PKTAP",
        [276] = "LINUX_SLL2", [65520] = "RATADNS_DNSTAP",
    };

    /// <summary>"NUMBER (NAME)", or "NUMBER" for a number the list does not name here.</summary>
    public static string Describe(LinkType linkType) =>
        Names.TryGetValue((ushort)linkType, out string? name) ? $"{(ushort)linkType} ({name})" : $"{(ushort)linkType}";
}

/// <summary>The container format of a capture, detected from its first four bytes.</summary>
public enum CaptureFileFormat : byte
{
    /// <summary>libpcap format (magic a1b2c3d4 for microseconds or a1b23c4d for nanoseconds, either byte order).</summary>
    Pcap,

    /// <summary>pcapng (a Section Header Block, block type 0a0d0d0a).</summary>
    PcapNg,
}
