using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>
/// Typed RDATA readers. Each checks the record's type and the RDATA against that type's layout before handing out
/// any field, and returns false (never throws) when either does not fit. Names inside RDATA may use compression pointers into the
/// message, but their own bytes must lie within the RDATA.
/// </summary>
public static partial class DnsRdata
{
    /// <summary>Checks that RDATA of a known type is well formed. Unknown types are opaque and always valid.</summary>
    public static DnsParseStatus Validate(ReadOnlySpan<byte> message, ushort type, int offset, int length)
    {
        bool ok = type switch
        {
            DnsRecordType.A => length == 4,
            DnsRecordType.AAAA => length == 16,
            DnsRecordType.NS or DnsRecordType.CNAME or DnsRecordType.DNAME or DnsRecordType.PTR
                or DnsRecordType.MB or DnsRecordType.MG or DnsRecordType.MR
                => TryReadNameField(message, offset, offset + length, out _, out int end) && end == offset + length,
            DnsRecordType.MX => TryReadMx(message, offset, length, out _),
            DnsRecordType.SOA => TryReadSoa(message, offset, length, out _),
            DnsRecordType.TXT or DnsRecordType.SPF => CharacterStrings.AreWellFormed(message.Slice(offset, length), allowEmpty: false),
            DnsRecordType.SRV => TryReadSrv(message, offset, length, out _),
            DnsRecordType.NAPTR => TryReadNaptr(message, offset, length, out _),
            DnsRecordType.DS or DnsRecordType.CDS => TryReadDs(message.Slice(offset, length), out _),
            DnsRecordType.DNSKEY or DnsRecordType.CDNSKEY => TryReadDnskey(message.Slice(offset, length), out _),
            DnsRecordType.RRSIG => TryReadRrsig(message, offset, length, out _),
            DnsRecordType.NSEC => TryReadNsec(message, offset, length, out _),
            DnsRecordType.NSEC3 => TryReadNsec3(message.Slice(offset, length), out _),
            DnsRecordType.CAA => TryReadCaa(message.Slice(offset, length), out _),
            DnsRecordType.SVCB or DnsRecordType.HTTPS => TryReadSvcb(message, offset, length, out _),
            DnsRecordType.OPT => EdnsOptionEnumerator.AreWellFormed(message.Slice(offset, length)),
            _ => true,
        };
        return ok ? DnsParseStatus.Ok : DnsParseStatus.BadRdata;
    }

    /// <summary>The 4 address bytes of an A record, or the 16 of an AAAA record.</summary>
    public static bool TryReadAddress(scoped in DnsRecord record, out ReadOnlySpan<byte> address)
    {
        bool ok = (record.Type == DnsRecordType.A && record.RdataLength == 4)
            || (record.Type == DnsRecordType.AAAA && record.RdataLength == 16);
        address = ok ? record.Rdata : default;
        return ok;
    }

    /// <summary>The target of a record whose RDATA is a single name: NS, CNAME, DNAME, PTR (and MB, MG, MR).</summary>
    public static bool TryReadTargetName(scoped in DnsRecord record, out DnsName target)
    {
        int end = record.RdataOffset + record.RdataLength;
        bool nameType = record.Type is DnsRecordType.NS or DnsRecordType.CNAME or DnsRecordType.DNAME or DnsRecordType.PTR
            or DnsRecordType.MB or DnsRecordType.MG or DnsRecordType.MR;
        if (nameType && TryReadNameField(record.Message, record.RdataOffset, end, out target, out int after) && after == end)
        {
            return true;
        }

        target = default;
        return false;
    }

    public static bool TryReadMx(scoped in DnsRecord record, out MxRdata mx)
    {
        mx = default;
        return record.Type == DnsRecordType.MX && TryReadMx(record.Message, record.RdataOffset, record.RdataLength, out mx);
    }

    public static bool TryReadSoa(scoped in DnsRecord record, out SoaRdata soa)
    {
        soa = default;
        return record.Type == DnsRecordType.SOA && TryReadSoa(record.Message, record.RdataOffset, record.RdataLength, out soa);
    }

    public static bool TryReadSrv(scoped in DnsRecord record, out SrvRdata srv)
    {
        srv = default;
        return record.Type == DnsRecordType.SRV && TryReadSrv(record.Message, record.RdataOffset, record.RdataLength, out srv);
    }

    public static bool TryReadNaptr(scoped in DnsRecord record, out NaptrRdata naptr)
    {
        naptr = default;
        return record.Type == DnsRecordType.NAPTR && TryReadNaptr(record.Message, record.RdataOffset, record.RdataLength, out naptr);
    }

