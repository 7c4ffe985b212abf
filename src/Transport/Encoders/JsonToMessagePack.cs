using System.Buffers;
using System.Text.Json;
using MessagePack;

namespace RataDns.Transport.Encoders;

/// <summary>
/// Transcodes one JSON value (a window result envelope) to MessagePack with the same structure, so a subscriber
/// gets the same dictionary from <c>msgpack.unpackb</c> as from <c>json.loads</c> of the JSON mode:
/// objects become maps with str keys, arrays arrays, strings str (UTF-8), true/false/null themselves; a number
/// written without '.', 'e' or 'E' becomes an int in its smallest encoding (as Python's json makes it an int), any
/// other number a float64. An integer beyond the 64-bit range (never written by RataDns) becomes a float64.
/// </summary>
/// <remarks>
/// Two passes over the JSON: the first counts the members of every object and array (MessagePack writes a
/// container's length before its members), the second writes. The counts and the buffer for unescaped strings are
/// reused, so a transcoding allocates nothing once they have grown to the largest envelope. Not thread-safe: one
/// instance per thread. The input is produced by RataDns's own writers; malformed JSON is API misuse and throws
/// <see cref="JsonException"/>.
/// </remarks>
public sealed class JsonToMessagePack
{
    /// <summary>The nesting allowed (the reader's limit); envelopes nest a few levels.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    private readonly int[] _open = new int[MaxDepth];
    private int[] _counts = new int[64];
    private byte[] _unescaped = new byte[256];

    /// <summary>Writes the MessagePack form of the single JSON value in <paramref name="json"/> to <paramref name="output"/>.</summary>
    public void Transcode(ReadOnlySpan<byte> json, IBufferWriter<byte> output) => Transcode(json, output, 0);

    /// <summary>
    /// As <see cref="Transcode(ReadOnlySpan{byte}, IBufferWriter{byte})"/>, for a JSON object to which the caller
    /// appends <paramref name="extraRootMembers"/> more members (key and value) right after: the root map's header
    /// counts them.
    /// </summary>
    public void Transcode(ReadOnlySpan<byte> json, IBufferWriter<byte> output, int extraRootMembers)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(extraRootMembers);
        CountMembers(json);
        _counts[0] += extraRootMembers;
        var reader = new Utf8JsonReader(json, ReaderOptions);
        var writer = new MessagePackWriter(output);
        int container = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    writer.WriteMapHeader(_counts[container++]);
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteArrayHeader(_counts[container++]);
                    break;
                case JsonTokenType.PropertyName:
                case JsonTokenType.String:
                    WriteString(ref reader, ref writer);
                    break;
                case JsonTokenType.Number:
                    WriteNumber(ref reader, ref writer);
                    break;
                case JsonTokenType.True:
                    writer.Write(true);
                    break;
                case JsonTokenType.False:
                    writer.Write(false);
                    break;
                case JsonTokenType.Null:
                    writer.WriteNil();
                    break;
                default:
                    break; // EndObject, EndArray: MessagePack containers have no end marker.
            }
        }

        writer.Flush();
    }

    /// <summary>First pass: <c>_counts[k]</c> = members of the k-th container in document order.</summary>
    private void CountMembers(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        int containers = 0;
        int depth = 0;
        while (reader.Read())
        {
            var token = reader.TokenType;
            switch (token)
            {
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    depth--;
                    continue;
                case JsonTokenType.PropertyName:
                case JsonTokenType.Comment:
                    continue;
            }

            // A value starts: one more member of its container (an object's property has exactly one value).
            if (depth > 0)
            {
                _counts[_open[depth - 1]]++;
            }

            if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                if (containers == _counts.Length)
                {
                    Array.Resize(ref _counts, containers * 2);
                }

                _counts[containers] = 0;
                _open[depth++] = containers++; // depth < MaxDepth: the reader enforces it
            }
        }
    }

    private void WriteString(ref Utf8JsonReader reader, ref MessagePackWriter writer)
    {
        if (!reader.ValueIsEscaped)
        {
            writer.WriteString(reader.ValueSpan);
            return;
        }

        // Unescaped text is never longer than its escaped form.
        if (_unescaped.Length < reader.ValueSpan.Length)
        {
            _unescaped = new byte[Math.Max(reader.ValueSpan.Length, _unescaped.Length * 2)];
        }

        int length = reader.CopyString(_unescaped);
        writer.WriteString(_unescaped.AsSpan(0, length));
    }

    private static void WriteNumber(ref Utf8JsonReader reader, ref MessagePackWriter writer)
    {
        if (reader.ValueSpan.IndexOfAny(".eE"u8) < 0)
        {
            if (reader.TryGetInt64(out long signed))
            {
                writer.Write(signed); // smallest of fixint, int8..int64, uint8..uint64
                return;
            }

            if (reader.TryGetUInt64(out ulong unsigned))
            {
                writer.Write(unsigned);
                return;
            }
        }

        writer.Write(reader.GetDouble()); // float64, never float32: no precision lost
    }
}
