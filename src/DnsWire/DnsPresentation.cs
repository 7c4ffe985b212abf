using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>
/// Writes RDATA in presentation format (RFC 1035 5.1 and each type's RFC), as dig and zone files show it, into a
/// caller's UTF-8 buffer. RDATA that does not fit its type, and types without a typed reader, are written in the
/// generic form of RFC 3597 5 (<c>\# length hex</c>), which loses nothing.
/// </summary>
public static class DnsPresentation
{
    /// <summary>
    /// Upper bound of the presentation length of any RDATA: 65535 bytes shown as \DDD (4 chars each) plus quotes
    /// and separators stays below this.
    /// </summary>
    public const int MaxRdataLength = (4 * 65535) + 1024;

    /// <summary>Writes the RDATA of <paramref name="record"/>; false when the destination is too small.</summary>
    public static bool TryFormatRdata(scoped in DnsRecord record, Span<byte> utf8Destination, out int bytesWritten)
    {
        var writer = new Utf8SpanWriter(utf8Destination);
        if (record.RdataStatus != DnsParseStatus.Ok || !TryWriteTyped(ref writer, record))
        {
            writer = new Utf8SpanWriter(utf8Destination);
            WriteGeneric(ref writer, record.Rdata);
        }

        bytesWritten = writer.Position;
        return !writer.Overflowed;
    }

    /// <summary>Writes an IPv4 (4 bytes) or IPv6 (16 bytes) address; IPv6 per RFC 5952 4.</summary>
    public static bool TryFormatAddress(ReadOnlySpan<byte> address, Span<byte> utf8Destination, out int bytesWritten)
    {
        var writer = new Utf8SpanWriter(utf8Destination);
        WriteAddress(ref writer, address);
        bytesWritten = writer.Position;
        return !writer.Overflowed && address.Length is 4 or 16;
    }

