namespace RataDns.Capture;

/// <summary>
/// One captured frame: a view into the file mapping or the stream reader's buffer. It is valid only during the
/// <see cref="ICaptureFrameHandler.OnFrame"/> call that receives it; copy what must outlive the call.
/// </summary>
public readonly ref struct CapturedFrame
{
    internal CapturedFrame(
        long timestampNanoseconds,
        LinkType linkType,
        int interfaceId,
        uint originalLength,
        ReadOnlySpan<byte> data,
        long fileOffset,
        long frameNumber)
    {
        TimestampNanoseconds = timestampNanoseconds;
        LinkType = linkType;
        InterfaceId = interfaceId;
        OriginalLength = originalLength;
        Data = data;
        FileOffset = fileOffset;
        FrameNumber = frameNumber;
    }

    /// <summary>Nanoseconds since the Unix epoch (pcap: seconds and micro/nanoseconds; pcapng: if_tsresol and if_tsoffset applied).</summary>
    public long TimestampNanoseconds { get; }

    public LinkType LinkType { get; }

    /// <summary>The pcapng Interface Description Block index within its section; 0 for pcap.</summary>
    public int InterfaceId { get; }

    /// <summary>The length of the frame on the wire (may exceed <see cref="Data"/>'s length when the snaplen cut it).</summary>
    public uint OriginalLength { get; }

    /// <summary>The captured bytes.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The offset of the record (pcap record header or pcapng block) in the file or stream.</summary>
    public long FileOffset { get; }

    /// <summary>1-based, counted like tshark's frame.number (packet records only, across all sections).</summary>
    public long FrameNumber { get; }
}

/// <summary>
/// Receives frames from a capture reader. Implement it on a struct and the reader's generic method is specialised
/// for it: no delegate, no boxing, no allocation per frame.
/// </summary>
public interface ICaptureFrameHandler
{
    void OnFrame(in CapturedFrame frame);
}
