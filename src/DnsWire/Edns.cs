using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>EDNS option codes (IANA "DNS EDNS0 Option Codes (OPT)").</summary>
public static class EdnsOptionCode
{
    public const ushort Nsid = 3;
    public const ushort ClientSubnet = 8;
    public const ushort Expire = 9;
    public const ushort Cookie = 10;
    public const ushort TcpKeepalive = 11;
    public const ushort Padding = 12;
    public const ushort Chain = 13;
    public const ushort KeyTag = 14;
    public const ushort ExtendedDnsError = 15;
}

/// <summary>
/// The OPT pseudo-record (RFC 6891 6.1): CLASS is the sender's UDP payload size; TTL packs the upper 8 bits of
/// the extended RCODE, the EDNS version, and 16 flag bits of which the first is DO (RFC 3225).
/// <code>
/// TTL: | EXTENDED-RCODE (8) | VERSION (8) | DO | Z (15) |
/// </code>
/// </summary>
public readonly ref struct EdnsRecord
{
    private EdnsRecord(ushort udpPayloadSize, uint ttl, ReadOnlySpan<byte> options)
    {
        UdpPayloadSize = udpPayloadSize;
        ExtendedRcodeHigh = (byte)(ttl >> 24);
        Version = (byte)(ttl >> 16);
        Flags = (ushort)ttl;
        Options = options;
    }

    public ushort UdpPayloadSize { get; }

    /// <summary>The upper 8 bits of the 12-bit RCODE, as carried in the OPT TTL.</summary>
    public byte ExtendedRcodeHigh { get; }

    public byte Version { get; }

    public ushort Flags { get; }

    public bool DnssecOk => (Flags & 0x8000) != 0;

    public ReadOnlySpan<byte> Options { get; }

    /// <summary>The full 12-bit RCODE of a message with this OPT record (RFC 6891 6.1.3).</summary>
    public ushort ExtendedRcode(in DnsHeader header) => (ushort)((ExtendedRcodeHigh << 4) | header.Rcode);

    public EdnsOptionEnumerator EnumerateOptions() => new(Options);

    /// <summary>Reads an OPT record; false when the record is not OPT or its options do not fit.</summary>
    public static bool TryRead(scoped in DnsRecord record, out EdnsRecord edns)
    {
        edns = default;
        // The reader already checked the options of every OPT record it returned with RdataStatus Ok.
        if (record.Type != DnsRecordType.OPT
            || (record.RdataStatus != DnsParseStatus.Ok && !EdnsOptionEnumerator.AreWellFormed(record.Rdata)))
        {
            return false;
        }

        edns = new EdnsRecord(record.Class, record.Ttl, record.Rdata);
        return true;
    }
}

/// <summary>One EDNS option: code and data.</summary>
public readonly ref struct EdnsOption(ushort code, ReadOnlySpan<byte> data)
{
    public ushort Code { get; } = code;
    public ReadOnlySpan<byte> Data { get; } = data;

    /// <summary>
    /// EDNS Client Subnet (RFC 7871 6): family (1 IPv4, 2 IPv6), source and scope prefix lengths, and the address
    /// truncated to the source prefix (at most 4 or 16 bytes).
    /// </summary>
    public bool TryReadClientSubnet(out ushort family, out byte sourcePrefix, out byte scopePrefix, out ReadOnlySpan<byte> address)
    {
        family = 0;
        sourcePrefix = scopePrefix = 0;
        address = default;
        if (Code != EdnsOptionCode.ClientSubnet || Data.Length < 4)
        {
            return false;
        }

        family = BinaryPrimitives.ReadUInt16BigEndian(Data);
        sourcePrefix = Data[2];
        scopePrefix = Data[3];
        address = Data[4..];
        int maxBits = family switch { 1 => 32, 2 => 128, _ => -1 };
        return maxBits > 0 && sourcePrefix <= maxBits && scopePrefix <= maxBits && address.Length == (sourcePrefix + 7) / 8;
    }

    /// <summary>DNS Cookie (RFC 7873 4): an 8-byte client cookie and an optional 8..32-byte server cookie.</summary>
    public bool TryReadCookie(out ReadOnlySpan<byte> clientCookie, out ReadOnlySpan<byte> serverCookie)
    {
        clientCookie = serverCookie = default;
        if (Code != EdnsOptionCode.Cookie || !(Data.Length == 8 || (Data.Length >= 16 && Data.Length <= 40)))
        {
            return false;
        }

        clientCookie = Data[..8];
        serverCookie = Data[8..];
        return true;
    }

    /// <summary>Extended DNS Error (RFC 8914 2): INFO-CODE and optional UTF-8 EXTRA-TEXT.</summary>
    public bool TryReadExtendedError(out ushort infoCode, out ReadOnlySpan<byte> extraText)
    {
        infoCode = 0;
        extraText = default;
        if (Code != EdnsOptionCode.ExtendedDnsError || Data.Length < 2)
        {
            return false;
        }

        infoCode = BinaryPrimitives.ReadUInt16BigEndian(Data);
        extraText = Data[2..];
        return true;
    }
}

/// <summary>Walks the options in OPT RDATA: (code, length, data) triples.</summary>
public ref struct EdnsOptionEnumerator
{
    private readonly ReadOnlySpan<byte> _rdata;
    private int _position;

    internal EdnsOptionEnumerator(ReadOnlySpan<byte> rdata)
    {
        _rdata = rdata;
        _position = 0;
        Current = default;
    }

    public EdnsOption Current { get; private set; }

    public readonly EdnsOptionEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (!Tlv16.TryRead(_rdata, ref _position, out ushort code, out var data))
        {
            return false;
        }

        Current = new EdnsOption(code, data);
        return true;
    }

    /// <summary>True when the RDATA is exactly a sequence of whole options.</summary>
    public static bool AreWellFormed(ReadOnlySpan<byte> rdata) => Tlv16.AreWellFormed(rdata, increasingCodes: false);
}
