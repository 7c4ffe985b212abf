using System.Buffers;

namespace RataDns.DnsWire;

/// <summary>Escaping rules of the presentation format (RFC 1035 5.1), shared by names and character-strings.</summary>
internal static class PresentationText
{
    /// <summary>Bytes a label shows as themselves: printable ASCII except the specials of RFC 1035 5.1.</summary>
    private static readonly SearchValues<byte> PlainLabelBytes = SearchValues.Create(
        "!#%&'*+,-/0123456789:<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    /// <summary>Writes one label: specials escaped with a backslash, bytes outside 0x21..0x7E as \DDD.</summary>
    public static void WriteLabel(ref Utf8SpanWriter writer, scoped ReadOnlySpan<byte> label)
    {
        // Almost every label needs no escape: copy it whole.
        int plain = label.IndexOfAnyExcept(PlainLabelBytes);
        if (plain < 0)
        {
            writer.Write(label);
            return;
        }

        writer.Write(label[..plain]);
        foreach (byte b in label[plain..])
        {
            if (b is (byte)'.' or (byte)'\\' or (byte)'"' or (byte)'(' or (byte)')' or (byte)';' or (byte)'@' or (byte)'$')
            {
                writer.Write((byte)'\\');
                writer.Write(b);
            }
            else if (b is < 0x21 or > 0x7E)
            {
                WriteDecimalEscape(ref writer, b);
            }
            else
            {
                writer.Write(b);
            }
        }
    }

    /// <summary>Writes a character-string in double quotes: <c>"</c> and <c>\</c> escaped, non-printables as \DDD.</summary>
    public static void WriteQuoted(ref Utf8SpanWriter writer, scoped ReadOnlySpan<byte> text)
    {
        writer.Write((byte)'"');
        foreach (byte b in text)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                writer.Write((byte)'\\');
                writer.Write(b);
            }
            else if (b is < 0x20 or > 0x7E)
            {
                WriteDecimalEscape(ref writer, b);
            }
            else
            {
                writer.Write(b);
            }
        }

        writer.Write((byte)'"');
    }

    public static void WriteDecimalEscape(ref Utf8SpanWriter writer, byte b)
    {
        writer.Write((byte)'\\');
        writer.Write((byte)('0' + (b / 100)));
        writer.Write((byte)('0' + (b / 10 % 10)));
        writer.Write((byte)('0' + (b % 10)));
    }
}
