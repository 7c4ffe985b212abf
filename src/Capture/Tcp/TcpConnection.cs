namespace RataDns.Capture.Tcp;

/// <summary>
/// One tracked connection: a stream per direction and its place in the least-recently-used list. Instances are
/// recycled by the reassembler, so a connection costs an allocation only while the pool of free ones is empty.
/// </summary>
internal sealed class TcpConnection
{
    public TcpConnection(int maxOutOfOrderSegments)
    {
        FromLow = new TcpStreamDirection(maxOutOfOrderSegments);
        FromHigh = new TcpStreamDirection(maxOutOfOrderSegments);
    }

    public TcpConnectionKey Key { get; set; }

    /// <summary>The bytes from the lower endpoint of <see cref="Key"/> to the higher one.</summary>
    public TcpStreamDirection FromLow { get; }

    /// <summary>The bytes from the higher endpoint of <see cref="Key"/> to the lower one.</summary>
    public TcpStreamDirection FromHigh { get; }

    public long LastSeenNanoseconds { get; set; }

    /// <summary>The neighbour used more recently, or null at the head of the list.</summary>
    public TcpConnection? Newer { get; set; }

    /// <summary>The neighbour used less recently, or null at the tail of the list.</summary>
    public TcpConnection? Older { get; set; }

    public TcpStreamDirection Direction(bool fromLow) => fromLow ? FromLow : FromHigh;
}

/// <summary>A segment that arrived ahead of the expected sequence number, copied into a pooled buffer.</summary>
internal struct HeldSegment
{
    public uint Sequence;
    public byte[]? Data;
    public int Length;
}

/// <summary>
/// The receive state of one direction of a connection (RFC 9293 3.4's RCV.NXT and the data not yet delivered).
/// Plain state: <see cref="TcpDnsReassembler"/> holds the logic and the byte accounting.
/// </summary>
internal sealed class TcpStreamDirection
{
    public TcpStreamDirection(int maxOutOfOrderSegments)
    {
        Held = new HeldSegment[maxOutOfOrderSegments];
    }

    /// <summary>Whether <see cref="NextSequence"/> is known (a SYN or a first data segment was seen).</summary>
    public bool HasSequence;

    /// <summary>The sequence number of the next byte expected, modulo 2^32.</summary>
    public uint NextSequence;

    /// <summary>
    /// Whether the undelivered bytes start at a message boundary. False after joining mid-stream or a hole, until a
    /// plausible message start is found.
    /// </summary>
    public bool Aligned;

    /// <summary>Whether this direction sent its FIN: nothing more is accepted.</summary>
    public bool Finished;

    /// <summary>Bytes still to discard of a message announced longer than the bound (framing is kept).</summary>
    public int SkipRemaining;

    /// <summary>In-order bytes not yet delivered (an incomplete message), from the array pool.</summary>
    public byte[]? Buffer;

    public int BufferLength;

    /// <summary>Out-of-order segments; the first <see cref="HeldCount"/> are in use, in no particular order.</summary>
    public readonly HeldSegment[] Held;

    public int HeldCount;

    /// <summary>When the oldest segment now held arrived.</summary>
    public long HeldSinceNanoseconds;

    public int HeldBytes;
}
