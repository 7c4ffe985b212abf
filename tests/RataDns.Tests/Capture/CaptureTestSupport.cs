using System.Buffers.Binary;
using RataDns.Capture;

namespace RataDns.Tests.Capture;

/// <summary>A frame copied out of a reader callback, so it can be compared after reading.</summary>
internal sealed record RecordedFrame(
    long TimestampNanoseconds, LinkType LinkType, int InterfaceId, uint OriginalLength, byte[] Data, long FileOffset, long FrameNumber)
{
    public bool Equals(RecordedFrame? other) =>
        other is not null
        && TimestampNanoseconds == other.TimestampNanoseconds
        && LinkType == other.LinkType
        && InterfaceId == other.InterfaceId
        && OriginalLength == other.OriginalLength
        && Data.AsSpan().SequenceEqual(other.Data)
        && FileOffset == other.FileOffset
        && FrameNumber == other.FrameNumber;

    public override int GetHashCode() => HashCode.Combine(TimestampNanoseconds, FileOffset, FrameNumber);
}

/// <summary>Copies every frame into a list (test-only: allocates per frame).</summary>
internal struct FrameRecorder : ICaptureFrameHandler
{
    public FrameRecorder()
    {
    }

    public List<RecordedFrame> Frames { get; } = [];

    public readonly void OnFrame(in CapturedFrame frame) =>
        Frames.Add(new RecordedFrame(
            frame.TimestampNanoseconds, frame.LinkType, frame.InterfaceId, frame.OriginalLength, frame.Data.ToArray(),
            frame.FileOffset, frame.FrameNumber));
}

/// <summary>Counts frames without copying (used over the corpus).</summary>
internal sealed class FrameCounter : ICaptureFrameHandler
{
    public long Count { get; private set; }

    public List<long> Timestamps { get; } = [];

    public void OnFrame(in CapturedFrame frame)
    {
        Count++;
        Timestamps.Add(frame.TimestampNanoseconds);
    }
}

/// <summary>Where each record of a built capture starts, and whether it is a packet.</summary>
internal readonly record struct BuiltRecord(long Offset, bool IsFrame);

/// <summary>Test-only writer of capture files, in either byte order.</summary>
internal abstract class CaptureBuilder
{
    private readonly MemoryStream _bytes = new();

    protected CaptureBuilder(bool bigEndian)
    {
        BigEndian = bigEndian;
    }

    public List<BuiltRecord> Records { get; } = [];

    protected bool BigEndian { get; set; }

    public byte[] ToArray() => _bytes.ToArray();

    protected long Position => _bytes.Position;

    protected void U16(int value)
    {
        Span<byte> b = stackalloc byte[2];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        }

        _bytes.Write(b);
    }

    protected void U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        }

        _bytes.Write(b);
    }

    protected void Bytes(ReadOnlySpan<byte> data) => _bytes.Write(data);

    protected void Pad4(int length)
    {
        for (int i = length; (i & 3) != 0; i++)
        {
            _bytes.WriteByte(0);
        }
    }
}

internal sealed class PcapBuilder : CaptureBuilder
{
    public PcapBuilder(bool bigEndian, bool nanoseconds, LinkType linkType, uint snapLength = 65535)
        : base(bigEndian)
    {
        U32(nanoseconds ? 0xA1B23C4D : 0xA1B2C3D4);
        U16(2);
        U16(4);
        U32(0);
        U32(0);
        U32(snapLength);
        U32((ushort)linkType);
    }

    public PcapBuilder Add(uint seconds, uint fraction, byte[] data, uint? originalLength = null)
    {
        Records.Add(new BuiltRecord(Position, true));
        U32(seconds);
        U32(fraction);
        U32((uint)data.Length);
        U32(originalLength ?? (uint)data.Length);
        Bytes(data);
        return this;
    }

    /// <summary>A record header that claims <paramref name="includedLength"/> bytes, and nothing after it.</summary>
    public PcapBuilder AddHeaderOnly(uint includedLength)
    {
        Records.Add(new BuiltRecord(Position, true));
        U32(0);
        U32(0);
        U32(includedLength);
        U32(includedLength);
        return this;
    }
}

internal sealed class PcapNgBuilder : CaptureBuilder
{
    public PcapNgBuilder(bool bigEndian)
        : base(bigEndian)
    {
        Section(bigEndian);
    }

