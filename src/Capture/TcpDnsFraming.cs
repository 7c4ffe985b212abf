using System.Buffers.Binary;

namespace RataDns.Capture;

/// <summary>
/// DNS over TCP frames each message with a 2-byte big-endian length (RFC 1035 4.2.2, RFC 7766 8). This splits one
/// TCP segment's payload into the messages that lie wholly inside it; what is left (a message continued in a
/// later segment) is reported for the stream reassembly to complete.
/// </summary>
public static class TcpDnsFraming
{
    /// <summary>The size of the length prefix.</summary>
    public const int LengthPrefixSize = 2;

    /// <summary>Enumerates the complete messages in <paramref name="segmentPayload"/>; use with foreach.</summary>
    public static TcpDnsMessageEnumerator Enumerate(ReadOnlySpan<byte> segmentPayload) => new(segmentPayload);
}

/// <summary>
/// Walks the length-prefixed DNS messages of one TCP segment payload. <see cref="Current"/> is a message without
/// its prefix. Once <see cref="MoveNext"/> returns false, <see cref="Leftover"/> holds the bytes of an incomplete
/// message (prefix included) and <see cref="Consumed"/> the bytes of the complete ones.
/// </summary>
public ref struct TcpDnsMessageEnumerator
{
    private readonly ReadOnlySpan<byte> _payload;
    private int _position;

    internal TcpDnsMessageEnumerator(ReadOnlySpan<byte> payload)
    {
        _payload = payload;
        _position = 0;
        Current = default;
    }

    /// <summary>The current message (without the 2-byte prefix).</summary>
    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>The bytes taken by the complete messages read so far, prefixes included.</summary>
    public readonly int Consumed => _position;

    /// <summary>The bytes after the last complete message: an incomplete prefix or message, or empty.</summary>
    public readonly ReadOnlySpan<byte> Leftover => _payload[_position..];

    /// <summary>
    /// The length announced by the leftover's prefix, or -1 when fewer than 2 leftover bytes hold no full prefix.
    /// </summary>
    public readonly int LeftoverAnnouncedLength =>
        _payload.Length - _position >= TcpDnsFraming.LengthPrefixSize
            ? BinaryPrimitives.ReadUInt16BigEndian(_payload[_position..])
            : -1;

    public readonly TcpDnsMessageEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next complete message; false when the rest is empty or incomplete.</summary>
    public bool MoveNext()
    {
        int left = _payload.Length - _position;
        if (left < TcpDnsFraming.LengthPrefixSize)
        {
            Current = default;
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(_payload[_position..]);
        if (length > left - TcpDnsFraming.LengthPrefixSize)
        {
            Current = default;
            return false;
        }

        Current = _payload.Slice(_position + TcpDnsFraming.LengthPrefixSize, length);
        _position += TcpDnsFraming.LengthPrefixSize + length;
        return true;
    }
}
