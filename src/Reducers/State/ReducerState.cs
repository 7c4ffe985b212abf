using System.Buffers;
using System.Text;
using System.Text.Json;
using MessagePack;

namespace RataDns.Reducers.State;

/// <summary>
/// The container of one reducer's window state as it travels from a monitor to aggregators (and to storage): a
/// MessagePack map
/// <code>{"version": 1, "type": "TopNQ", "options": {"N": 10}, "state": &lt;the reducer's own value&gt;}</code>
/// where <c>options</c> are the reducer's configuration options as written in the monitor's configuration (so the
/// reader makes an instance with the same options through <see cref="ReducerRegistry"/>), and <c>state</c> is what
/// <see cref="Reducer.WriteState"/> wrote. The layout is documented in docs/wire-format.md, "Reducer state".
/// </summary>
/// <remarks>
/// <see cref="Version"/> changes only when the container changes; a reducer versions its own value when its layout
/// changes (every built-in one starts its value with its layout number). Reading never trusts a length: the header
/// is bounded (<see cref="MaxOptions"/>, <see cref="MaxTextLength"/>), and a failed read is an
/// <see cref="InvalidDataException"/> whatever went wrong, so a hostile or damaged state costs its caller that one
/// result.
/// </remarks>
public static class ReducerState
{
    /// <summary>The container's format version.</summary>
    public const int Version = 1;

    /// <summary>Most options a container may carry.</summary>
    public const int MaxOptions = 64;

    /// <summary>Longest type name, option name or option text.</summary>
    public const int MaxTextLength = 4096;

    private const int MaxOptionDepth = 8;

    /// <summary>
    /// Writes <paramref name="reducer"/>'s state in its container. <paramref name="options"/> are the options the
    /// reducer was configured with (<c>ReducerConfiguration.Options</c>; empty for defaults).
    /// </summary>
    /// <exception cref="NotSupportedException">The reducer has no state (<see cref="Reducer.HasState"/>).</exception>
    public static void Write(IBufferWriter<byte> output, Reducer reducer, IReadOnlyDictionary<string, JsonElement>? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reducer);
        if (!reducer.HasState)
        {
            throw new NotSupportedException($"{reducer.Type} does not write its state.");
        }

        var writer = new MessagePackWriter(output);
        writer.WriteMapHeader(4);
        writer.Write("version");
        writer.Write(Version);
        writer.Write("type");
        writer.Write(reducer.Type);
        writer.Write("options");
        if (options is not { Count: > 0 })
        {
            writer.WriteMapHeader(0); // the defaults: most reducers, every window
        }
        else
        {
            writer.WriteMapHeader(options.Count);
            foreach (var (name, value) in options.OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                writer.Write(name);
                WriteJson(ref writer, value, 0);
            }
        }

