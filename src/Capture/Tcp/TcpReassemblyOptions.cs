namespace RataDns.Capture.Tcp;

/// <summary>Bounds of a <see cref="TcpDnsReassembler"/>. Every bound is enforced with a counted drop, never an exception.</summary>
public sealed class TcpReassemblyOptions
{
    /// <summary>The largest framed message: the 2-byte length prefix plus a 65535-byte message (RFC 1035 4.2.2).</summary>
    public const int LargestFramedMessage = 65535 + 2;

    /// <summary>The smallest framed message: the prefix plus a bare 12-byte DNS header (RFC 1035 4.1.1).</summary>
    public const int SmallestFramedMessage = 12 + 2;

    /// <summary>Connections tracked at once; the least recently used one is evicted to make room.</summary>
    public int MaxConnections { get; init; } = 65536;

    /// <summary>Bytes held across all connections (partial messages and out-of-order segments).</summary>
    public long MaxBufferedBytes { get; init; } = 64L << 20;

    /// <summary>A connection with no segment for this long is dropped by <see cref="TcpDnsReassembler.ExpireIdle"/>.</summary>
    public long IdleTimeoutNanoseconds { get; init; } = 30_000_000_000;

    /// <summary>
    /// The largest framed message (prefix included) that is buffered; a longer announced length is skipped without
    /// being buffered. Clamped to [<see cref="SmallestFramedMessage"/>, <see cref="LargestFramedMessage"/>].
    /// </summary>
    public int MaxMessageBytes { get; init; } = LargestFramedMessage;

    /// <summary>
    /// Out-of-order segments held per direction while waiting for a gap to fill; one more means the gap is a hole
    /// (data the capture lost) and the stream skips over it.
    /// </summary>
    public int MaxOutOfOrderSegments { get; init; } = 8;

    /// <summary>
    /// How long a gap may stay open: the first segment of the direction that arrives later than this after the
    /// oldest held one skips the gap as a hole. Retransmissions fill real gaps within a few round trips.
    /// </summary>
    public long OutOfOrderTimeoutNanoseconds { get; init; } = 2_000_000_000;
}
