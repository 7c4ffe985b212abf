using System.Buffers;

namespace RataDns.Transport.Speedy;

/// <summary>
/// The little JSON that Speedy messages need, written straight into one reused buffer: objects, arrays and string
/// values under keys given already quoted (<c>"name":</c>). Strings are escaped as System.Text.Json's writer escapes
/// them with <see cref="System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> (<c>\"</c>,
/// <c>\\</c>, <c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\b</c>, <c>\f</c>, other control characters as <c>\u00XX</c>), so the
/// bytes are the same as before this writer existed (SpeedyJsonBufferTests reads them back with that writer).
/// </summary>
/// <remarks>
/// The text Speedy writes is printable ASCII (names and RDATA come escaped in presentation form, the rest is digits),
/// where only <c>"</c> and <c>\</c> need escaping: a search for them and one copy per value, instead of
/// Utf8JsonWriter's per-value encoder scan, which took a third of the serializer's time. A byte above 0x7E (never
/// produced by the presentation writers) is escaped as <c>\u00XX</c>, keeping the output valid JSON.
/// </remarks>
internal sealed class SpeedyJsonBuffer
{
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\', .. Enumerable.Range(0x7F, 0x81).Select(b => (byte)b)]);

    private byte[] _buffer = new byte[4096];
    private int _length;
    private int _depth;
    private ulong _hasItem; // bit d: the container open at depth d already holds an item (the next needs a comma)

    /// <summary>What was written since <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Reset()
    {
        _length = 0;
        _depth = 0;
        _hasItem = 0;
    }

    public void StartObject()
    {
        Separate();
        Put((byte)'{');
        Open();
    }

    public void StartObject(ReadOnlySpan<byte> quotedKey)
    {
        Separate();
        Put(quotedKey);
        Put((byte)'{');
        Open();
    }

    public void StartArray(ReadOnlySpan<byte> quotedKey)
    {
        Separate();
        Put(quotedKey);
        Put((byte)'[');
        Open();
    }

    public void EndObject()
    {
        Close();
        Put((byte)'}');
    }

    public void EndArray()
    {
        Close();
        Put((byte)']');
    }

    /// <summary>A member: <paramref name="quotedKey"/> (<c>"key":</c>) and <paramref name="value"/> as a JSON string.</summary>
    public void String(ReadOnlySpan<byte> quotedKey, ReadOnlySpan<byte> value)
    {
        Separate();
        Put(quotedKey);
        PutString(value);
    }

    /// <summary>An array element: <paramref name="value"/> as a JSON string.</summary>
    public void StringValue(ReadOnlySpan<byte> value)
    {
        Separate();
        PutString(value);
    }

    private void Separate()
    {
        ulong bit = 1UL << _depth;
        if ((_hasItem & bit) != 0)
        {
            Put((byte)',');
        }

        _hasItem |= bit;
    }

    private void Open()
    {
        _depth++;
        _hasItem &= ~(1UL << _depth);
    }

    private void Close() => _depth--;

    private void PutString(ReadOnlySpan<byte> value)
    {
        Reserve(value.Length + 2);
        _buffer[_length++] = (byte)'"';
        int clean = value.IndexOfAny(NeedsEscape);
        if (clean < 0)
        {
            value.CopyTo(_buffer.AsSpan(_length));
            _length += value.Length;
        }
        else
        {
            value[..clean].CopyTo(_buffer.AsSpan(_length));
            _length += clean;
            PutEscaped(value[clean..]);
        }

        Put((byte)'"');
    }

    private void PutEscaped(ReadOnlySpan<byte> value)
    {
        Reserve(value.Length * 6);
        foreach (byte b in value)
        {
            byte shortForm = b switch
            {
                (byte)'"' => (byte)'"',
                (byte)'\\' => (byte)'\\',
                (byte)'\n' => (byte)'n',
                (byte)'\r' => (byte)'r',
                (byte)'\t' => (byte)'t',
                (byte)'\b' => (byte)'b',
                (byte)'\f' => (byte)'f',
                _ => 0,
            };
            if (shortForm != 0)
            {
                _buffer[_length++] = (byte)'\\';
                _buffer[_length++] = shortForm;
            }
            else if (b is < 0x20 or > 0x7E)
            {
                _buffer[_length++] = (byte)'\\';
                _buffer[_length++] = (byte)'u';
                _buffer[_length++] = (byte)'0';
                _buffer[_length++] = (byte)'0';
                _buffer[_length++] = Hex(b >> 4);
                _buffer[_length++] = Hex(b & 0xF);
            }
            else
            {
                _buffer[_length++] = b;
            }
        }
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);

    private void Put(byte b)
    {
        Reserve(1);
        _buffer[_length++] = b;
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes));
        }
    }
}
