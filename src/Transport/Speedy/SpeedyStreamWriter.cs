using System.Buffers.Text;
using RataDns.DnsWire;

namespace RataDns.Transport.Speedy;

/// <summary>
/// Frames Speedy messages onto a stream: <c>&lt;len&gt;{json}</c> (len = the JSON's byte length in decimal, no
/// separator) or one JSON object per line. Writes go through a buffer; call <see cref="Flush"/> at the end.
/// </summary>
public sealed class SpeedyStreamWriter : IDisposable
{
    private readonly Stream _output;
    private readonly SpeedyMessageWriter _messages;
    private readonly SpeedyFraming _framing;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _buffered;

    public SpeedyStreamWriter(Stream output, SpeedyOptions options)
    {
        _output = output;
        _messages = new SpeedyMessageWriter(options);
        _framing = options.Framing;
    }

    public long MessagesWritten { get; private set; }

    public long Malformed { get; private set; }

    /// <summary>Serializes one DNS message and appends it, framed, to the output.</summary>
    public DnsParseStatus Write(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message, long timestampNanoseconds)
    {
        var status = _messages.Write(source, destination, message, timestampNanoseconds);
        var json = _messages.Json;
        Span<byte> scratch = stackalloc byte[FrameScratchLength];
        Append(FrameStart(_framing, json.Length, scratch));
        Append(json);
        Append(FrameEnd(_framing));

        MessagesWritten++;
        if (status != DnsParseStatus.Ok)
        {
            Malformed++;
        }

        return status;
    }

    /// <summary>Bytes <see cref="FrameStart"/> needs to write the longest length prefix.</summary>
    internal const int FrameScratchLength = 11;

    /// <summary>What goes before a message's JSON of <paramref name="jsonLength"/> bytes: its length in decimal (Speedy's framing, written into <paramref name="scratch"/>), or nothing.</summary>
    internal static ReadOnlySpan<byte> FrameStart(SpeedyFraming framing, int jsonLength, Span<byte> scratch)
    {
        if (framing != SpeedyFraming.LengthPrefixed)
        {
            return [];
        }

        Utf8Formatter.TryFormat(jsonLength, scratch, out int n);
        return scratch[..n];
    }

    /// <summary>What goes after a message's JSON: a newline (one object per line), or nothing.</summary>
    internal static ReadOnlySpan<byte> FrameEnd(SpeedyFraming framing) => framing == SpeedyFraming.NewlineDelimited ? "\n"u8 : [];

    public void Flush()
    {
        if (_buffered > 0)
        {
            _output.Write(_buffer, 0, _buffered);
            _buffered = 0;
        }

        _output.Flush();
    }

    public void Dispose() => Flush();

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_buffered + bytes.Length > _buffer.Length)
        {
            _output.Write(_buffer, 0, _buffered);
            _buffered = 0;
            if (bytes.Length > _buffer.Length)
            {
                _output.Write(bytes);
                return;
            }
        }

        bytes.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += bytes.Length;
    }
}
