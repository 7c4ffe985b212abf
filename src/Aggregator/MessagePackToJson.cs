using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MessagePack;

namespace RataDns.Aggregator;

/// <summary>
/// Transcodes one MessagePack value (a window result envelope) to JSON with the same structure, the inverse of the
/// monitor's <c>JsonToMessagePack</c>: maps become objects (str keys as they are, integer keys in decimal), arrays
/// arrays, str strings, integers JSON integers (exact, uint64 included), float64 the shortest JSON number that
/// round-trips, float32 its double value, nil null, bin base64 strings. Non-finite floats become null (JSON has
/// none). Extension types and other keys are refused.
/// </summary>
/// <remarks>
/// The output buffer and the writer are reused: once grown to the largest envelope a transcoding allocates only
/// what the reader does for str values. Not thread-safe: one instance per thread. Malformed input throws
/// <c>MessagePackSerializationException</c> (the reader checks declared lengths against what remains),
/// <see cref="EndOfStreamException"/> or <see cref="FormatException"/>.
/// </remarks>
public sealed class MessagePackToJson
{
    /// <summary>The nesting allowed; envelopes nest a few levels.</summary>
    public const int MaxDepth = 64;

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private readonly Utf8JsonWriter _writer;

    public MessagePackToJson()
    {
        _writer = new Utf8JsonWriter(_output, new JsonWriterOptions { SkipValidation = true, MaxDepth = MaxDepth + 1 });
    }

    /// <summary>The JSON of the single MessagePack value in <paramref name="messagePack"/>; valid until the next call.</summary>
    public ReadOnlySpan<byte> Transcode(ReadOnlyMemory<byte> messagePack)
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        var reader = new MessagePackReader(messagePack);
        WriteValue(ref reader, 0);
        if (!reader.End)
        {
            throw new FormatException("Bytes follow the MessagePack value.");
        }

        _writer.Flush();
        return _output.WrittenSpan;
    }

    private void WriteValue(ref MessagePackReader reader, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"MessagePack nested deeper than {MaxDepth}.");
        }

        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Map:
                int members = reader.ReadMapHeader();
                _writer.WriteStartObject();
                for (int i = 0; i < members; i++)
                {
                    WriteKey(ref reader);
                    WriteValue(ref reader, depth + 1);
                }

                _writer.WriteEndObject();
                break;
            case MessagePackType.Array:
                int items = reader.ReadArrayHeader();
                _writer.WriteStartArray();
                for (int i = 0; i < items; i++)
                {
                    WriteValue(ref reader, depth + 1);
                }

                _writer.WriteEndArray();
                break;
            case MessagePackType.String:
                WriteString(ref reader, propertyName: false);
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    _writer.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    _writer.WriteNumberValue(reader.ReadInt64());
                }

                break;
            case MessagePackType.Float:
                double value = reader.NextCode == MessagePackCode.Float32 ? reader.ReadSingle() : reader.ReadDouble();
                if (double.IsFinite(value))
                {
                    _writer.WriteNumberValue(value);
                }
                else
                {
                    _writer.WriteNullValue();
                }

                break;
            case MessagePackType.Boolean:
                _writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Nil:
                reader.ReadNil();
                _writer.WriteNullValue();
                break;
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes() ?? default;
                _writer.WriteBase64StringValue(bytes.IsSingleSegment ? bytes.FirstSpan : bytes.ToArray());
                break;
            default:
                throw new FormatException($"MessagePack type {reader.NextMessagePackType} has no JSON form.");
        }
    }

    private void WriteKey(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String:
                WriteString(ref reader, propertyName: true);
                break;
            case MessagePackType.Integer:
                _writer.WritePropertyName(reader.ReadInt64().ToString(CultureInfo.InvariantCulture));
                break;
            default:
                throw new FormatException($"A MessagePack map key of type {reader.NextMessagePackType} has no JSON form.");
        }
    }

    private void WriteString(ref MessagePackReader reader, bool propertyName)
    {
        if (reader.TryReadStringSpan(out var utf8))
        {
            if (propertyName)
            {
                _writer.WritePropertyName(utf8);
            }
            else
            {
                _writer.WriteStringValue(utf8);
            }

            return;
        }

        string? text = reader.ReadString();
        if (propertyName)
        {
            _writer.WritePropertyName(text ?? "");
        }
        else if (text is null)
        {
            _writer.WriteNullValue();
        }
        else
        {
            _writer.WriteStringValue(text);
        }
    }
}