    internal static void WriteAddress(ref Utf8SpanWriter writer, scoped ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            WriteIPv4(ref writer, address);
        }
        else if (address.Length == 16)
        {
            WriteIPv6(ref writer, address);
        }
    }

    private static bool TryWriteTyped(ref Utf8SpanWriter writer, in DnsRecord record)
    {
        switch (record.Type)
        {
            case DnsRecordType.A:
            case DnsRecordType.AAAA:
                if (!DnsRdata.TryReadAddress(record, out var address))
                {
                    return false;
                }

                WriteAddress(ref writer, address);
                return true;

            case DnsRecordType.NS:
            case DnsRecordType.CNAME:
            case DnsRecordType.DNAME:
            case DnsRecordType.PTR:
            case DnsRecordType.MB:
            case DnsRecordType.MG:
            case DnsRecordType.MR:
                if (!DnsRdata.TryReadTargetName(record, out var target))
                {
                    return false;
                }

                target.WriteTo(ref writer);
                return true;

            case DnsRecordType.MX:
                if (!DnsRdata.TryReadMx(record, out var mx))
                {
                    return false;
                }

                writer.WriteDecimal(mx.Preference);
                writer.Write((byte)' ');
                mx.Exchange.WriteTo(ref writer);
                return true;

            case DnsRecordType.SOA:
                if (!DnsRdata.TryReadSoa(record, out var soa))
                {
                    return false;
                }

                soa.PrimaryNameServer.WriteTo(ref writer);
                writer.Write((byte)' ');
                soa.ResponsibleMailbox.WriteTo(ref writer);
                WriteSpaceDecimal(ref writer, soa.Serial);
                WriteSpaceDecimal(ref writer, soa.Refresh);
                WriteSpaceDecimal(ref writer, soa.Retry);
                WriteSpaceDecimal(ref writer, soa.Expire);
                WriteSpaceDecimal(ref writer, soa.Minimum);
                return true;

            case DnsRecordType.TXT:
            case DnsRecordType.SPF:
            {
                bool first = true;
                foreach (var text in DnsRdata.EnumerateTxt(record))
                {
                    if (!first)
                    {
                        writer.Write((byte)' ');
                    }

                    PresentationText.WriteQuoted(ref writer, text);
                    first = false;
                }

                return !first;
            }

            case DnsRecordType.SRV:
                if (!DnsRdata.TryReadSrv(record, out var srv))
                {
                    return false;
                }

                writer.WriteDecimal(srv.Priority);
                WriteSpaceDecimal(ref writer, srv.Weight);
                WriteSpaceDecimal(ref writer, srv.Port);
                writer.Write((byte)' ');
                srv.Target.WriteTo(ref writer);
                return true;

            case DnsRecordType.NAPTR:
                if (!DnsRdata.TryReadNaptr(record, out var naptr))
                {
                    return false;
                }

                writer.WriteDecimal(naptr.Order);
                WriteSpaceDecimal(ref writer, naptr.Preference);
                writer.Write((byte)' ');
                PresentationText.WriteQuoted(ref writer, naptr.Flags);
                writer.Write((byte)' ');
                PresentationText.WriteQuoted(ref writer, naptr.Services);
                writer.Write((byte)' ');
                PresentationText.WriteQuoted(ref writer, naptr.Regexp);
                writer.Write((byte)' ');
                naptr.Replacement.WriteTo(ref writer);
                return true;

            case DnsRecordType.DS:
            case DnsRecordType.CDS:
                if (!DnsRdata.TryReadDs(record, out var ds))
                {
                    return false;
                }

                writer.WriteDecimal(ds.KeyTag);
                WriteSpaceDecimal(ref writer, ds.Algorithm);
                WriteSpaceDecimal(ref writer, ds.DigestType);
                writer.Write((byte)' ');
                writer.WriteHex(ds.Digest);
                return true;

            case DnsRecordType.DNSKEY:
            case DnsRecordType.CDNSKEY:
                if (!DnsRdata.TryReadDnskey(record, out var key))
                {
                    return false;
                }

                writer.WriteDecimal(key.Flags);
                WriteSpaceDecimal(ref writer, key.Protocol);
                WriteSpaceDecimal(ref writer, key.Algorithm);
                writer.Write((byte)' ');
                writer.WriteBase64(key.PublicKey);
                return true;

            case DnsRecordType.RRSIG:
                if (!DnsRdata.TryReadRrsig(record, out var sig))
                {
                    return false;
                }

                DnsRecordType.WriteTo(ref writer, sig.TypeCovered);
                WriteSpaceDecimal(ref writer, sig.Algorithm);
                WriteSpaceDecimal(ref writer, sig.Labels);
                WriteSpaceDecimal(ref writer, sig.OriginalTtl);
                writer.Write((byte)' ');
                WriteSignatureTime(ref writer, sig.Expiration);
                writer.Write((byte)' ');
                WriteSignatureTime(ref writer, sig.Inception);
                WriteSpaceDecimal(ref writer, sig.KeyTag);
                writer.Write((byte)' ');
                sig.SignerName.WriteTo(ref writer);
                writer.Write((byte)' ');
                writer.WriteBase64(sig.Signature);
                return true;

            case DnsRecordType.NSEC:
                if (!DnsRdata.TryReadNsec(record, out var nsec))
                {
                    return false;
                }

                nsec.NextDomainName.WriteTo(ref writer);
                WriteTypes(ref writer, nsec.EnumerateTypes());
                return true;

            case DnsRecordType.NSEC3:
                if (!DnsRdata.TryReadNsec3(record, out var nsec3))
                {
                    return false;
                }

                writer.WriteDecimal(nsec3.HashAlgorithm);
                WriteSpaceDecimal(ref writer, nsec3.Flags);
                WriteSpaceDecimal(ref writer, nsec3.Iterations);
                writer.Write((byte)' ');
                if (nsec3.Salt.IsEmpty)
                {
                    writer.Write((byte)'-');
                }
                else
                {
                    writer.WriteHex(nsec3.Salt);
                }

                writer.Write((byte)' ');
                writer.WriteBase32Hex(nsec3.NextHashedOwner);
                WriteTypes(ref writer, nsec3.EnumerateTypes());
                return true;

            case DnsRecordType.CAA:
                if (!DnsRdata.TryReadCaa(record, out var caa))
                {
                    return false;
                }

                writer.WriteDecimal(caa.Flags);
                writer.Write((byte)' ');
                writer.Write(caa.Tag);
                writer.Write((byte)' ');
                PresentationText.WriteQuoted(ref writer, caa.Value);
                return true;

            case DnsRecordType.SVCB:
            case DnsRecordType.HTTPS:
                if (!DnsRdata.TryReadSvcb(record, out var svcb))
                {
                    return false;
                }

                writer.WriteDecimal(svcb.Priority);
                writer.Write((byte)' ');
                svcb.Target.WriteTo(ref writer);
                foreach (var parameter in svcb.EnumerateParameters())
                {
                    writer.Write((byte)' ');
                    SvcParamText.Write(ref writer, parameter);
                }

                return true;

            case DnsRecordType.OPT:
                if (!EdnsRecord.TryRead(record, out var edns))
                {
                    return false;
                }

                EdnsText.Write(ref writer, edns);
                return true;

            default:
                return false;
        }
    }

    /// <summary>RFC 3597 5: <c>\# length hex</c>; <c>\# 0</c> for empty RDATA.</summary>
    private static void WriteGeneric(ref Utf8SpanWriter writer, ReadOnlySpan<byte> rdata)
    {
        writer.Write("\\# "u8);
        writer.WriteDecimal((ulong)rdata.Length);
        if (!rdata.IsEmpty)
        {
            writer.Write((byte)' ');
            writer.WriteHex(rdata);
        }
    }

    private static void WriteSpaceDecimal(ref Utf8SpanWriter writer, ulong value)
    {
        writer.Write((byte)' ');
        writer.WriteDecimal(value);
    }

    private static void WriteTypes(ref Utf8SpanWriter writer, TypeBitmapEnumerator types)
    {
        foreach (ushort type in types)
        {
            writer.Write((byte)' ');
            DnsRecordType.WriteTo(ref writer, type);
        }
    }

    /// <summary>YYYYMMDDHHmmSS in UTC (RFC 4034 3.2), reading the 32-bit value as seconds since 1970.</summary>
    private static void WriteSignatureTime(ref Utf8SpanWriter writer, uint seconds)
    {
        var t = DateTime.UnixEpoch.AddSeconds(seconds);
        WriteDigits(ref writer, t.Year, 4);
        WriteDigits(ref writer, t.Month, 2);
        WriteDigits(ref writer, t.Day, 2);
        WriteDigits(ref writer, t.Hour, 2);
        WriteDigits(ref writer, t.Minute, 2);
        WriteDigits(ref writer, t.Second, 2);
    }

    private static void WriteDigits(ref Utf8SpanWriter writer, int value, int width)
    {
        Span<byte> digits = stackalloc byte[width];
        for (int i = width - 1; i >= 0; i--)
        {
            digits[i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        writer.Write(digits);
    }

    private static void WriteIPv4(ref Utf8SpanWriter writer, scoped ReadOnlySpan<byte> a)
    {
        writer.WriteDecimal(a[0]);
        writer.Write((byte)'.');
        writer.WriteDecimal(a[1]);
        writer.Write((byte)'.');
        writer.WriteDecimal(a[2]);
        writer.Write((byte)'.');
        writer.WriteDecimal(a[3]);
    }

    /// <summary>
    /// RFC 5952 4: lowercase hex, no leading zeros, the longest run of two or more zero groups (the first one on
    /// a tie) as "::", and the IPv4-mapped prefix ::ffff:0:0/96 shown with a dotted quad (RFC 5952 5).
    /// </summary>
    private static void WriteIPv6(ref Utf8SpanWriter writer, scoped ReadOnlySpan<byte> a)
    {
        Span<ushort> groups = stackalloc ushort[8];
        for (int i = 0; i < 8; i++)
        {
            groups[i] = BinaryPrimitives.ReadUInt16BigEndian(a[(2 * i)..]);
        }

        bool mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 && groups[4] == 0 && groups[5] == 0xFFFF;
        int groupCount = mapped ? 6 : 8;

        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < groupCount;)
        {
            if (groups[i] != 0)
            {
                i++;
                continue;
            }

            int j = i;
            while (j < groupCount && groups[j] == 0)
            {
                j++;
            }

            if (j - i > bestLength)
            {
                bestStart = i;
                bestLength = j - i;
            }

            i = j;
        }

        for (int i = 0; i < groupCount; i++)
        {
            if (i == bestStart)
            {
                writer.Write("::"u8);
                i += bestLength - 1;
                continue;
            }

            if (i > 0 && i != bestStart + bestLength)
            {
                writer.Write((byte)':');
            }

            WriteHexGroup(ref writer, groups[i]);
        }

        if (mapped)
        {
            if (bestStart + bestLength != groupCount)
            {
                writer.Write((byte)':');
            }

            WriteIPv4(ref writer, a[12..]);
        }
    }

    private static void WriteHexGroup(ref Utf8SpanWriter writer, ushort value)
    {
        ReadOnlySpan<byte> digits = "0123456789abcdef"u8;
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4)
        {
            int nibble = (value >> shift) & 0xF;
            if (nibble != 0 || started || shift == 0)
            {
                writer.Write(digits[nibble]);
                started = true;
            }
        }
    }
}
