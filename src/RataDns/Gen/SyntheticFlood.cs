namespace RataDns.App.Gen;

/// <summary>The kind of flood <see cref="SyntheticCapture.Write"/> writes instead of ordinary traffic.</summary>
public enum SyntheticFlood
{
    /// <summary>No flood: ordinary query/response pairs.</summary>
    None,

    /// <summary>
    /// A random-subdomain flood: every query asks a name never asked before under
    /// <see cref="SyntheticCapture.FloodZone"/>, every response is NXDOMAIN. Two packets per query.
    /// </summary>
    Names,

    /// <summary>
    /// A unique-client flood: every query comes from a client address never seen before in the file (about a fifth
    /// IPv6) and asks the ordinary Zipf-distributed names; each gets its ordinary response. Two packets per query.
    /// </summary>
    Clients,

    /// <summary>
    /// A TCP connection flood against port 53: every connection comes from a new client address and port and is a
    /// SYN, then one segment with the 2-byte length of a whole query but only the first half of its bytes. The
    /// message never completes: no response, no FIN. Two packets per connection.
    /// </summary>
    Tcp,

    /// <summary>
    /// An IPv4 fragment flood: every datagram is a UDP DNS response too large for one 1500-byte packet, of which only
    /// the first fragment (MF set, offset 0, 1480 bytes of IP payload) is written, each with its own (source,
    /// destination, IP id), so no datagram ever completes. One packet per datagram.
    /// </summary>
    Fragments,
}