    public PcapNgBuilder Section(bool bigEndian)
    {
        BigEndian = bigEndian;
        byte[] sectionLength = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]; // -1: not specified
        byte[] body = [.. Be32(0x1A2B3C4D, bigEndian), .. U16Bytes(1), .. U16Bytes(0), .. sectionLength];
        return Block(0x0A0D0D0A, body, isFrame: false);
    }

    public PcapNgBuilder Interface(LinkType linkType, uint snapLength = 0, byte? tsResol = null, long? tsOffset = null)
    {
        var body = new List<byte>();
        body.AddRange(U16Bytes((ushort)linkType));
        body.AddRange(U16Bytes(0));
        body.AddRange(U32Bytes(snapLength));

        // if_name, to have an option that is not interpreted and needs padding.
        AddOption(body, 2, "eth0"u8.ToArray());
        if (tsResol is byte resolution)
        {
            AddOption(body, 9, [resolution]);
        }

        if (tsOffset is long offset)
        {
            var value = new byte[8];
            if (BigEndian)
            {
                BinaryPrimitives.WriteInt64BigEndian(value, offset);
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(value, offset);
            }

            AddOption(body, 14, value);
        }

        AddOption(body, 0, []);
        return Block(1, [.. body], isFrame: false);
    }

    public PcapNgBuilder Enhanced(int interfaceId, ulong ticks, byte[] data, uint? originalLength = null)
    {
        var body = new List<byte>();
        body.AddRange(U32Bytes((uint)interfaceId));
        body.AddRange(U32Bytes((uint)(ticks >> 32)));
        body.AddRange(U32Bytes((uint)ticks));
        body.AddRange(U32Bytes((uint)data.Length));
        body.AddRange(U32Bytes(originalLength ?? (uint)data.Length));
        body.AddRange(data);
        while ((body.Count & 3) != 0)
        {
            body.Add(0);
        }

        // opt_comment then opt_endofopt.
        AddOption(body, 1, "hi"u8.ToArray());
        AddOption(body, 0, []);
        return Block(6, [.. body], isFrame: true);
    }

    public PcapNgBuilder Simple(byte[] data, uint? originalLength = null)
    {
        var body = new List<byte>();
        body.AddRange(U32Bytes(originalLength ?? (uint)data.Length));
        body.AddRange(data);
        while ((body.Count & 3) != 0)
        {
            body.Add(0);
        }

        return Block(3, [.. body], isFrame: true);
    }

    public PcapNgBuilder Block(uint type, byte[] body, bool isFrame = false)
    {
        Records.Add(new BuiltRecord(Position, isFrame));
        int padded = (body.Length + 3) & ~3;
        U32(type);
        U32((uint)(12 + padded));
        Bytes(body);
        Pad4(body.Length);
        U32((uint)(12 + padded));
        return this;
    }

    private static byte[] Be32(uint value, bool bigEndian)
    {
        var b = new byte[4];
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        }

        return b;
    }

    private byte[] U16Bytes(int value)
    {
        var b = new byte[2];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        }

        return b;
    }

    private byte[] U32Bytes(uint value) => Be32(value, BigEndian);

    private void AddOption(List<byte> body, int code, byte[] value)
    {
        body.AddRange(U16Bytes(code));
        body.AddRange(U16Bytes(value.Length));
        body.AddRange(value);
        while ((body.Count & 3) != 0)
        {
            body.Add(0);
        }
    }
}

/// <summary>Temporary files and stream helpers for the reader tests.</summary>
internal static class CaptureTestIo
{
    public static string WriteTemp(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ratadns-capture-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static (List<RecordedFrame> Frames, CaptureReadError? Error, CaptureFileFormat Format) ReadFile(byte[] bytes)
    {
        string path = WriteTemp(bytes);
        try
        {
            return ReadFile(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static (List<RecordedFrame> Frames, CaptureReadError? Error, CaptureFileFormat Format) ReadFile(string path)
    {
        using var reader = CaptureFileReader.Open(path);
        var recorder = new FrameRecorder();
        long count = reader.ReadAll(ref recorder);
        Assert.Equal(count, recorder.Frames.Count);
        return (recorder.Frames, reader.Error, reader.Format);
    }

    public static async Task<(List<RecordedFrame> Frames, CaptureReadError? Error, CaptureFileFormat? Format)> ReadStream(
        byte[] bytes, int chunkSize)
    {
        using var stream = new ChunkedStream(bytes, chunkSize);
        var reader = new CaptureStreamReader(stream);
        var recorder = new FrameRecorder();
        long count = await reader.ReadAllAsync(recorder);
        Assert.Equal(count, recorder.Frames.Count);
        return (recorder.Frames, reader.Error, reader.Format);
    }
}

/// <summary>A read-only stream that hands out at most <c>chunkSize</c> bytes per read, like a slow pipe.</summary>
internal sealed class ChunkedStream(byte[] data, int chunkSize) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(chunkSize, buffer.Length), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
