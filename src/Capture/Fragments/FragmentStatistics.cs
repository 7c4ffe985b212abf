namespace RataDns.Capture.Fragments;

/// <summary>Counters of one <see cref="IpFragmentReassembler"/>; read them from the thread that owns it.</summary>
public sealed class FragmentStatistics
{
    /// <summary>Calls to <see cref="IpFragmentReassembler.Add"/>.</summary>
    public long Fragments { get; internal set; }

    /// <summary>Datagrams completed.</summary>
    public long Reassembled { get; internal set; }

    /// <summary>Fragments whose bytes were all held already, with the same content (RFC 5722 4 allows keeping the datagram).</summary>
    public long Duplicates { get; internal set; }

    /// <summary>
    /// Fragments overlapping held data with different bytes or only in part. IPv4: the held bytes win and the new
    /// ones fill only what was missing. IPv6: the whole datagram is discarded (RFC 5722 4).
    /// </summary>
    public long Overlaps { get; internal set; }

    /// <summary>Incomplete datagrams dropped after <see cref="FragmentReassemblyOptions.TimeoutNanoseconds"/>.</summary>
    public long Expired { get; internal set; }

    /// <summary>Incomplete datagrams dropped, oldest first, to stay within the caps.</summary>
    public long Evicted { get; internal set; }

    /// <summary>Fragments refused with <see cref="FragmentResult.Invalid"/>.</summary>
    public long Invalid { get; internal set; }

    /// <summary>Fragments refused with <see cref="FragmentResult.Dropped"/>.</summary>
    public long Dropped { get; internal set; }
}
