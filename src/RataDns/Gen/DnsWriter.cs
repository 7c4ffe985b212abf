using System.Buffers.Binary;

namespace RataDns.App.Gen;

/// <summary>
/// Appends DNS wire format (RFC 1035 4.1) to a caller's buffer, big-endian. The caller sizes the buffer for the
/// largest message it builds; writing past it throws (a generator bug, not input to tolerate).
/// </summary>
internal ref struct DnsWriter
{
    public const int HeaderSize = 12;

    private readonly Span<byte> _buffer;

    public DnsWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
    }

    /// <summary>Bytes written so far; setting it back drops what came after.</summary>
    public int Position { get; set; }

    public void WriteHeader(ushort id, ushort flags, ushort questions, ushort answers, ushort authorities, ushort additionals)
    {
        WriteUInt16(id);
        WriteUInt16(flags);
        WriteUInt16(questions);
        WriteUInt16(answers);
        WriteUInt16(authorities);
        WriteUInt16(additionals);
    }

    /// <summary>Rewrites the flags and the three record counts once the sections are known.</summary>
    public readonly void PatchHeader(ushort flags, ushort answers, ushort authorities, ushort additionals)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[6..], answers);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[8..], authorities);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[10..], additionals);
    }

    public void WriteByte(byte value) => _buffer[Position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], value);
        Position += 2;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[Position..], value);
        Position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[Position..], value);
        Position += 8;
    }

    public void WriteBytes(scoped ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[Position..]);
        Position += bytes.Length;
    }

    /// <summary>A compression pointer to an earlier name at <paramref name="offset"/> (RFC 1035 4.1.4); ends the name.</summary>
    public void WritePointer(int offset) => WriteUInt16((ushort)(0xC000 | offset));

    /// <summary>One label: <paramref name="text"/> followed by <paramref name="number"/> in decimal when it is not negative.</summary>
    public void WriteLabel(scoped ReadOnlySpan<byte> text, int number)
    {
        int lengthAt = Position++;
        WriteBytes(text);
        if (number >= 0)
        {
            number.TryFormat(_buffer[Position..], out int digits);
            Position += digits;
        }

        _buffer[lengthAt] = (byte)(Position - lengthAt - 1);
    }

    /// <summary>A character-string: a length byte and up to 255 bytes (RFC 1035 3.3).</summary>
    public void WriteCharacterString(scoped ReadOnlySpan<byte> text)
    {
        WriteByte((byte)text.Length);
        WriteBytes(text);
    }

    /// <summary>Owner (a pointer to an earlier name), TYPE, CLASS IN and TTL; RDLENGTH follows with <see cref="BeginRdata"/>.</summary>
    public void WriteRecordHeader(int ownerOffset, ushort type, uint ttl)
    {
        WritePointer(ownerOffset);
        WriteUInt16(type);
        WriteUInt16(DnsTypes.ClassIn);
        WriteUInt32(ttl);
    }

    /// <summary>Reserves RDLENGTH; returns where it is, for <see cref="EndRdata"/>.</summary>
    public int BeginRdata()
    {
        int at = Position;
        Position += 2;
        return at;
    }

    public readonly void EndRdata(int lengthAt) =>
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[lengthAt..], (ushort)(Position - lengthAt - 2));
}

/// <summary>The record types and class the generator writes.</summary>
internal static class DnsTypes
{
    public const ushort A = 1;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Mx = 15;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Opt = 41;
    public const ushort ClassIn = 1;
}
