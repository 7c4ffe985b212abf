using System.Buffers;
using System.IO.Pipelines;

namespace RataDns.Capture;

/// <summary>
/// Reads a pcap or pcapng capture from a stream as it arrives (e.g. <c>tcpdump -U -w - | ratadns ...</c> on
/// stdin), through a <see cref="PipeReader"/>. Every complete record in the buffered bytes is parsed at once; a
/// record split across buffer segments is copied into one reusable scratch buffer, so nothing is allocated per
/// frame. The end of the stream inside a record is reported in <see cref="Error"/>, with the frames before it
/// delivered. The format code is <see cref="CaptureRecordParser"/>, shared with <see cref="CaptureFileReader"/>.
/// </summary>
public sealed class CaptureStreamReader
{
    private const int ReadBufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly CaptureRecordParser _parser = new();
    private byte[] _scratch = [];
    private long _offset;
    private long _delivered;
    private bool _headerRead;

    /// <summary>Reads from <paramref name="stream"/>, which is left open.</summary>
    public CaptureStreamReader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>The format, once the first four bytes have arrived.</summary>
    public CaptureFileFormat? Format { get; private set; }

    /// <summary>Why reading stopped before the end of the stream, or null.</summary>
    public CaptureReadError? Error { get; private set; }

    /// <summary>
    /// Delivers every frame to <paramref name="handler"/> as it arrives, until the end of the stream, a corrupt
    /// record, or cancellation; returns the number of frames delivered. The handler is called on the thread that
    /// runs the continuation; a struct handler is copied in, so give it references for what it must report back.
    /// Throws <see cref="CaptureFormatException"/> when the stream does not start with a pcap or pcapng magic.
    /// </summary>
    public async Task<long> ReadAllAsync<THandler>(THandler handler, CancellationToken ct = default)
        where THandler : ICaptureFrameHandler
    {
        var reader = PipeReader.Create(
            _stream, new StreamPipeReaderOptions(bufferSize: ReadBufferSize, minimumReadSize: 4096, leaveOpen: true));
        _parser.Reset();
        _offset = 0;
        _delivered = 0;
        _headerRead = false;
        Error = null;
        Format = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                bool done = ProcessBuffer(ref handler, buffer, result.IsCompleted, out var consumed);
                reader.AdvanceTo(consumed, buffer.End);
                if (done)
                {
                    break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }

        return _delivered;
    }

    /// <summary>
    /// Parses every complete record in <paramref name="buffer"/>. Returns true when reading must end (end of
    /// stream reached, or a corrupt record); <paramref name="consumed"/> is where the next record starts.
    /// </summary>
    private bool ProcessBuffer<THandler>(
        ref THandler handler, ReadOnlySequence<byte> buffer, bool isCompleted, out SequencePosition consumed)
        where THandler : ICaptureFrameHandler
    {
        var remaining = buffer;
        consumed = buffer.Start;
        if (!_headerRead)
        {
            if (Format is null)
            {
                Span<byte> magic = stackalloc byte[4];
                if (remaining.Length < 4)
                {
                    if (isCompleted)
                    {
                        throw new CaptureFormatException(
                            $"the capture stream ended after {remaining.Length} bytes, before a 4-byte pcap or pcapng magic");
                    }

                    return false;
                }

                remaining.Slice(0, 4).CopyTo(magic);
                if (!CaptureRecordParser.TryDetectFormat(magic, out var format))
                {
                    throw new CaptureFormatException(
                        $"the capture stream is not pcap or pcapng (magic {Convert.ToHexString(magic).ToLowerInvariant()})");
                }

                Format = format;
            }

            var status = Step(ref remaining, isCompleted, header: true, out _, out bool wait);
            if (wait)
            {
                return false;
            }

            if (status != CaptureParseStatus.Skipped)
            {
                return true;
            }

            _headerRead = true;
            consumed = remaining.Start;
        }

        while (remaining.Length > 0)
        {
            var status = Step(ref remaining, isCompleted, header: false, out var frame, out bool wait);
            if (wait)
            {
                return false;
            }

            if (status == CaptureParseStatus.Frame)
            {
                handler.OnFrame(in frame);
                _delivered++;
            }
            else if (status != CaptureParseStatus.Skipped)
            {
                return true;
            }

            consumed = remaining.Start;
        }

        return isCompleted;
    }

    /// <summary>
    /// Reads one record (or the file header) from the front of <paramref name="remaining"/> and moves past it.
    /// The first segment is offered as is; when the record runs past it, the record's bytes are gathered into the
    /// scratch buffer once the sequence holds them all. <paramref name="wait"/> is set when more data must arrive
    /// first; at the end of the stream that becomes a truncation error instead.
    /// </summary>
    private CaptureParseStatus Step(
        ref ReadOnlySequence<byte> remaining, bool isCompleted, bool header, out CapturedFrame frame, out bool wait)
    {
        frame = default;
        wait = false;
        var span = remaining.FirstSpan;
        while (true)
        {
            int consumed;
            int needed;
            var status = header
                ? _parser.ReadFileHeader(span, out consumed, out needed)
                : _parser.ReadRecord(span, _offset, out consumed, out needed, out frame);
            if (status != CaptureParseStatus.NeedMoreData)
            {
                if (status is CaptureParseStatus.Frame or CaptureParseStatus.Skipped)
                {
                    remaining = remaining.Slice(consumed);
                    _offset += consumed;
                }
                else
                {
                    Error = new CaptureReadError(
                        _offset, _parser.FramesRead + 1, _parser.LastError ?? $"corrupt record at offset {_offset}");
                }

                return status;
            }

            if (remaining.Length < needed)
            {
                if (isCompleted)
                {
                    Error = new CaptureReadError(
                        _offset, _parser.FramesRead + 1, _parser.DescribeTruncation(_offset, remaining.Length));
                    return CaptureParseStatus.NeedMoreData;
                }

                wait = true;
                return CaptureParseStatus.NeedMoreData;
            }

            // The sequence holds the bytes asked for, but not in one segment: gather them. The parser's bounds
            // (record and block lengths) bound the scratch buffer, which only ever grows.
            if (_scratch.Length < needed)
            {
                _scratch = new byte[Math.Max(needed, Math.Max(ReadBufferSize, _scratch.Length * 2))];
            }

            remaining.Slice(0, needed).CopyTo(_scratch);
            span = _scratch.AsSpan(0, needed);
        }
    }
}
