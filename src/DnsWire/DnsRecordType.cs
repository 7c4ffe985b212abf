namespace RataDns.DnsWire;

/// <summary>RR TYPE and QTYPE values (IANA "Resource Record (RR) TYPEs" registry) that RataDns names or reads.</summary>
public static class DnsRecordType
{
    public const ushort A = 1;
    public const ushort NS = 2;
    public const ushort CNAME = 5;
    public const ushort SOA = 6;
    public const ushort MB = 7;
    public const ushort MG = 8;
    public const ushort MR = 9;
    public const ushort NULL = 10;
    public const ushort WKS = 11;
    public const ushort PTR = 12;
    public const ushort HINFO = 13;
    public const ushort MINFO = 14;
    public const ushort MX = 15;
    public const ushort TXT = 16;
    public const ushort RP = 17;
    public const ushort AFSDB = 18;
    public const ushort SIG = 24;
    public const ushort KEY = 25;
    public const ushort AAAA = 28;
    public const ushort LOC = 29;
    public const ushort NXT = 30;
    public const ushort SRV = 33;
    public const ushort NAPTR = 35;
    public const ushort KX = 36;
    public const ushort CERT = 37;
    public const ushort A6 = 38;
    public const ushort DNAME = 39;
    public const ushort OPT = 41;
    public const ushort APL = 42;
    public const ushort DS = 43;
    public const ushort SSHFP = 44;
    public const ushort IPSECKEY = 45;
    public const ushort RRSIG = 46;
    public const ushort NSEC = 47;
    public const ushort DNSKEY = 48;
    public const ushort DHCID = 49;
    public const ushort NSEC3 = 50;
    public const ushort NSEC3PARAM = 51;
    public const ushort TLSA = 52;
    public const ushort SMIMEA = 53;
    public const ushort HIP = 55;
    public const ushort CDS = 59;
    public const ushort CDNSKEY = 60;
    public const ushort OPENPGPKEY = 61;
    public const ushort CSYNC = 62;
    public const ushort ZONEMD = 63;
    public const ushort SVCB = 64;
    public const ushort HTTPS = 65;
    public const ushort SPF = 99;
    public const ushort TKEY = 249;
    public const ushort TSIG = 250;
    public const ushort IXFR = 251;
    public const ushort AXFR = 252;
    public const ushort MAILB = 253;
    public const ushort ANY = 255;
    public const ushort URI = 256;
    public const ushort CAA = 257;

    /// <summary>The mnemonic of a type as UTF-8 ("A", "AAAA", ...), or empty when RataDns has none (write TYPEnnn).</summary>
    public static ReadOnlySpan<byte> Mnemonic(ushort type) => type switch
    {
        A => "A"u8,
        NS => "NS"u8,
        CNAME => "CNAME"u8,
        SOA => "SOA"u8,
        MB => "MB"u8,
        MG => "MG"u8,
        MR => "MR"u8,
        NULL => "NULL"u8,
        WKS => "WKS"u8,
        PTR => "PTR"u8,
        HINFO => "HINFO"u8,
        MINFO => "MINFO"u8,
        MX => "MX"u8,
        TXT => "TXT"u8,
        RP => "RP"u8,
        AFSDB => "AFSDB"u8,
        SIG => "SIG"u8,
        KEY => "KEY"u8,
        AAAA => "AAAA"u8,
        LOC => "LOC"u8,
        NXT => "NXT"u8,
        SRV => "SRV"u8,
        NAPTR => "NAPTR"u8,
        KX => "KX"u8,
        CERT => "CERT"u8,
        A6 => "A6"u8,
        DNAME => "DNAME"u8,
        OPT => "OPT"u8,
        APL => "APL"u8,
        DS => "DS"u8,
        SSHFP => "SSHFP"u8,
        IPSECKEY => "IPSECKEY"u8,
        RRSIG => "RRSIG"u8,
        NSEC => "NSEC"u8,
        DNSKEY => "DNSKEY"u8,
        DHCID => "DHCID"u8,
        NSEC3 => "NSEC3"u8,
        NSEC3PARAM => "NSEC3PARAM"u8,
        TLSA => "TLSA"u8,
        SMIMEA => "SMIMEA"u8,
        HIP => "HIP"u8,
        CDS => "CDS"u8,
        CDNSKEY => "CDNSKEY"u8,
        OPENPGPKEY => "OPENPGPKEY"u8,
        CSYNC => "CSYNC"u8,
        ZONEMD => "ZONEMD"u8,
        SVCB => "SVCB"u8,
        HTTPS => "HTTPS"u8,
        SPF => "SPF"u8,
        TKEY => "TKEY"u8,
        TSIG => "TSIG"u8,
        IXFR => "IXFR"u8,
        AXFR => "AXFR"u8,
        MAILB => "MAILB"u8,
        ANY => "ANY"u8,
        URI => "URI"u8,
        CAA => "CAA"u8,
        _ => default,
    };

    /// <summary>The mnemonic, or TYPEnnn (RFC 3597 5) for types without one.</summary>
    public static bool TryFormat(ushort type, Span<byte> utf8Destination, out int bytesWritten)
    {
        var writer = new Utf8SpanWriter(utf8Destination);
        WriteTo(ref writer, type);
        bytesWritten = writer.Position;
        return !writer.Overflowed;
    }

    internal static void WriteTo(ref Utf8SpanWriter writer, ushort type)
    {
        var mnemonic = Mnemonic(type);
        if (mnemonic.IsEmpty)
        {
            writer.Write("TYPE"u8);
            writer.WriteDecimal(type);
        }
        else
        {
            writer.Write(mnemonic);
        }
    }
}
