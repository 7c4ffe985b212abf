using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>SvcParams in presentation format (RFC 9460 7): <c>key=value</c>, with the value form the key defines.</summary>
internal static class SvcParamText
{
    public static void Write(ref Utf8SpanWriter writer, SvcParam parameter)
    {
        var value = parameter.Value;
        WriteKey(ref writer, parameter.Key);
        switch (parameter.Key)
        {
            case 0 when value.Length % 2 == 0: // mandatory: list of keys
                writer.Write((byte)'=');
                for (int i = 0; i < value.Length; i += 2)
                {
                    if (i > 0)
                    {
                        writer.Write((byte)',');
                    }

                    WriteKey(ref writer, BinaryPrimitives.ReadUInt16BigEndian(value[i..]));
                }

                return;

            case 1 when IsAlpnList(value): // alpn: comma-separated ids; commas and backslashes inside an id escaped
                writer.Write("=\""u8);
                for (int p = 0; p < value.Length;)
                {
                    if (p > 0)
                    {
                        writer.Write((byte)',');
                    }

                    var id = value.Slice(p + 1, value[p]);
                    foreach (byte b in id)
                    {
                        if (b is (byte)',' or (byte)'\\')
                        {
                            writer.Write("\\\\"u8);
                            writer.Write(b);
                        }
                        else if (b is (byte)'"')
                        {
                            writer.Write("\\\""u8);
                        }
                        else if (b is < 0x20 or > 0x7E)
                        {
                            PresentationText.WriteDecimalEscape(ref writer, b);
                        }
                        else
                        {
                            writer.Write(b);
                        }
                    }

                    p += 1 + value[p];
                }

                writer.Write((byte)'"');
                return;

            case 2 when value.IsEmpty: // no-default-alpn: no value
                return;

            case 3 when value.Length == 2: // port
                writer.Write((byte)'=');
                writer.WriteDecimal(BinaryPrimitives.ReadUInt16BigEndian(value));
                return;

            case 4 when value.Length > 0 && value.Length % 4 == 0: // ipv4hint
            case 6 when value.Length > 0 && value.Length % 16 == 0: // ipv6hint
                writer.Write((byte)'=');
                int size = parameter.Key == 4 ? 4 : 16;
                for (int i = 0; i < value.Length; i += size)
                {
                    if (i > 0)
                    {
                        writer.Write((byte)',');
                    }

                    DnsPresentation.WriteAddress(ref writer, value.Slice(i, size));
                }

                return;

            case 5: // ech: base64 ECHConfigList
                writer.Write((byte)'=');
                writer.WriteBase64(value);
                return;

            default:
                if (value.IsEmpty)
                {
                    return;
                }

                writer.Write((byte)'=');
                PresentationText.WriteQuoted(ref writer, value);
                return;
        }
    }

    private static void WriteKey(ref Utf8SpanWriter writer, ushort key)
    {
        var name = key switch
        {
            0 => "mandatory"u8,
            1 => "alpn"u8,
            2 => "no-default-alpn"u8,
            3 => "port"u8,
            4 => "ipv4hint"u8,
            5 => "ech"u8,
            6 => "ipv6hint"u8,
            7 => "dohpath"u8,
            8 => "ohttp"u8,
            _ => default,
        };
        if (name.IsEmpty)
        {
            writer.Write("key"u8);
            writer.WriteDecimal(key);
        }
        else
        {
            writer.Write(name);
        }
    }

    private static bool IsAlpnList(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        int p = 0;
        while (p < value.Length)
        {
            if (value[p] == 0 || p + 1 + value[p] > value.Length)
            {
                return false;
            }

            p += 1 + value[p];
        }

        return true;
    }
}

/// <summary>
/// The OPT pseudo-record as one line of <c>key=value</c> fields (OPT has no zone-file form; this is RataDns's own,
/// documented in the README): <c>udp=1232 version=0 flags=do ercode=0</c> then one field per option:
/// <c>nsid=HEX</c>, <c>ecs=ADDRESS/SOURCE/SCOPE</c>, <c>cookie=HEX</c>, <c>padding=LENGTH</c>,
/// <c>ede=CODE:"TEXT"</c>, or <c>optCODE=HEX</c>.
/// </summary>
internal static class EdnsText
{
    public static void Write(ref Utf8SpanWriter writer, in EdnsRecord edns)
    {
        writer.Write("udp="u8);
        writer.WriteDecimal(edns.UdpPayloadSize);
        writer.Write(" version="u8);
        writer.WriteDecimal(edns.Version);
        writer.Write(" flags="u8);
        if (edns.DnssecOk)
        {
            writer.Write("do"u8);
        }

        if ((edns.Flags & 0x7FFF) != 0)
        {
            if (edns.DnssecOk)
            {
                writer.Write((byte)',');
            }

            writer.Write("0x"u8);
            Span<byte> flagBytes = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(flagBytes, (ushort)(edns.Flags & 0x7FFF));
            writer.WriteHex(flagBytes, upper: false);
        }

        writer.Write(" ercode="u8);
        writer.WriteDecimal(edns.ExtendedRcodeHigh);
        foreach (var option in edns.EnumerateOptions())
        {
            writer.Write((byte)' ');
            WriteOption(ref writer, option);
        }
    }

    private static void WriteOption(ref Utf8SpanWriter writer, EdnsOption option)
    {
        switch (option.Code)
        {
            case EdnsOptionCode.Nsid:
                writer.Write("nsid="u8);
                writer.WriteHex(option.Data);
                return;

            case EdnsOptionCode.ClientSubnet when option.TryReadClientSubnet(out ushort family, out byte source, out byte scope, out var address):
                writer.Write("ecs="u8);
                Span<byte> full = stackalloc byte[family == 1 ? 4 : 16];
                full.Clear();
                address.CopyTo(full);
                DnsPresentation.WriteAddress(ref writer, full);
                writer.Write((byte)'/');
                writer.WriteDecimal(source);
                writer.Write((byte)'/');
                writer.WriteDecimal(scope);
                return;

            case EdnsOptionCode.Cookie when option.TryReadCookie(out var client, out var server):
                writer.Write("cookie="u8);
                writer.WriteHex(client);
                if (!server.IsEmpty)
                {
                    writer.Write((byte)':');
                    writer.WriteHex(server);
                }

                return;

            case EdnsOptionCode.Padding:
                writer.Write("padding="u8);
                writer.WriteDecimal((ulong)option.Data.Length);
                return;

            case EdnsOptionCode.ExtendedDnsError when option.TryReadExtendedError(out ushort info, out var text):
                writer.Write("ede="u8);
                writer.WriteDecimal(info);
                if (!text.IsEmpty)
                {
                    writer.Write((byte)':');
                    PresentationText.WriteQuoted(ref writer, text);
                }

                return;

            default:
                writer.Write("opt"u8);
                writer.WriteDecimal(option.Code);
                writer.Write((byte)'=');
                writer.WriteHex(option.Data);
                return;
        }
    }
}
