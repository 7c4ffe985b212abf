using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>
/// The fixed 12-byte DNS header (RFC 1035 4.1.1, with AD and CD from RFC 4035 3.2).
/// <code>
///   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
/// |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
/// </code>
/// </summary>
public readonly struct DnsHeader
{
    public const int Size = 12;

    public DnsHeader(ushort id, ushort flags, ushort questionCount, ushort answerCount, ushort authorityCount, ushort additionalCount)
    {
        Id = id;
        Flags = flags;
        QuestionCount = questionCount;
        AnswerCount = answerCount;
        AuthorityCount = authorityCount;
        AdditionalCount = additionalCount;
    }

    public ushort Id { get; }

    /// <summary>The raw 16-bit flags word, as on the wire.</summary>
    public ushort Flags { get; }

    public ushort QuestionCount { get; }
    public ushort AnswerCount { get; }
    public ushort AuthorityCount { get; }
    public ushort AdditionalCount { get; }

    public bool IsResponse => (Flags & 0x8000) != 0;
    public byte Opcode => (byte)((Flags >> 11) & 0xF);
    public bool AuthoritativeAnswer => (Flags & 0x0400) != 0;
    public bool Truncated => (Flags & 0x0200) != 0;
    public bool RecursionDesired => (Flags & 0x0100) != 0;
    public bool RecursionAvailable => (Flags & 0x0080) != 0;
    public bool Z => (Flags & 0x0040) != 0;
    public bool AuthenticData => (Flags & 0x0020) != 0;
    public bool CheckingDisabled => (Flags & 0x0010) != 0;

    /// <summary>The 4-bit RCODE of the header; EDNS extends it (see <see cref="EdnsRecord.ExtendedRcode"/>).</summary>
    public byte Rcode => (byte)(Flags & 0xF);

    /// <summary>
    /// Reads a header from up to 12 bytes. With fewer, the missing bytes read as zero and the caller knows from the
    /// length which fields are real (id needs 2 bytes, flags 4, each count 2 more).
    /// </summary>
    public static DnsHeader ReadPartial(ReadOnlySpan<byte> bytes)
    {
        Span<byte> padded = stackalloc byte[Size];
        padded.Clear();
        bytes[..Math.Min(bytes.Length, Size)].CopyTo(padded);
        return Read(padded);
    }

    /// <summary>Reads a header; the caller guarantees at least 12 bytes.</summary>
    public static DnsHeader Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt16BigEndian(bytes),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[8..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[10..]));
}
