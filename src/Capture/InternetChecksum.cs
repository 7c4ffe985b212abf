using System.Buffers.Binary;

namespace RataDns.Capture;

/// <summary>The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.</summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="bytes"/> as big-endian 16-bit words (an odd last byte is padded with zero).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> bytes)
    {
        ulong total = sum;
        int i = 0;
        for (; i + 4 <= bytes.Length; i += 4)
        {
            total += BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]);
        }

        for (; i + 2 <= bytes.Length; i += 2)
        {
            total += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        }

        if (i < bytes.Length)
        {
            total += (uint)bytes[i] << 8;
        }

        // Fold to 16 bits (2^16 is 1 modulo 0xFFFF), so callers can keep adding small values without overflow.
        while ((total >> 16) != 0)
        {
            total = (total & 0xFFFF) + (total >> 16);
        }

        return (uint)total;
    }

    /// <summary>The checksum of a sum made by <see cref="Add"/>: folded to 16 bits and complemented.</summary>
    public static ushort Finish(uint sum)
    {
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
