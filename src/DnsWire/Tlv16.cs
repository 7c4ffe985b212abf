using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>
/// The (16-bit code, 16-bit length, value) layout shared by EDNS options (RFC 6891 6.1.2) and SvcParams
/// (RFC 9460 2.2). The length is checked against the bytes that remain before the value is handed out.
/// </summary>
internal static class Tlv16
{
    public static bool TryRead(ReadOnlySpan<byte> span, scoped ref int position, out ushort code, out ReadOnlySpan<byte> value)
    {
        code = 0;
        value = default;
        if (span.Length - position < 4)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(span[(position + 2)..]);
        if (span.Length - position - 4 < length)
        {
            return false;
        }

        code = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        value = span.Slice(position + 4, length);
        position += 4 + length;
        return true;
    }

    /// <summary>
    /// True when <paramref name="span"/> is exactly a sequence of whole items, with strictly increasing codes when
    /// <paramref name="increasingCodes"/> is set.
    /// </summary>
    public static bool AreWellFormed(ReadOnlySpan<byte> span, bool increasingCodes)
    {
        int position = 0;
        int last = -1;
        while (position < span.Length)
        {
            if (!TryRead(span, ref position, out ushort code, out _) || (increasingCodes && code <= last))
            {
                return false;
            }

            last = code;
        }

        return true;
    }
}
