using System.Buffers;
using RataDns.Transport.Encoders;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// The payload frame of a queued result: its JSON envelope as is, or transcoded to MessagePack into a buffer reused
/// from one result to the next. Owned by one socket thread.
/// </summary>
internal sealed class ResultPayloadEncoder(ZeroMqEncoding encoding)
{
    private readonly JsonToMessagePack _transcoder = new();
    private readonly ReusableBufferWriter _encoded = new(1 << 16);

    /// <summary>The bytes to send (valid until the next call); false when the JSON is invalid (a reducer bug).</summary>
    public bool TryEncode(ResultSlot slot, out byte[] payload, out int length)
    {
        if (encoding == ZeroMqEncoding.Json)
        {
            payload = slot.Json;
            length = slot.JsonLength;
            return true;
        }

        _encoded.Reset();
        try
        {
            _transcoder.Transcode(slot.Json.AsSpan(0, slot.JsonLength), _encoded);
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
