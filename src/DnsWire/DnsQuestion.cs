namespace RataDns.DnsWire;

/// <summary>One entry of the question section (RFC 1035 4.1.2).</summary>
public readonly ref struct DnsQuestion
{
    public DnsQuestion(DnsName name, ushort type, ushort @class)
    {
        Name = name;
        Type = type;
        Class = @class;
    }

    public DnsName Name { get; }

    /// <summary>QTYPE; see <see cref="DnsRecordType"/> for the known values.</summary>
    public ushort Type { get; }

    /// <summary>QCLASS. In mDNS (RFC 6762 5.4) the top bit asks for a unicast response.</summary>
    public ushort Class { get; }
}
