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
        if (_framing == SpeedyFraming.LengthPrefixed)
        {
            Span<byte> length = stackalloc byte[11];
            Utf8Formatter.TryFormat(json.Length, length, out int n);
            Append(length[..n]);
            Append(json);
        }
        else
        {
            Append(json);
            Append("\n"u8);
        }

        MessagesWritten++;
        if (status != DnsParseStatus.Ok)
        {
            Malformed++;
        }

        return status;
    }

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
