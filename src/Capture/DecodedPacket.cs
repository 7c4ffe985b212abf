using RataDns.DnsWire;

namespace RataDns.Capture;

/// <summary>
/// The IP and transport view of a frame, as spans into the frame (nothing is copied). Which members are set
/// depends on the <see cref="PacketDecodeStatus"/>: addresses from the first IP header read onwards, ports and
/// payload once a transport header was read, and the fragment members for <see cref="PacketDecodeStatus.IpFragment"/>.
/// </summary>
public readonly ref struct DecodedPacket
{
    internal DecodedPacket(scoped in PacketDecoder.Builder b)
    {
        IpVersion = b.IpVersion;
        SourceAddress = b.SourceAddress;
        DestinationAddress = b.DestinationAddress;
        IpProtocol = b.IpProtocol;
        IpPayload = b.IpPayload;
        IpHeaderCount = b.IpHeaderCount;
        SourcePort = b.SourcePort;
        DestinationPort = b.DestinationPort;
        Transport = b.Transport;
        Payload = b.Payload;
        TcpFlags = b.TcpFlags;
        TcpSequence = b.TcpSequence;
        FragmentIdentification = b.FragmentIdentification;
        FragmentOffset = b.FragmentOffset;
        MoreFragments = b.MoreFragments;
        Encryption = b.Encryption;
        ServerQueryTimeNanoseconds = b.ServerQueryTimeNanoseconds;
    }

    /// <summary>4 or 6: the version of the innermost IP header read.</summary>
    public byte IpVersion { get; }

    /// <summary>4 or 16 bytes.</summary>
    public ReadOnlySpan<byte> SourceAddress { get; }

    /// <summary>4 or 16 bytes.</summary>
    public ReadOnlySpan<byte> DestinationAddress { get; }

    /// <summary>The protocol after the innermost IP header and its extension headers (17, 6, 1, 58, ...).</summary>
    public byte IpProtocol { get; }

    /// <summary>The bytes after the innermost IP header (and extension headers), trimmed to the IP length.</summary>
    public ReadOnlySpan<byte> IpPayload { get; }

    /// <summary>How many IP headers were read: 1, or more for IP-in-IP tunnels.</summary>
    public int IpHeaderCount { get; }

    public ushort SourcePort { get; }

    public ushort DestinationPort { get; }

    public TransportProtocol Transport { get; }

    /// <summary>The UDP payload (trimmed to the UDP length, so Ethernet padding is excluded) or the TCP segment payload.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN, RFC 9293 3.1).</summary>
    public byte TcpFlags { get; }

    public uint TcpSequence { get; }

    /// <summary>The IPv4 Identification (16 bits) or IPv6 Fragment header Identification (32 bits).</summary>
    public uint FragmentIdentification { get; }

    /// <summary>The fragment's offset in bytes (the header field times 8).</summary>
    public int FragmentOffset { get; }

    /// <summary>The MF (IPv4) or M (IPv6) flag: more fragments follow.</summary>
    public bool MoreFragments { get; }

    /// <summary>The encrypted transport a dnstap frame reports (<see cref="LinkType.Dnstap"/>); none for captured frames.</summary>
    public EncryptedTransport Encryption { get; }

    /// <summary>When the server received the query a dnstap response answers (ns since the epoch); 0 when unknown.</summary>
    public long ServerQueryTimeNanoseconds { get; }
}
