namespace RataDns.Capture.Fragments;

/// <summary>What <see cref="IpFragmentReassembler.Add"/> did with a fragment.</summary>
public enum FragmentResult : byte
{
    /// <summary>Kept (or recognised as an exact duplicate) while the datagram is incomplete.</summary>
    Held,

    /// <summary>The fragment completed its datagram; the reassembled IP payload is handed out.</summary>
    Reassembled,

    /// <summary>
    /// Not kept: not a fragment, empty, a non-last fragment whose length is not a multiple of 8, ending past the
    /// largest IP datagram, inconsistent with the datagram's last fragment, or an IPv6 overlap (RFC 5722) or a
    /// fragment of a datagram already discarded for one.
    /// </summary>
    Invalid,

    /// <summary>Not kept because of <see cref="FragmentReassemblyOptions.MaxBufferedBytes"/>.</summary>
    Dropped,
}
