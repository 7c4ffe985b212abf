using System.IO.MemoryMappedFiles;

namespace RataDns.Capture;

/// <summary>
/// Reads a pcap or pcapng file through a read-only memory mapping, zero copy: every frame's
/// <see cref="CapturedFrame.Data"/> is a span over the mapping. The format comes from the magic, not the name.
/// A truncated or corrupt record stops reading and is reported in <see cref="Error"/>, never thrown.
/// </summary>
public sealed unsafe class CaptureFileReader : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly CaptureRecordParser _parser = new();
    private readonly long _length;
    private byte* _base;

    private CaptureFileReader(MemoryMappedFile mapping, MemoryMappedViewAccessor view, long length, CaptureFileFormat format)
    {
        _mapping = mapping;
        _view = view;
        _length = length;
        Format = format;
        _base = AcquirePointerUnsafe(view);
    }

    public CaptureFileFormat Format { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length => _length;

    /// <summary>Why the last <see cref="ReadAll"/> stopped before the end of the file, or null if it read it all.</summary>
    public CaptureReadError? Error { get; private set; }

    /// <summary>
    /// Opens and maps <paramref name="path"/>. Throws the usual I/O exceptions for a missing or unreadable file, and
    /// <see cref="CaptureFormatException"/> when its first four bytes are not a pcap or pcapng magic.
    /// </summary>
    public static CaptureFileReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            Span<byte> magic = stackalloc byte[4];
            int read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            if (!CaptureRecordParser.TryDetectFormat(magic[..read], out var format))
            {
                throw new CaptureFormatException(read < 4
                    ? $"{path}: {read} bytes, too short to be a pcap or pcapng capture"
                    : $"{path}: not a pcap or pcapng capture (magic {Convert.ToHexString(magic).ToLowerInvariant()})");
            }

            long length = stream.Length;
            var mapping = MemoryMappedFile.CreateFromFile(
                stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                return new CaptureFileReader(mapping, view, length, format);
            }
            catch
            {
                mapping.Dispose();
                throw;
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Delivers every frame of the file, in order, to <paramref name="handler"/> and returns how many. Reading
    /// starts from the beginning on every call. On a truncated or corrupt record it stops, sets <see cref="Error"/>
    /// and returns the frames delivered before it.
    /// </summary>
    public long ReadAll<THandler>(ref THandler handler)
        where THandler : ICaptureFrameHandler, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        _parser.Reset();
        Error = null;
        long delivered = 0;
        long offset = 0;

        var status = _parser.ReadFileHeader(SpanAtUnsafe(0), out int consumed, out _);
        if (status != CaptureParseStatus.Skipped)
        {
            Stop(status, 0);
            return 0;
        }

        offset += consumed;
        while (offset < _length)
        {
            status = _parser.ReadRecord(SpanAtUnsafe(offset), offset, out consumed, out _, out var frame);
            if (status == CaptureParseStatus.Frame)
            {
                handler.OnFrame(in frame);
                delivered++;
            }
            else if (status != CaptureParseStatus.Skipped)
            {
                Stop(status, offset);
                break;
            }

            offset += consumed;
        }

        return delivered;
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _base = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }

        _view.Dispose();
        _mapping.Dispose();
    }

    /// <summary>
    /// Takes the mapped view's address once, for the life of the reader (released in <see cref="Dispose"/>). The
    /// view may start before the file offset 0 on a page boundary, hence the pointer offset.
    /// </summary>
    private static byte* AcquirePointerUnsafe(MemoryMappedViewAccessor view)
    {
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        return pointer + view.PointerOffset;
    }

    /// <summary>
    /// The mapped bytes from <paramref name="offset"/> to the end of the file, capped at int.MaxValue (records are
    /// far smaller than that, so a record always lies inside the span even in a file larger than 2 GiB).
    /// </summary>
    private ReadOnlySpan<byte> SpanAtUnsafe(long offset) =>
        new(_base + offset, (int)Math.Min(_length - offset, int.MaxValue));

    private void Stop(CaptureParseStatus status, long offset)
    {
        string message = status == CaptureParseStatus.NeedMoreData
            ? _parser.DescribeTruncation(offset, _length - offset)
            : _parser.LastError ?? $"corrupt record at offset {offset}";
        Error = new CaptureReadError(offset, _parser.FramesRead + 1, message);
    }
}
