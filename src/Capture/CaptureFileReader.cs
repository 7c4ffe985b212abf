using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace RataDns.Capture;

/// <summary>
/// Reads a pcap or pcapng file through a read-only memory mapping, zero copy: every frame's
/// <see cref="CapturedFrame.Data"/> is a span over the mapping. The format comes from the magic, not the name.
/// A truncated or corrupt record stops reading and is reported in <see cref="Error"/>, never thrown.
/// </summary>
public sealed unsafe partial class CaptureFileReader : IDisposable
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
        long released = 0;
        long populated = 0;
        long prefetched = offset;
        while (offset < _length)
        {
            if (offset >= populated - PopulateAheadBytes / 2)
            {
                populated = PopulateAhead(populated);
            }

            prefetched = PrefetchAhead(prefetched, offset);

            status = _parser.ReadRecord(SpanAtUnsafe(offset), offset, out consumed, out _, out var frame);
            if (status == CaptureParseStatus.Frame)
            {
                handler.OnFrame(in frame);
                delivered++;
                if (offset - released >= ReleaseBehindBytes)
                {
                    released = ReleaseBehind(released, offset);
                }
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

    /// <summary>
    /// Asks the CPU to load the cache lines <see cref="PrefetchDistance"/> bytes ahead of <paramref name="offset"/> that
    /// earlier calls did not ask for: a record is read once, straight from the page cache, so without this every
    /// frame's first bytes are a miss to memory (the hardware prefetcher stops at page boundaries), and the capture
    /// thread waits for it. Returns the new prefetch mark.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long PrefetchAhead(long prefetched, long offset)
    {
        if (!Sse.IsSupported)
        {
            return prefetched;
        }

        long until = Math.Min(_length, offset + PrefetchDistance);
        while (prefetched < until)
        {
            Sse.Prefetch0(_base + prefetched);
            prefetched += CacheLine;
        }

        return prefetched;
    }

    /// <summary>
    /// Gives the pages of the file already read back to the OS (Linux <c>madvise(MADV_DONTNEED)</c>: they stay in the
    /// page cache, but leave this process's resident set), so reading a file of any size keeps the memory of a few
    /// tens of MB, not of the file. Frames are only valid during <c>OnFrame</c>, so nothing points there any more.
    /// Returns the new release mark.
    /// </summary>
    private long ReleaseBehind(long from, long upTo)
    {
        if (!OperatingSystem.IsLinux())
        {
            return upTo;
        }

        // Whole pages only: the page holding the next record stays.
        long start = ((long)(nint)(_base + from) + Page - 1) & ~(Page - 1);
        long end = (long)(nint)(_base + upTo) & ~(Page - 1);
        return Advise(start, end, MadviseDontNeed) is null
            ? long.MaxValue / 2 // no madvise: stop trying
            : upTo;
    }

    /// <summary>
    /// Maps the next <see cref="PopulateAheadBytes"/> of the file into the page tables in one call (Linux 5.14+
    /// <c>madvise(MADV_POPULATE_READ)</c>) instead of a page fault every 64 KiB as the reader reaches them: on a
    /// virtual machine each fault is an exit to the hypervisor, about 6% of the capture thread's time over a cached
    /// 1.4 GB file. Returns the new populated mark; on a kernel without it (EINVAL), the faults happen as before.
    /// </summary>
    private long PopulateAhead(long from)
    {
        long to = Math.Min(_length, from + PopulateAheadBytes);
        if (!OperatingSystem.IsLinux() || !_populate || to <= from)
        {
            return long.MaxValue / 2;
        }

        // Every page the range touches.
        long start = (long)(nint)(_base + from) & ~(Page - 1);
        long end = ((long)(nint)(_base + to) + Page - 1) & ~(Page - 1);
        if (Advise(start, end, MadvisePopulateRead) != 0)
        {
            _populate = false; // not supported here, or no libc madvise: fault as before
        }

        return to;
    }

    /// <summary><c>madvise</c> over the pages from <paramref name="start"/> to <paramref name="end"/> (page-aligned addresses): its result, or null without a libc madvise.</summary>
    private static int? Advise(long start, long end, int advice)
    {
        if (end <= start)
        {
            return 0;
        }

        try
        {
            return Madvise((nint)start, (nuint)(end - start), advice);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private const long Page = 4096;

    private const long CacheLine = 64;

    /// <summary>How far ahead of the reader cache lines are prefetched (a few records: enough for a miss to memory to complete).</summary>
    private const long PrefetchDistance = 1024;

    private const int MadviseDontNeed = 4;
    private const int MadvisePopulateRead = 22;

    /// <summary>Bytes mapped ahead of the reader by one <see cref="PopulateAhead"/>.</summary>
    private const long PopulateAheadBytes = 4L << 20;

    private bool _populate = true;

    /// <summary>Bytes read between two releases of the pages behind.</summary>
    private const long ReleaseBehindBytes = 16L << 20;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

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
