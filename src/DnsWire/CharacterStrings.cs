namespace RataDns.DnsWire;

/// <summary>&lt;character-string&gt;: one length byte and that many bytes (RFC 1035 3.3).</summary>
internal static class CharacterStrings
{
    public static bool TryRead(ReadOnlySpan<byte> span, scoped ref int position, out ReadOnlySpan<byte> text)
    {
        text = default;
        if ((uint)position >= (uint)span.Length || position + 1 + span[position] > span.Length)
        {
            return false;
        }

        text = span.Slice(position + 1, span[position]);
        position += 1 + span[position];
        return true;
    }

    /// <summary>True when the span is exactly a sequence of character-strings (TXT needs at least one).</summary>
    public static bool AreWellFormed(ReadOnlySpan<byte> span, bool allowEmpty)
    {
        if (span.IsEmpty)
        {
            return allowEmpty;
        }

        int p = 0;
        while (p < span.Length)
        {
            if (!TryRead(span, ref p, out _))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Walks the character-strings of TXT-like RDATA; stops at the first one that does not fit.</summary>
public ref struct CharacterStringEnumerator
{
    private readonly ReadOnlySpan<byte> _rdata;
    private int _position;

    internal CharacterStringEnumerator(ReadOnlySpan<byte> rdata)
    {
        _rdata = rdata;
        _position = 0;
        Current = default;
    }

    public ReadOnlySpan<byte> Current { get; private set; }

    public readonly CharacterStringEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (CharacterStrings.TryRead(_rdata, ref _position, out var text))
        {
            Current = text;
            return true;
        }

        return false;
    }
}

/// <summary>
/// Walks the types of an NSEC/NSEC3 type bitmap (RFC 4034 4.1.2): windows of (block, length 1..32, bits),
/// blocks strictly increasing.
/// </summary>
public ref struct TypeBitmapEnumerator
{
    private readonly ReadOnlySpan<byte> _bitmaps;
    private int _windowStart;
    private int _bit;

    internal TypeBitmapEnumerator(ReadOnlySpan<byte> bitmaps)
    {
        _bitmaps = bitmaps;
        _windowStart = 0;
        _bit = -1;
        Current = 0;
    }

    public ushort Current { get; private set; }

    public readonly TypeBitmapEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        while (_windowStart + 2 <= _bitmaps.Length)
        {
            int block = _bitmaps[_windowStart];
            int length = _bitmaps[_windowStart + 1];
            if (length is 0 or > 32 || _windowStart + 2 + length > _bitmaps.Length)
            {
                return false;
            }

            var bits = _bitmaps.Slice(_windowStart + 2, length);
            for (_bit++; _bit < length * 8; _bit++)
            {
                if ((bits[_bit >> 3] & (0x80 >> (_bit & 7))) != 0)
                {
                    Current = (ushort)((block << 8) | _bit);
                    return true;
                }
            }

            _windowStart += 2 + length;
            _bit = -1;
        }

        return false;
    }

    internal static bool IsWellFormed(ReadOnlySpan<byte> bitmaps)
    {
        int p = 0;
        int lastBlock = -1;
        while (p < bitmaps.Length)
        {
            if (p + 2 > bitmaps.Length)
            {
                return false;
            }

            int block = bitmaps[p];
            int length = bitmaps[p + 1];
            if (block <= lastBlock || length is 0 or > 32 || p + 2 + length > bitmaps.Length)
            {
                return false;
            }

            lastBlock = block;
            p += 2 + length;
        }

        return true;
    }
}

/// <summary>One SvcParam (RFC 9460 2.2): key and value bytes.</summary>
public readonly ref struct SvcParam(ushort key, ReadOnlySpan<byte> value)
{
    public ushort Key { get; } = key;
    public ReadOnlySpan<byte> Value { get; } = value;
}

/// <summary>Walks SvcParams: (key, length, value) triples.</summary>
public ref struct SvcParamEnumerator
{
    private readonly ReadOnlySpan<byte> _parameters;
    private int _position;

    internal SvcParamEnumerator(ReadOnlySpan<byte> parameters)
    {
        _parameters = parameters;
        _position = 0;
        Current = default;
    }

    public SvcParam Current { get; private set; }

    public readonly SvcParamEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (!Tlv16.TryRead(_parameters, ref _position, out ushort key, out var value))
        {
            return false;
        }

        Current = new SvcParam(key, value);
        return true;
    }

    /// <summary>Keys must be strictly increasing and every value must fit (RFC 9460 2.2).</summary>
    internal static bool AreWellFormed(ReadOnlySpan<byte> parameters) => Tlv16.AreWellFormed(parameters, increasingCodes: true);
}
