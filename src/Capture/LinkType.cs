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
}

/// <summary>The container format of a capture, detected from its first four bytes.</summary>
public enum CaptureFileFormat : byte
{
    /// <summary>libpcap format (magic a1b2c3d4 for microseconds or a1b23c4d for nanoseconds, either byte order).</summary>
    Pcap,

    /// <summary>pcapng (a Section Header Block, block type 0a0d0d0a).</summary>
    PcapNg,
}