        writer.Write("state");
        reducer.WriteState(ref writer);
        writer.Flush();
    }

    /// <summary>The container of <paramref name="reducer"/>'s state as a new array (tests, tools).</summary>
    public static byte[] ToArray(Reducer reducer, IReadOnlyDictionary<string, JsonElement>? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, reducer, options);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads a container's header: its type, its options (as JSON values, the way a configuration file gives them)
    /// and where the reducer's own value lies.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a container of this version, or damaged.</exception>
    public static ReducerStateHeader ReadHeader(ReadOnlyMemory<byte> container)
    {
        try
        {
            var reader = new MessagePackReader(container);
            int members = reader.ReadMapHeader();
            if (members > 16)
            {
                throw new InvalidDataException($"a state container has 4 members, not {members}.");
            }

            int? version = null;
            string? type = null;
            Dictionary<string, JsonElement>? options = null;
            ReadOnlyMemory<byte>? body = null;
            for (int i = 0; i < members; i++)
            {
                string key = ReadText(ref reader, "a member name");
                switch (key)
                {
                    case "version":
                        version = reader.ReadInt32();
                        if (version != Version)
                        {
                            throw new InvalidDataException($"state container version {version}; this build reads version {Version}.");
                        }

                        break;
                    case "type":
                        type = ReadText(ref reader, "the type");
                        break;
                    case "options":
                        options = ReadOptions(ref reader);
                        break;
                    case "state":
                        long start = reader.Consumed;
                        reader.Skip();
                        body = container.Slice((int)start, (int)(reader.Consumed - start));
                        break;
                    default:
                        reader.Skip(); // a later container version's addition
                        break;
                }
            }

            if (!reader.End)
            {
                throw new InvalidDataException("bytes follow the state container.");
            }

            if (version is null || type is null || body is null)
            {
                throw new InvalidDataException($"the state container lacks {(version is null ? "\"version\"" : type is null ? "\"type\"" : "\"state\"")}.");
            }

            return new ReducerStateHeader(type, options ?? [], body.Value);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or DecoderFallbackException or JsonException)
        {
            throw new InvalidDataException($"damaged state container: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the reducer's own value (<see cref="ReducerStateHeader.Body"/>) into <paramref name="into"/>, an instance of
    /// the header's type and options, cleared first. On failure the instance is cleared again.
    /// </summary>
    /// <exception cref="InvalidDataException">The value is not a state of that reducer, or is damaged.</exception>
    public static void ReadInto(Reducer into, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!into.HasState)
        {
            throw new InvalidDataException($"{into.Type} does not read a state.");
        }

        into.Clear();
        try
        {
            var reader = new MessagePackReader(body);
            into.ReadState(ref reader);
            if (!reader.End)
            {
                throw new InvalidDataException($"bytes follow the {into.Type} state.");
            }
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidDataException or DecoderFallbackException or IndexOutOfRangeException or InvalidOperationException)
        {
            into.Clear();
            throw e is InvalidDataException ? e : new InvalidDataException($"damaged {into.Type} state: {e.Message}", e);
        }
    }

    /// <summary>Options in a canonical text (names sorted, compact JSON), to tell instances that merge apart.</summary>
    public static string CanonicalOptions(IReadOnlyDictionary<string, JsonElement> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, value) in options.OrderBy(o => o.Key, StringComparer.OrdinalIgnoreCase))
            {
                json.WritePropertyName(name);
                value.WriteTo(json);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Dictionary<string, JsonElement> ReadOptions(ref MessagePackReader reader)
    {
        int count = reader.ReadMapHeader();
        if (count > MaxOptions)
        {
            throw new InvalidDataException($"{count} options; a state carries at most {MaxOptions}.");
        }

        var options = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        var buffer = new ArrayBufferWriter<byte>();
        for (int i = 0; i < count; i++)
        {
            string name = ReadText(ref reader, "an option name");
            buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(buffer))
            {
                ReadJson(ref reader, json, 0);
            }

            using var document = JsonDocument.Parse(buffer.WrittenMemory);
            options[name] = document.RootElement.Clone();
        }

        return options;
    }

    private static string ReadText(ref MessagePackReader reader, string what)
    {
        if (reader.NextMessagePackType != MessagePackType.String)
        {
            throw new InvalidDataException($"{what} is not a string.");
        }

        string text = reader.ReadString() ?? "";
        if (text.Length > MaxTextLength)
        {
            throw new InvalidDataException($"{what} is longer than {MaxTextLength} characters.");
        }

        return text;
    }

    /// <summary>A configuration option's JSON value as MessagePack (numbers without a fraction as integers).</summary>
    private static void WriteJson(ref MessagePackWriter writer, JsonElement value, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when depth < MaxOptionDepth:
                var members = value.EnumerateObject().ToList();
                writer.WriteMapHeader(members.Count);
                foreach (var member in members)
                {
                    writer.Write(member.Name);
                    WriteJson(ref writer, member.Value, depth + 1);
                }

                break;
            case JsonValueKind.Array when depth < MaxOptionDepth:
                writer.WriteArrayHeader(value.GetArrayLength());
                foreach (var item in value.EnumerateArray())
                {
                    WriteJson(ref writer, item, depth + 1);
                }

                break;
            case JsonValueKind.String:
                writer.Write(value.GetString());
                break;
            case JsonValueKind.Number when value.TryGetInt64(out long integer):
                writer.Write(integer);
                break;
            case JsonValueKind.Number:
                writer.Write(value.GetDouble());
                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    private static void ReadJson(ref MessagePackReader reader, Utf8JsonWriter json, int depth)
    {
        if (depth > MaxOptionDepth)
        {
            throw new InvalidDataException($"an option nests deeper than {MaxOptionDepth}.");
        }

        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Map:
                int members = reader.ReadMapHeader();
                if (members > MaxOptions)
                {
                    throw new InvalidDataException($"an option holds {members} members.");
                }

                json.WriteStartObject();
                for (int i = 0; i < members; i++)
                {
                    json.WritePropertyName(ReadText(ref reader, "an option member name"));
                    ReadJson(ref reader, json, depth + 1);
                }

                json.WriteEndObject();
                break;
            case MessagePackType.Array:
                int items = reader.ReadArrayHeader();
                if (items > MaxOptions)
                {
                    throw new InvalidDataException($"an option holds {items} items.");
                }

                json.WriteStartArray();
                for (int i = 0; i < items; i++)
                {
                    ReadJson(ref reader, json, depth + 1);
                }

                json.WriteEndArray();
                break;
            case MessagePackType.String:
                json.WriteStringValue(ReadText(ref reader, "an option value"));
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    json.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    json.WriteNumberValue(reader.ReadInt64());
                }

                break;
            case MessagePackType.Float:
                double number = reader.ReadDouble();
                if (!double.IsFinite(number))
                {
                    throw new InvalidDataException("an option is not a finite number.");
                }

                json.WriteNumberValue(number);
                break;
            case MessagePackType.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Nil:
                reader.ReadNil();
                json.WriteNullValue();
                break;
            default:
                throw new InvalidDataException($"an option of MessagePack type {reader.NextMessagePackType}.");
        }
    }
}

/// <summary>What a state container says before the reducer reads its own value.</summary>
/// <param name="Type">The reducer's type name.</param>
/// <param name="Options">Its configuration options (ignoring case), as JSON values.</param>
/// <param name="Body">The reducer's own MessagePack value (a slice of the container).</param>
public sealed record ReducerStateHeader(string Type, IReadOnlyDictionary<string, JsonElement> Options, ReadOnlyMemory<byte> Body);
