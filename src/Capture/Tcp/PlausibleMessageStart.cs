using System.Buffers.Binary;

namespace RataDns.Capture.Tcp;

/// <summary>What <see cref="PlausibleMessageStart.Find"/> found.</summary>
internal enum MessageStartSearch
{
    /// <summary>A whole framed message that looks like DNS starts at the index.</summary>
    Found,

    /// <summary>Nothing before the index can start a message; from the index on, more bytes are needed to decide.</summary>
    NeedMore,
}

/// <summary>
/// Finds where a DNS-over-TCP framing resumes in bytes that may start inside a message: after joining a stream
/// mid-way or after a hole. A candidate is a 2-byte length L (RFC 1035 4.2.2) followed by L bytes whose DNS header
/// and question are consistent with L. Wrong candidates cost a message; the checks keep them rare without rejecting
/// real traffic (no check looks at names' characters).
/// </summary>
internal static class PlausibleMessageStart
{
    private const int HeaderSize = 12;
    private const int PrefixSize = TcpDnsFraming.LengthPrefixSize;

    // Smallest encodings (RFC 1035 4.1.2, 4.1.3): a question is the root name (1) + type (2) + class (2); a resource
    // record is the root name (1) + type, class (4), TTL (4) and RDLENGTH (2).
    private const int SmallestQuestion = 5;
    private const int SmallestRecord = 11;

    /// <summary>
    /// Scans <paramref name="data"/> for a candidate message start. With <paramref name="final"/> (no more bytes will
    /// come), a candidate whose message is incomplete is passed over instead of waited for.
    /// </summary>
    public static MessageStartSearch Find(ReadOnlySpan<byte> data, int maxFramedBytes, bool final, out int index)
    {
        for (int i = 0; ; i++)
        {
            int left = data.Length - i;
            if (left < PrefixSize + HeaderSize)
            {
                index = i;
                return MessageStartSearch.NeedMore;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            if (!IsPlausibleHeader(length, data.Slice(i + PrefixSize, HeaderSize), maxFramedBytes))
            {
                continue;
            }

            if (left - PrefixSize < length)
            {
                if (final)
                {
                    continue;
                }

                index = i;
                return MessageStartSearch.NeedMore;
            }

            if (IsPlausibleMessage(data.Slice(i + PrefixSize, length)))
            {
                index = i;
                return MessageStartSearch.Found;
            }
        }
    }

    /// <summary>
    /// Whether a 12-byte DNS header (RFC 1035 4.1.1) fits a message of <paramref name="length"/> bytes: a defined
    /// opcode, Z clear, no RCODE in a request, at most one question, and counts whose smallest encoding fits.
    /// </summary>
    internal static bool IsPlausibleHeader(int length, ReadOnlySpan<byte> header, int maxFramedBytes)
    {
        if (length < HeaderSize || length + PrefixSize > maxFramedBytes || header.Length < HeaderSize)
        {
            return false;
        }

        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        bool response = (flags & 0x8000) != 0;
        int opcode = (flags >> 11) & 0xF;
        bool z = (flags & 0x0040) != 0;
        int rcode = flags & 0xF;

        // Opcodes: 0 QUERY, 1 IQUERY (RFC 3425, obsolete), 2 STATUS, 4 NOTIFY (RFC 1996), 5 UPDATE (RFC 2136),
        // 6 DSO (RFC 8490). Z must be zero (RFC 1035 4.1.1). RCODE is "set as part of responses".
        if (opcode > 6 || opcode == 3 || z || (!response && rcode != 0))
        {
            return false;
        }

        int questions = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        int answers = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
        int authorities = BinaryPrimitives.ReadUInt16BigEndian(header[8..]);
        int additionals = BinaryPrimitives.ReadUInt16BigEndian(header[10..]);

        // More than one question is undefined in practice (RFC 9619); UPDATE's zone section holds exactly one. No
        // question is normal only for DSO (RFC 8490 5.4) and with an OPT record (cookie-only queries, RFC 7873 5.4;
        // error responses): a bare header is more likely zeros inside another message than a message.
        if (questions > 1 || (questions == 0 && opcode != 6 && additionals == 0))
        {
            return false;
        }

        long smallest = HeaderSize + ((long)questions * SmallestQuestion) + ((long)(answers + authorities + additionals) * SmallestRecord);
        return smallest <= length;
    }

    /// <summary>
    /// Whether a whole message whose header passed <see cref="IsPlausibleHeader"/> is well formed to its last byte:
    /// every question and resource record the header counts (RFC 1035 4.1.2, 4.1.3) fits, and together they end
    /// exactly at the message's end. The question's class must be a defined one.
    /// </summary>
    internal static bool IsPlausibleMessage(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderSize)
        {
            return false;
        }

        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int records = BinaryPrimitives.ReadUInt16BigEndian(message[6..])
            + BinaryPrimitives.ReadUInt16BigEndian(message[8..])
            + BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        int position = HeaderSize;
        for (int i = 0; i < questions; i++)
        {
            if (!TrySkipName(message, ref position) || message.Length - position < 4)
            {
                return false;
            }

            // QCLASS (RFC 1035 3.2.4, 3.2.5; RFC 2136 2.4 for NONE): IN, CS, CH, HS, NONE, ANY. The top bit is
            // mDNS's unicast-response bit (RFC 6762 5.4).
            int qclass = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]) & 0x7FFF;
            if (qclass is not (1 or 2 or 3 or 4 or 254 or 255))
            {
                return false;
            }

            position += 4;
        }

        for (int i = 0; i < records; i++)
        {
            // TYPE (2), CLASS (2), TTL (4), RDLENGTH (2), then RDATA.
            if (!TrySkipName(message, ref position) || message.Length - position < 10)
            {
                return false;
            }

            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 8)..]);
            position += 10;
            if (message.Length - position < rdLength)
            {
                return false;
            }

            position += rdLength;
        }

        return position == message.Length;
    }

    /// <summary>
    /// Skips a name at <paramref name="position"/>: labels of up to 63 bytes ending at the root or at a compression
    /// pointer to an earlier name (RFC 1035 4.1.4), at most 255 bytes in all (RFC 1035 2.3.4).
    /// </summary>
    private static bool TrySkipName(ReadOnlySpan<byte> message, ref int position)
    {
        int start = position;
        while (true)
        {
            if ((uint)position >= (uint)message.Length)
            {
                return false;
            }

            int label = message[position];
            if (label == 0)
            {
                position++;
                return true;
            }

            switch (label & 0xC0)
            {
                case 0xC0:
                    if (message.Length - position < 2)
                    {
                        return false;
                    }

                    int target = BinaryPrimitives.ReadUInt16BigEndian(message[position..]) & 0x3FFF;
                    position += 2;
                    return target >= HeaderSize && target < start;

                case 0:
                    position += 1 + label;
                    if (position - start > 255)
                    {
                        return false;
                    }

                    break;

                default:
                    // 0b01 and 0b10 label types are retired (RFC 6891 5).
                    return false;
            }
        }
    }
}
