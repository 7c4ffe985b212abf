using System.Buffers;
using RataDns.Transport.Encoders;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// The payload frame of a queued result: its JSON envelope as is, or transcoded to MessagePack, into a buffer reused
/// from one result to the next. With <paramref name="state"/> and a state queued with the result, the envelope gets
/// one more member, <c>"state"</c>: the state container as base64 text, in both encodings (the members before it
/// are exactly the Fievel envelope's). Owned by one socket thread.
/// </summary>
internal sealed class ResultPayloadEncoder(ZeroMqEncoding encoding, bool state = true)
{
    private static ReadOnlySpan<byte> StateMember => ",\"state\":\""u8;

    private readonly JsonToMessagePack _transcoder = new();
    private readonly ReusableBufferWriter _encoded = new(1 << 16);
    private byte[] _base64 = new byte[1 << 16];

    /// <summary>The bytes to send (valid until the next call); false when the JSON is invalid (a reducer bug).</summary>
    public bool TryEncode(ResultSlot slot, out byte[] payload, out int length)
    {
        bool withState = state && slot.StateLength > 0;
        if (encoding == ZeroMqEncoding.Json)
        {
            if (!withState)
            {
                payload = slot.Json;
                length = slot.JsonLength;
                return true;
            }

            // {...} -> {...,"state":"<base64>"}: the envelope is one object, so its last byte is the closing brace.
            _encoded.Reset();
            var json = slot.Json.AsSpan(0, slot.JsonLength).TrimEnd(" \r\n"u8);
            if (json.Length < 2 || json[^1] != (byte)'}')
            {
                payload = [];
                length = 0;
                return false;
            }

            Append(json[..^1]);
            Append(json.Length > 2 ? StateMember : StateMember[1..]);
            int base64 = System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(slot.StateLength);
            System.Buffers.Text.Base64.EncodeToUtf8(slot.State.AsSpan(0, slot.StateLength), _encoded.GetSpan(base64), out _, out int written);
            _encoded.Advance(written);
            Append("\"}"u8);
            payload = _encoded.Buffer;
            length = _encoded.WrittenCount;
            return true;
        }

        _encoded.Reset();
        try
        {
            _transcoder.Transcode(slot.Json.AsSpan(0, slot.JsonLength), _encoded, withState ? 1 : 0);
            if (withState)
            {
                // Text, not bin: a subscriber may re-encode the whole envelope as JSON (json.dumps of the dict).
                int base64 = System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(slot.StateLength);
                if (_base64.Length < base64)
                {
                    _base64 = new byte[Math.Max(base64, _base64.Length * 2)];
                }

                System.Buffers.Text.Base64.EncodeToUtf8(slot.State.AsSpan(0, slot.StateLength), _base64, out _, out int written);
                var writer = new MessagePack.MessagePackWriter(_encoded);
                writer.WriteString("state"u8);
                writer.WriteString(_base64.AsSpan(0, written));
                writer.Flush();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            payload = [];
            length = 0;
            return false;
        }

        payload = _encoded.Buffer;
        length = _encoded.WrittenCount;
        return true;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_encoded.GetSpan(bytes.Length));
        _encoded.Advance(bytes.Length);
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over one array that grows and is reused (its array is sent as is).</summary>
    private sealed class ReusableBufferWriter(int initialCapacity) : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[initialCapacity];

        public byte[] Buffer => _buffer;

        public int WrittenCount { get; private set; }

        public void Reset() => WrittenCount = 0;

        public void Advance(int count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - WrittenCount);
            WrittenCount += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(WrittenCount);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(WrittenCount);
        }

        private void Ensure(int sizeHint)
        {
            int needed = Math.Max(sizeHint, 1);
            if (_buffer.Length - WrittenCount < needed)
            {
                Array.Resize(ref _buffer, Math.Max(WrittenCount + needed, _buffer.Length * 2));
            }
        }
    }
}
