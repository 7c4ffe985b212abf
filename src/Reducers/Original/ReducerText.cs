using System.Buffers.Binary;
using System.Net;
using RataDns.DnsWire;

namespace RataDns.Reducers.Original;

/// <summary>
/// Building composite keys on the observe path (into caller buffers) and turning them back into text when a window
/// is written. Names are kept in uncompressed wire form; an address as one length byte then its 4 or 16 bytes.
/// </summary>
internal static class ReducerText
{
    /// <summary>Room for any key built here; see <see cref="BoundedKeyTable.MaxKeyLength"/>.</summary>
    public const int KeyBufferLength = BoundedKeyTable.MaxKeyLength;

    /// <summary>A name in presentation form (RFC 1035 5.1) is at most this long.</summary>
    public const int NameTextLength = DnsName.MaxPresentationLength;

    /// <summary>Writes [length][address bytes]; returns the bytes written.</summary>
    public static int WriteAddress(Span<byte> destination, ReadOnlySpan<byte> address)
    {
        destination[0] = (byte)address.Length;
        address.CopyTo(destination[1..]);
        return 1 + address.Length;
    }

    /// <summary>Reads an address written by <see cref="WriteAddress"/>; returns the bytes consumed.</summary>
    public static int ReadAddress(ReadOnlySpan<byte> source, out ReadOnlySpan<byte> address)
    {
        address = source.Slice(1, source[0]);
        return 1 + source[0];
    }

    public static int WriteUInt16(Span<byte> destination, ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, value);
        return 2;
    }

    public static ushort ReadUInt16(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt16BigEndian(source);

    /// <summary>True when any label of <paramref name="name"/> holds an underscore.</summary>
    public static bool HasUnderscore(DnsName name)
    {
        var labels = name.EnumerateLabels();
        while (labels.MoveNext())
        {
            if (labels.Current.Contains((byte)'_'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>As <see cref="HasUnderscore(DnsName)"/> for a name in wire form (length-prefixed labels, ending with 0).</summary>
    public static bool HasUnderscore(ReadOnlySpan<byte> wireName)
    {
        int at = 0;
        while (at < wireName.Length && wireName[at] != 0)
        {
            int length = wireName[at];
            var label = wireName.Slice(at + 1, Math.Min(length, wireName.Length - at - 1));
            if (label.Contains((byte)'_'))
            {
                return true;
            }

            at += 1 + length;
        }

        return false;
    }

    /// <summary>The text form of an IPv4 or IPv6 address ("192.0.2.1", "2001:db8::1"); hex for other lengths.</summary>
    public static string FormatAddress(ReadOnlySpan<byte> address) =>
        address.Length is 4 or 16 ? new IPAddress(address).ToString() : Convert.ToHexStringLower(address);

    /// <summary>
    /// The presentation form of a name in uncompressed wire form, as <see cref="DnsName.TryFormat"/> writes it:
    /// trailing dot, "." for the root, \DDD and backslash escapes. Lowercase when the wire form was lowercased.
    /// </summary>
    public static string FormatWireName(ReadOnlySpan<byte> wire)
    {
        Span<byte> text = stackalloc byte[NameTextLength];
        int n = FormatWireName(wire, text);
        return System.Text.Encoding.UTF8.GetString(text[..n]);
    }

    /// <summary>As <see cref="FormatWireName(ReadOnlySpan{byte})"/> into a buffer of <see cref="NameTextLength"/> bytes.</summary>
    public static int FormatWireName(ReadOnlySpan<byte> wire, Span<byte> text)
    {
        if (DnsName.TryRead(wire, 0, out DnsName name) != DnsParseStatus.Ok)
        {
            // Keys are copied from names the reader already validated; this is unreachable for them.
            throw new InvalidOperationException("A stored name is not valid wire form.");
        }

        name.TryFormat(text, out int n);
        return n;
    }

    /// <summary>"A", "MX", ... or TYPEnnn (RFC 3597).</summary>
    public static string FormatType(ushort type)
    {
        Span<byte> text = stackalloc byte[16];
        DnsRecordType.TryFormat(type, text, out int n);
        return System.Text.Encoding.ASCII.GetString(text[..n]);
    }

    /// <summary>"IN", "CH", ... or CLASSnnn.</summary>
    public static string FormatClass(ushort @class)
    {
        Span<byte> text = stackalloc byte[16];
        DnsClass.TryFormat(@class, text, out int n);
        return System.Text.Encoding.ASCII.GetString(text[..n]);
    }

    /// <summary>Whether <paramref name="packet"/> is one that <paramref name="selection"/> counts.</summary>
    public static bool Selects(PacketSelection selection, in DnsPacketView packet) => selection switch
    {
        PacketSelection.Queries => packet.IsQuery,
        PacketSelection.Answers => packet.IsResponse,
        _ => true,
    };
}
