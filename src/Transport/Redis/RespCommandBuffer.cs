using System.Text;

namespace RataDns.Transport.Redis;

/// <summary>
/// Builds a batch of Redis commands in the RESP2 request form (an array of bulk strings,
/// https://redis.io/docs/latest/develop/reference/protocol-spec/#sending-commands-to-a-redis-server) in one reused
/// buffer that grows to the largest batch seen.
/// </summary>
internal sealed class RespCommandBuffer
{
    private static readonly byte[] PublishPrefix = "*3\r\n$7\r\nPUBLISH\r\n"u8.ToArray();

    // "$" + a length of at most 10 digits + "\r\n", and the "\r\n" after the bulk string.
    private const int BulkOverhead = 1 + 10 + 2 + 2;

    private byte[] _buffer;

    public RespCommandBuffer(int initialSize) => _buffer = new byte[initialSize];

    /// <summary>Bytes written since the last <see cref="Clear"/>.</summary>
    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Appends <c>PUBLISH channel payload</c>; the channel is sent as UTF-8.</summary>
    public void AppendPublish(string channel, ReadOnlySpan<byte> payload)
    {
        int channelBytes = Encoding.UTF8.GetByteCount(channel);
        EnsureRoom(PublishPrefix.Length + (2 * BulkOverhead) + channelBytes + payload.Length);
        var span = _buffer.AsSpan(Length);
        PublishPrefix.CopyTo(span);
        int at = PublishPrefix.Length;
        at += WriteBulkHeader(span[at..], channelBytes);
        at += Encoding.UTF8.GetBytes(channel, span[at..]);
        at += WriteCrLf(span[at..]);
        at += WriteBulkHeader(span[at..], payload.Length);
        payload.CopyTo(span[at..]);
        at += payload.Length;
        at += WriteCrLf(span[at..]);
        Length += at;
    }

    private static int WriteBulkHeader(Span<byte> destination, int length)
    {
        destination[0] = (byte)'$';
        length.TryFormat(destination[1..], out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
        return 1 + digits + WriteCrLf(destination[(1 + digits)..]);
    }

    private static int WriteCrLf(Span<byte> destination)
    {
        destination[0] = (byte)'\r';
        destination[1] = (byte)'\n';
        return 2;
    }

    private void EnsureRoom(int needed)
    {
        if (_buffer.Length - Length < needed)
        {
            Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, (long)Length + needed)));
        }
    }
}