    public static bool TryReadDs(scoped in DnsRecord record, out DsRdata ds)
    {
        ds = default;
        return record.Type is DnsRecordType.DS or DnsRecordType.CDS && TryReadDs(record.Rdata, out ds);
    }

    public static bool TryReadDnskey(scoped in DnsRecord record, out DnskeyRdata key)
    {
        key = default;
        return record.Type is DnsRecordType.DNSKEY or DnsRecordType.CDNSKEY && TryReadDnskey(record.Rdata, out key);
    }

    public static bool TryReadRrsig(scoped in DnsRecord record, out RrsigRdata sig)
    {
        sig = default;
        return record.Type == DnsRecordType.RRSIG && TryReadRrsig(record.Message, record.RdataOffset, record.RdataLength, out sig);
    }

    public static bool TryReadNsec(scoped in DnsRecord record, out NsecRdata nsec)
    {
        nsec = default;
        return record.Type == DnsRecordType.NSEC && TryReadNsec(record.Message, record.RdataOffset, record.RdataLength, out nsec);
    }

    public static bool TryReadNsec3(scoped in DnsRecord record, out Nsec3Rdata nsec3)
    {
        nsec3 = default;
        return record.Type == DnsRecordType.NSEC3 && TryReadNsec3(record.Rdata, out nsec3);
    }

    public static bool TryReadCaa(scoped in DnsRecord record, out CaaRdata caa)
    {
        caa = default;
        return record.Type == DnsRecordType.CAA && TryReadCaa(record.Rdata, out caa);
    }

    public static bool TryReadSvcb(scoped in DnsRecord record, out SvcbRdata svcb)
    {
        svcb = default;
        return record.Type is DnsRecordType.SVCB or DnsRecordType.HTTPS && TryReadSvcb(record.Message, record.RdataOffset, record.RdataLength, out svcb);
    }

    /// <summary>The character-strings of a TXT (or SPF) record.</summary>
    public static CharacterStringEnumerator EnumerateTxt(scoped in DnsRecord record) =>
        new(record.Type is DnsRecordType.TXT or DnsRecordType.SPF ? record.Rdata : default);

    /// <summary>
    /// Reads a name starting at <paramref name="offset"/> whose own bytes must end by <paramref name="limit"/>
    /// (pointers may lead anywhere earlier in the message).
    /// </summary>
    internal static bool TryReadNameField(ReadOnlySpan<byte> message, int offset, int limit, out DnsName name, out int end)
    {
        end = offset;
        if (offset >= limit || DnsName.TryRead(message[..limit], offset, out name) != DnsParseStatus.Ok)
        {
            // Reading within message[..limit] would wrongly reject pointers into bytes before the limit only if
            // they pointed forward, which is invalid anyway; any label run past the RDATA is caught here.
            name = default;
            return false;
        }

        end = offset + name.EncodedLength;
        return true;
    }

    private static bool TryReadMx(ReadOnlySpan<byte> message, int offset, int length, out MxRdata mx)
    {
        mx = default;
        int end = offset + length;
        if (length < 3 || !TryReadNameField(message, offset + 2, end, out var exchange, out int after) || after != end)
        {
            return false;
        }

        mx = new MxRdata(BinaryPrimitives.ReadUInt16BigEndian(message[offset..]), exchange);
        return true;
    }

