namespace RataDns.DnsWire;

/// <summary>
/// The encrypted DNS transport a message travelled over, when the source knows it: dnstap reports it (its
/// <c>socket_protocol</c>); a packet capture sees only the UDP or TCP that carries it, so captured messages are
/// <see cref="None"/>. The carrying transport (<see cref="TransportProtocol"/>) is kept beside it: UDP for DoQ and
/// DNSCrypt over UDP, TCP for DoT, DoH and DNSCrypt over TCP.
/// </summary>
public enum EncryptedTransport : byte
{
    /// <summary>Plain DNS over UDP or TCP (or unknown: a captured packet).</summary>
    None = 0,

    /// <summary>DNS over TLS (RFC 7858).</summary>
    Tls = 1,

    /// <summary>DNS over HTTPS (RFC 8484).</summary>
    Https = 2,

    /// <summary>DNS over QUIC (RFC 9250).</summary>
    Quic = 3,

    /// <summary>DNSCrypt, over UDP or TCP.</summary>
    DnsCrypt = 4,
}
