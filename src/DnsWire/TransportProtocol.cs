namespace RataDns.DnsWire;

/// <summary>The transport that carried a DNS message: its IP protocol number (IANA protocol numbers).</summary>
public enum TransportProtocol : byte
{
    Tcp = 6,
    Udp = 17,
}
