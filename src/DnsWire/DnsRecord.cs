namespace RataDns.DnsWire;

/// <summary>
/// One resource record (RFC 1035 4.1.3) as a view into its message: owner name, type, class, TTL and RDATA.
/// Typed RDATA is read through <see cref="DnsRdata"/>; names inside RDATA may point anywhere earlier in the message,
/// which is why the record keeps the whole message and the RDATA offset.
/// </summary>
public readonly ref struct DnsRecord
{
    internal DnsRecord(ReadOnlySpan<byte> message, DnsSection section, DnsName name, ushort type, ushort @class, uint ttl, int rdataOffset, int rdataLength, DnsParseStatus rdataStatus)
    {
        Message = message;
        Section = section;
        Name = name;
        Type = type;
        Class = @class;
        Ttl = ttl;
        RdataOffset = rdataOffset;
        RdataLength = rdataLength;
        RdataStatus = rdataStatus;
    }

    /// <summary>The whole message the record belongs to.</summary>
    public ReadOnlySpan<byte> Message { get; }

    public DnsSection Section { get; }

    public DnsName Name { get; }

    public ushort Type { get; }

    /// <summary>CLASS; for OPT it is the requestor's UDP payload size (RFC 6891 6.1.2).</summary>
    public ushort Class { get; }

    /// <summary>TTL; for OPT it holds the extended RCODE, the EDNS version and the flags.</summary>
    public uint Ttl { get; }

    public int RdataOffset { get; }

    public int RdataLength { get; }

    public ReadOnlySpan<byte> Rdata => Message.Slice(RdataOffset, RdataLength);

    /// <summary><see cref="DnsParseStatus.Ok"/>, or <see cref="DnsParseStatus.BadRdata"/> when the RDATA does not fit its type.</summary>
    public DnsParseStatus RdataStatus { get; }
}
