using System.Buffers.Binary;
using System.Text;

namespace RataDns.Capture.Dnstap;

/// <summary>Bounds of a <see cref="FrameStreamReader"/>.</summary>
public sealed record FrameStreamOptions
{
    /// <summary>The content type expected in START (a stream that names only others is refused).</summary>
    public string ContentType { get; init; } = FrameStreamReader.DnstapContentType;

    /// <summary>The largest data frame read; a longer one ends the stream (a DNS message is at most 64 KiB).</summary>
    public int MaxFrameBytes { get; init; } = 256 * 1024;

    /// <summary>The largest control frame read (they hold a type and a few content types).</summary>
    public int MaxControlBytes { get; init; } = 512;
}

/// <summary>
/// Reads a Frame Streams stream (the framing of fstrm, which dnstap uses): data frames are a 32-bit big-endian length
/// then the payload; a length of 0 escapes a control frame: its 32-bit length, its 32-bit type (ACCEPT 1, START 2,
/// STOP 3, READY 4, FINISH 5), then fields (32-bit type, 32-bit length, bytes; type 1 is a content type). A file is
/// START, data frames, STOP; a unidirectional socket stream the same; a bidirectional one begins READY / ACCEPT,
/// which the caller answers (<see cref="LastControl"/>). Control frames are bounded, unknown control types skipped,
/// and whatever a stream holds, reading ends with a reason in <see cref="Error"/> rather than an exception.
/// </summary>
public sealed class FrameStreamReader
{
    /// <summary>dnstap's content type.</summary>
    public const string DnstapContentType = "protobuf:dnstap.Dnstap";

    public const uint ControlAccept = 1;
    public const uint ControlStart = 2;
    public const uint ControlStop = 3;
    public const uint ControlReady = 4;
    public const uint ControlFinish = 5;
    private const uint FieldContentType = 1;

    private readonly Stream _stream;
    private readonly FrameStreamOptions _options;
    private readonly byte[] _header = new byte[4];
    private byte[] _buffer = new byte[4096];
    private bool _ended;

    public FrameStreamReader(Stream stream, FrameStreamOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _options = options ?? new FrameStreamOptions();
    }

    /// <summary>The content types the last READY, ACCEPT or START named (empty when it named none).</summary>
    public IReadOnlyList<string> ContentTypes { get; private set; } = [];

    /// <summary>The type of the last control frame read, 0 before any.</summary>
    public uint LastControl { get; private set; }

    /// <summary>Why reading stopped before a STOP or the clean end of the stream, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Data frames read.</summary>
    public long Frames { get; private set; }

    /// <summary>Control frames read, of a known type or not.</summary>
    public long ControlFrames { get; private set; }

    /// <summary>Control frames of a type Frame Streams does not define, skipped.</summary>
    public long UnknownControlFrames { get; private set; }

    /// <summary>Whether the stream ended with STOP or FINISH (not merely at its end).</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// The next data frame, valid until the next call; false at the end (STOP, FINISH, the end of the stream, or an
    /// <see cref="Error"/>). A control frame that the caller must answer (READY) also returns false with
    /// <paramref name="control"/> set, and reading may go on after the answer.
    /// </summary>
    public bool TryReadFrame(out ReadOnlyMemory<byte> frame, out bool control)
    {
        frame = default;
        control = false;
        while (!_ended)
        {
            int read = ReadFully(_header, 0, 4);
            if (read == 0)
            {
                _ended = true; // the clean end of the stream, between frames
                return false;
            }

            if (read < 4)
            {
                return Fail("the stream ends inside a frame length");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(_header);
            if (length != 0)
            {
                if (length > (uint)_options.MaxFrameBytes)
                {
                    return Fail($"a data frame of {length} bytes, more than the {_options.MaxFrameBytes} allowed");
                }

                if (!ReadPayload((int)length))
                {
                    return false;
                }

                Frames++;
                frame = new ReadOnlyMemory<byte>(_buffer, 0, (int)length);
                return true;
            }

            if (!ReadControl(out uint type))
            {
                return false;
            }

            switch (type)
            {
                case ControlStop or ControlFinish:
                    Stopped = true;
                    _ended = true;
                    return false;
                case ControlReady or ControlAccept:
                    control = true;
                    return false;
            }
        }

        return false;
    }

    /// <summary>The bytes of a control frame of <paramref name="type"/> naming <paramref name="contentType"/> (none for STOP and FINISH), as written on the wire.</summary>
    public static byte[] ControlFrame(uint type, string? contentType)
    {
        byte[] name = contentType is null ? [] : Encoding.ASCII.GetBytes(contentType);
        int body = 4 + (name.Length == 0 ? 0 : 8 + name.Length);
        var frame = new byte[8 + body];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)body);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), type);
        if (name.Length > 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), FieldContentType);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(16), (uint)name.Length);
            name.CopyTo(frame, 20);
        }

        return frame;
    }

    private bool ReadControl(out uint type)
    {
        type = 0;
        if (ReadFully(_header, 0, 4) < 4)
        {
            return Fail("the stream ends inside a control frame length");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(_header);
        if (length < 4 || length > (uint)_options.MaxControlBytes)
        {
            return Fail($"a control frame of {length} bytes (4 to {_options.MaxControlBytes} allowed)");
        }

        if (!ReadPayload((int)length))
        {
            return false;
        }

        ControlFrames++;
        var body = _buffer.AsSpan(0, (int)length);
        type = BinaryPrimitives.ReadUInt32BigEndian(body);
        LastControl = type;
        if (type is < ControlAccept or > ControlFinish)
        {
            UnknownControlFrames++;
            return true;
        }

        var types = new List<string>();
        var fields = body[4..];
        while (fields.Length >= 8)
        {
            uint field = BinaryPrimitives.ReadUInt32BigEndian(fields);
            uint fieldLength = BinaryPrimitives.ReadUInt32BigEndian(fields[4..]);
            if (fieldLength > (uint)(fields.Length - 8))
            {
                return Fail("a control frame field runs past its frame");
            }

            if (field == FieldContentType)
            {
                types.Add(Encoding.ASCII.GetString(fields.Slice(8, (int)fieldLength)));
            }

            fields = fields[(8 + (int)fieldLength)..];
        }

        if (fields.Length != 0)
        {
            return Fail("a control frame ends inside a field header");
        }

        if (type is ControlStart or ControlReady or ControlAccept)
        {
            ContentTypes = types;
            if (types.Count > 0 && !types.Contains(_options.ContentType))
            {
                return Fail($"content type {string.Join(", ", types)}, not {_options.ContentType}");
            }
        }

        return true;
    }

    private bool ReadPayload(int length)
    {
        if (_buffer.Length < length)
        {
            _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
        }

        return ReadFully(_buffer, 0, length) == length || Fail("the stream ends inside a frame");
    }

    private int ReadFully(byte[] buffer, int offset, int count)
    {
        int total = 0;
        while (total < count)
        {
            int n = _stream.Read(buffer, offset + total, count - total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private bool Fail(string reason)
    {
        Error ??= reason;
        _ended = true;
        return false;
    }
}
