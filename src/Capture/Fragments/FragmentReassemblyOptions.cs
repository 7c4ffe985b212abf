namespace RataDns.Capture.Fragments;

/// <summary>Bounds of an <see cref="IpFragmentReassembler"/>: how long a datagram may stay incomplete and how much it may hold.</summary>
public sealed class FragmentReassemblyOptions
{
    /// <summary>The most <see cref="MaxDatagrams"/> may be: it sizes the hash table once, up front.</summary>
    public const int MaxDatagramsLimit = 1 << 20;

    /// <summary>
    /// How long an incomplete datagram is kept after its first fragment arrived. RFC 791 3.2 suggests an initial
    /// reassembly timer of 15 seconds; RFC 8200 4.5 says 60 seconds at most; Linux uses 30 (ipfrag_time).
    /// </summary>
    public long TimeoutNanoseconds { get; init; } = 30_000_000_000;

    /// <summary>The bytes of pooled buffers held by incomplete datagrams (their rented lengths, so a slight overcount).</summary>
    public long MaxBufferedBytes { get; init; } = 16L << 20;

    /// <summary>Incomplete datagrams held at once; 1 to <see cref="MaxDatagramsLimit"/>.</summary>
    public int MaxDatagrams { get; init; } = 8192;
}
