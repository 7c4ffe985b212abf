namespace RataDns.Capture.Tcp;

/// <summary>
/// Counters of a <see cref="TcpDnsReassembler"/>. Written by the reassembler's (single) owning thread only; read
/// them there, or take a <see cref="Snapshot"/> there and hand the copy on.
/// </summary>
public sealed class TcpReassemblyStatistics
{
    /// <summary>Segments given to <see cref="TcpDnsReassembler.Add"/>.</summary>
    public long Segments;

    /// <summary>Messages delivered to the handler.</summary>
    public long Messages;

    /// <summary>Messages delivered straight from the segment, with no copy.</summary>
    public long MessagesWithoutCopy;

    /// <summary>Segments whose payload lies wholly before the expected sequence number, dropped.</summary>
    public long Retransmissions;

    /// <summary>Segments that start before the expected sequence number but carry new bytes too (only those are used).</summary>
    public long Overlaps;

    /// <summary>Segments ahead of the expected sequence number, held until the gap fills.</summary>
    public long OutOfOrder;

    /// <summary>Gaps that never filled: the stream skipped over bytes the capture lost.</summary>
    public long Holes;

    /// <summary>Sequence space skipped over at holes (bytes never seen).</summary>
    public long HoleBytes;

    /// <summary>Bytes seen but not delivered: partial messages cut by a hole or a close, bytes passed over to resynchronise, oversized messages.</summary>
    public long BytesSkipped;

    /// <summary>Times the framing was re-found (after joining mid-stream or after a hole) at a plausible message start.</summary>
    public long Resynchronisations;

    /// <summary>Directions whose first segment seen carried data but no SYN (the capture joined mid-stream).</summary>
    public long MidStreamJoins;

    /// <summary>Announced lengths above <see cref="TcpReassemblyOptions.MaxMessageBytes"/>, skipped without buffering.</summary>
    public long OversizedMessages;

    /// <summary>Incomplete messages dropped when a direction closed, timed out or was evicted.</summary>
    public long IncompleteMessagesDropped;

    /// <summary>Data segments for a direction that had already sent its FIN, dropped.</summary>
    public long SegmentsAfterClose;

    /// <summary>Segments that are not TCP or whose addresses are not 4 or 16 bytes, ignored.</summary>
    public long Ignored;

    public long ConnectionsOpened;

    /// <summary>Connections closed by FIN in both directions or by RST.</summary>
    public long ConnectionsClosed;

    /// <summary>Connections dropped by <see cref="TcpDnsReassembler.ExpireIdle"/>.</summary>
    public long ConnectionsTimedOut;

    /// <summary>Connections dropped by <see cref="TcpDnsReassembler.Flush"/> at the end of a capture.</summary>
    public long ConnectionsFlushed;

    /// <summary>Connections evicted (least recently used first) to stay within the connection or buffered-bytes caps.</summary>
    public long Evictions;

    /// <summary>A copy of the counters as they are now.</summary>
    public TcpReassemblyStatistics Snapshot() => (TcpReassemblyStatistics)MemberwiseClone();
}
