using RataDns.Reducers;

namespace RataDns.Engine;

/// <summary>
/// Where one window ends and the next begins, decided from the sequence of frames alone: every W DNS packets, or at
/// each multiple of the window's duration in packet time. The capture thread keeps one; a worker that reads a file
/// itself (MonitorEngine.ScanFile) keeps its own, and cuts the same windows over the same frames.
/// </summary>
/// <remarks>For each DNS packet: <see cref="EndsBefore"/> (close the window first when true), <see cref="Enter"/>, and
/// once the packet is taken, <see cref="Count"/> (close the window after it when true).</remarks>
internal struct WindowCutter(long durationNanoseconds, int packetCount)
{
    /// <summary>The sequence number of the window in progress.</summary>
    public long Sequence;

    /// <summary>DNS packets counted into the window in progress.</summary>
    public long Packets;

    private long _first;
    private long _last;
    private long _index; // time windows: the window in progress is [_index * duration, (_index + 1) * duration)
    private long _next;  // time windows: the window of the packet EndsBefore was last asked about

    /// <summary>True when a DNS packet at <paramref name="time"/> belongs to a later time window than the one in progress.</summary>
    public bool EndsBefore(long time)
    {
        if (durationNanoseconds <= 0)
        {
            return false;
        }

        _next = FloorDiv(time, durationNanoseconds); // one division per packet, kept for Enter
        return Packets > 0 && _next > _index;
    }

    /// <summary>The packet <see cref="EndsBefore"/> was asked about is about to be taken: the time window moves to it.</summary>
    public void Enter()
    {
        if (durationNanoseconds > 0 && (Packets == 0 || _next > _index))
        {
            _index = _next;
        }
    }

    /// <summary>Counts a DNS packet at <paramref name="time"/> into the window; true when it is the window's last (W packets).</summary>
    public bool Count(long time)
    {
        if (Packets == 0)
        {
            _first = time;
        }

        _last = time;
        Packets++;
        return Packets == packetCount;
    }

    /// <summary>
    /// True when a time window ended by <paramref name="nowNanoseconds"/> on the wall clock, plus a margin for frames still
    /// in flight (at most a second), still holds packets (a live source gone quiet).
    /// </summary>
    public readonly bool IsOverdue(long nowNanoseconds) =>
        durationNanoseconds > 0 && Packets > 0
        && nowNanoseconds >= ((_index + 1) * durationNanoseconds) + Math.Min(durationNanoseconds, 1_000_000_000);

    /// <summary>Closes the window in progress: its summary (messages are filled in by the merger), and the next one starts.</summary>
    public WindowSummary Close(bool partial, long drops)
    {
        long start = 0;
        long end = 0;
        if (Packets > 0)
        {
            (start, end) = durationNanoseconds > 0
                ? (_index * durationNanoseconds, (_index * durationNanoseconds) + durationNanoseconds)
                : (_first, _last);
        }

        var summary = new WindowSummary(Sequence, start, end, Packets, 0, drops, partial);
        Sequence++;
        Packets = 0;
        return summary;
    }

    private static long FloorDiv(long value, long divisor)
    {
        long quotient = Math.DivRem(value, divisor, out long remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }
}