    private static bool TryReadSoa(ReadOnlySpan<byte> message, int offset, int length, out SoaRdata soa)
    {
        soa = default;
        int end = offset + length;
        if (!TryReadNameField(message, offset, end, out var mname, out int p)
            || !TryReadNameField(message, p, end, out var rname, out p)
            || end - p != 20)
        {
            return false;
        }

        var f = message.Slice(p, 20);
        soa = new SoaRdata(
            mname,
            rname,
            BinaryPrimitives.ReadUInt32BigEndian(f),
            BinaryPrimitives.ReadUInt32BigEndian(f[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(f[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(f[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(f[16..]));
        return true;
    }

    private static bool TryReadSrv(ReadOnlySpan<byte> message, int offset, int length, out SrvRdata srv)
    {
        srv = default;
        int end = offset + length;
        if (length < 7 || !TryReadNameField(message, offset + 6, end, out var target, out int after) || after != end)
        {
            return false;
        }

        var f = message[offset..];
        srv = new SrvRdata(
            BinaryPrimitives.ReadUInt16BigEndian(f),
            BinaryPrimitives.ReadUInt16BigEndian(f[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(f[4..]),
            target);
        return true;
    }

    private static bool TryReadNaptr(ReadOnlySpan<byte> message, int offset, int length, out NaptrRdata naptr)
    {
        naptr = default;
        int end = offset + length;
        if (length < 4 + 3 + 1)
        {
            return false;
        }

        int p = offset + 4;
        if (!CharacterStrings.TryRead(message[..end], ref p, out var flags)
            || !CharacterStrings.TryRead(message[..end], ref p, out var services)
            || !CharacterStrings.TryRead(message[..end], ref p, out var regexp)
            || !TryReadNameField(message, p, end, out var replacement, out int after)
            || after != end)
        {
            return false;
        }

        naptr = new NaptrRdata(
            BinaryPrimitives.ReadUInt16BigEndian(message[offset..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]),
            flags,
            services,
            regexp,
            replacement);
        return true;
    }

    private static bool TryReadDs(ReadOnlySpan<byte> rdata, out DsRdata ds)
    {
        ds = default;
        if (rdata.Length < 5)
        {
            return false;
        }

        ds = new DsRdata(BinaryPrimitives.ReadUInt16BigEndian(rdata), rdata[2], rdata[3], rdata[4..]);
        return true;
    }

    private static bool TryReadDnskey(ReadOnlySpan<byte> rdata, out DnskeyRdata key)
    {
        key = default;
        if (rdata.Length < 5)
        {
            return false;
        }

        key = new DnskeyRdata(BinaryPrimitives.ReadUInt16BigEndian(rdata), rdata[2], rdata[3], rdata[4..]);
        return true;
    }

    private static bool TryReadRrsig(ReadOnlySpan<byte> message, int offset, int length, out RrsigRdata sig)
    {
        sig = default;
        int end = offset + length;
        if (length < 18 + 1 || !TryReadNameField(message, offset + 18, end, out var signer, out int after))
        {
            return false;
        }

        var f = message.Slice(offset, 18);
        sig = new RrsigRdata(
            BinaryPrimitives.ReadUInt16BigEndian(f),
            f[2],
            f[3],
            BinaryPrimitives.ReadUInt32BigEndian(f[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(f[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(f[12..]),
            BinaryPrimitives.ReadUInt16BigEndian(f[16..]),
            signer,
            message[after..end]);
        return true;
    }

    private static bool TryReadNsec(ReadOnlySpan<byte> message, int offset, int length, out NsecRdata nsec)
    {
        nsec = default;
        int end = offset + length;
        if (!TryReadNameField(message, offset, end, out var next, out int after) || !TypeBitmapEnumerator.IsWellFormed(message[after..end]))
        {
            return false;
        }

        nsec = new NsecRdata(next, message[after..end]);
        return true;
    }

    private static bool TryReadNsec3(ReadOnlySpan<byte> rdata, out Nsec3Rdata nsec3)
    {
        nsec3 = default;
        if (rdata.Length < 5)
        {
            return false;
        }

        int saltLength = rdata[4];
        int p = 5 + saltLength;
        if (p >= rdata.Length)
        {
            return false;
        }

        int hashLength = rdata[p];
        if (hashLength == 0 || p + 1 + hashLength > rdata.Length)
        {
            return false;
        }

        var bitmaps = rdata[(p + 1 + hashLength)..];
        if (!TypeBitmapEnumerator.IsWellFormed(bitmaps))
        {
            return false;
        }

        nsec3 = new Nsec3Rdata(rdata[0], rdata[1], BinaryPrimitives.ReadUInt16BigEndian(rdata[2..]), rdata.Slice(5, saltLength), rdata.Slice(p + 1, hashLength), bitmaps);
        return true;
    }

    private static bool TryReadCaa(ReadOnlySpan<byte> rdata, out CaaRdata caa)
    {
        caa = default;
        if (rdata.Length < 2)
        {
            return false;
        }

        int tagLength = rdata[1];
        if (tagLength == 0 || 2 + tagLength > rdata.Length)
        {
            return false;
        }

        caa = new CaaRdata(rdata[0], rdata.Slice(2, tagLength), rdata[(2 + tagLength)..]);
        return true;
    }

    private static bool TryReadSvcb(ReadOnlySpan<byte> message, int offset, int length, out SvcbRdata svcb)
    {
        svcb = default;
        int end = offset + length;
        if (length < 3 || !TryReadNameField(message, offset + 2, end, out var target, out int after))
        {
            return false;
        }

        var parameters = message[after..end];
        if (!SvcParamEnumerator.AreWellFormed(parameters))
        {
            return false;
        }

        svcb = new SvcbRdata(BinaryPrimitives.ReadUInt16BigEndian(message[offset..]), target, parameters);
        return true;
    }
}
