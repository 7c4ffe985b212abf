using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace RataDns.DnsWire;

/// <summary>
/// Appends UTF-8 text to a caller's span. Running out of room sets <see cref="Overflowed"/> instead of throwing,
/// so a formatter can be written straight through and checked once at the end.
/// </summary>
internal ref struct Utf8SpanWriter
{
    private readonly Span<byte> _destination;

    public Utf8SpanWriter(Span<byte> destination)
    {
        _destination = destination;
        Position = 0;
        Overflowed = false;
    }

    public int Position { get; private set; }

    public bool Overflowed { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(byte b)
    {
        if ((uint)Position < (uint)_destination.Length)
        {
            _destination[Position++] = b;
        }
        else
        {
            Overflowed = true;
        }
    }

    public void Write(scoped ReadOnlySpan<byte> bytes)
    {
        if (bytes.TryCopyTo(_destination[Position..]))
        {
            Position += bytes.Length;
        }
        else
        {
            Overflowed = true;
        }
    }

    public void WriteDecimal(ulong value)
    {
        if (Utf8Formatter.TryFormat(value, _destination[Position..], out int n))
        {
            Position += n;
        }
        else
        {
            Overflowed = true;
        }
    }

    /// <summary>Writes bytes as hex digits (uppercase, as DS digests and RFC 3597 data are usually shown).</summary>
    public void WriteHex(scoped ReadOnlySpan<byte> bytes, bool upper = true)
    {
        ReadOnlySpan<byte> digits = upper ? "0123456789ABCDEF"u8 : "0123456789abcdef"u8;
        if (_destination.Length - Position < 2 * bytes.Length)
        {
            Overflowed = true;
            return;
        }

        foreach (byte b in bytes)
        {
            _destination[Position++] = digits[b >> 4];
            _destination[Position++] = digits[b & 0xF];
        }
    }

    public void WriteBase64(scoped ReadOnlySpan<byte> bytes)
    {
        if (Base64.EncodeToUtf8(bytes, _destination[Position..], out _, out int written) == OperationStatus.Done)
        {
            Position += written;
        }
        else
        {
            Overflowed = true;
        }
    }

    /// <summary>Base32 with the extended hex alphabet, no padding (RFC 4648 7; NSEC3 hashes per RFC 5155 3.3).</summary>
    public void WriteBase32Hex(scoped ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV"u8;
        int bits = 0;
        int buffer = 0;
        foreach (byte b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                Write(alphabet[(buffer >> bits) & 0x1F]);
            }
        }

        if (bits > 0)
        {
            Write(alphabet[(buffer << (5 - bits)) & 0x1F]);
        }
    }
}
