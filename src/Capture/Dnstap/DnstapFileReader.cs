namespace RataDns.Capture.Dnstap;

/// <summary>
/// Reads a Frame Streams file of dnstap messages (as <c>fstrm_capture</c> and servers' file sinks write them) as
/// <see cref="LinkType.Dnstap"/> frames, in file order. A damaged file ends the read with an <see cref="Error"/>; the
/// messages before it were handed over.
/// </summary>
public sealed class DnstapFileReader : IDisposable
{
    private readonly Stream _stream;
    private readonly DnstapPacketSource _source;

    public DnstapFileReader(Stream stream, DnstapInputStatistics? statistics = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _source = new DnstapPacketSource(statistics);
        Length = stream.CanSeek ? stream.Length : 0;
    }

    /// <summary>The file's size in bytes (0 for a stream that cannot tell).</summary>
    public long Length { get; }

    /// <summary>Why the read ended before the end of the stream, or null.</summary>
    public CaptureReadError? Error { get; private set; }

    public DnstapInputStatistics Statistics => _source.Statistics;

    /// <summary>
    /// Whether the file starts like a Frame Streams file: a 4-byte zero (the escape before a control frame; no pcap
    /// or pcapng file starts so). False for a file that cannot be read or is shorter than 4 bytes.
    /// </summary>
    public static bool IsFrameStreamsFile(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            Span<byte> start = stackalloc byte[4];
            return file.ReadAtLeast(start, 4, throwOnEndOfStream: false) == 4 && start.IndexOfAnyExcept((byte)0) < 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Opens a file for reading.</summary>
    /// <exception cref="IOException">It cannot be opened.</exception>
    public static DnstapFileReader Open(string path, DnstapInputStatistics? statistics = null) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan), statistics);

    /// <summary>Hands every message of the file to <paramref name="handler"/> as a frame; returns the frames handed over.</summary>
    public long ReadAll<THandler>(ref THandler handler)
        where THandler : struct, ICaptureFrameHandler
    {
        var reader = new FrameStreamReader(_stream);
        long handed = 0;
        while (true)
        {
            long offset = _stream.CanSeek ? _stream.Position : 0;
            if (reader.TryReadFrame(out var payload, out bool control))
            {
                if (_source.TryConvert(payload.Span, offset, out var frame))
                {
                    handler.OnFrame(in frame);
                    handed++;
                }

                continue;
            }

            if (control)
            {
                continue; // a READY or ACCEPT in a file: nobody to answer
            }

            if (reader.Error is { } error)
            {
                Error = new CaptureReadError(offset, _source.Statistics.Frames + 1, $"damaged Frame Streams data: {error}");
            }

            return handed;
        }
    }

    public void Dispose() => _stream.Dispose();
}
