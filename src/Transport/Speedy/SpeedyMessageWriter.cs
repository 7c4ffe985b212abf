using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using RataDns.DnsWire;

namespace RataDns.Transport.Speedy;

/// <summary>
/// Writes one DNS message as a Speedy JSON object:
/// <c>{"source","dest","id","flags","queries":[{"qname","qtype","qclass"}],"answers":[...],"authorities":[...],"additionals":[...]}</c>
/// with records <c>{"name","type","class","ttl","rdata"}</c> (NS records also carry <c>"ns":[target]</c>). Every value
/// is a string; id and flags are lowercase hex without padding. A malformed message still gets everything read
/// before the fault plus <c>"malformed":{"reason","section","offset"}</c>.
/// The writer and its scratch buffers are reused from message to message: nothing is allocated per message.
/// One instance per thread.
/// </summary>
public sealed class SpeedyMessageWriter
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Names and RDATA are already escaped to printable ASCII; keep them readable (no \u003C for '<').
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly SpeedyOptions _options;
    private readonly ArrayBufferWriter<byte> _json = new(4096);
    private readonly Utf8JsonWriter _writer;
    private readonly byte[] _text = new byte[DnsPresentation.MaxRdataLength];

    public SpeedyMessageWriter(SpeedyOptions options)
    {
        _options = options;
        _writer = new Utf8JsonWriter(_json, JsonOptions);
    }

    /// <summary>The JSON of the last message written by <see cref="Write"/>, valid until the next call.</summary>
    public ReadOnlySpan<byte> Json => _json.WrittenSpan;

    /// <summary>Builds the JSON of one message; read it from <see cref="Json"/>.</summary>
    /// <param name="source">Source address, 4 or 16 bytes.</param>
    /// <param name="destination">Destination address, 4 or 16 bytes.</param>
    /// <param name="message">The DNS message (for TCP, without its 2-byte length).</param>
    /// <param name="timestampNanoseconds">Capture time since 1970, written only with <see cref="SpeedyOptions.Timestamps"/>.</param>
    /// <returns>The message's parse status.</returns>
    public DnsParseStatus Write(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message, long timestampNanoseconds)
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        var w = _writer;
        var sections = _options.Sections;
        var reader = new DnsMessageReader(message);
        var header = reader.Header;

        w.WriteStartObject();
        if (_options.Timestamps)
        {
            WriteTimestamp(timestampNanoseconds);
        }

        if ((sections & SpeedySections.Source) != 0)
        {
            WriteAddress(Keys.KeySource, source);
        }

        if ((sections & SpeedySections.Destination) != 0)
        {
            WriteAddress(Keys.KeyDest, destination);
        }

        if (reader.HeaderBytes >= 2)
        {
            WriteHex(Keys.KeyId, header.Id);
        }

        if (reader.HeaderBytes >= 4)
        {
            WriteHex(Keys.KeyFlags, header.Flags);
        }

        if (reader.HeaderBytes == DnsHeader.Size)
        {
            if (_options.Counts)
            {
                WriteDecimal(Keys.KeyQdcount, header.QuestionCount);
                WriteDecimal(Keys.KeyAncount, header.AnswerCount);
                WriteDecimal(Keys.KeyNscount, header.AuthorityCount);
                WriteDecimal(Keys.KeyArcount, header.AdditionalCount);
            }

            bool inArray = false;
            if ((sections & SpeedySections.Queries) != 0)
            {
                w.WriteStartArray(Keys.KeyQueries);
                inArray = true;
            }

            while (reader.TryReadQuestion(out var question))
            {
                if (inArray)
                {
                    w.WriteStartObject();
                    WriteName(Keys.KeyQname, question.Name);
                    WriteType(Keys.KeyQtype, question.Type);
                    WriteClass(Keys.KeyQclass, question.Class);
                    w.WriteEndObject();
                }
            }

            var open = DnsSection.Question;
            while (reader.TryReadRecord(out var record))
            {
                if (!IsWanted(record.Section))
                {
                    continue;
                }

                if (record.Section != open)
                {
                    if (inArray)
                    {
                        w.WriteEndArray();
                    }

                    w.WriteStartArray(SectionKey(record.Section));
                    inArray = true;
                    open = record.Section;
                }

                WriteRecord(record);
            }

            if (inArray)
            {
                w.WriteEndArray();
            }
        }

        if (reader.Status != DnsParseStatus.Ok)
        {
            w.WriteStartObject(Keys.KeyMalformed);
            w.WriteString(Keys.KeyReason, DnsParseStatusNames.Name(reader.Status));
            w.WriteString(Keys.KeySection, DnsParseStatusNames.Name(reader.FaultSection));
            WriteDecimal(Keys.KeyOffset, (ulong)Math.Max(0, reader.FaultOffset));
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.Flush();
        return reader.Status;
    }

    private bool IsWanted(DnsSection section) => section switch
    {
        DnsSection.Answer => (_options.Sections & SpeedySections.Answers) != 0,
        DnsSection.Authority => (_options.Sections & SpeedySections.Authorities) != 0,
        DnsSection.Additional => (_options.Sections & SpeedySections.Additionals) != 0,
        _ => false,
    };

    private static JsonEncodedText SectionKey(DnsSection section) => section switch
    {
        DnsSection.Answer => Keys.KeyAnswers,
        DnsSection.Authority => Keys.KeyAuthorities,
        _ => Keys.KeyAdditionals,
    };

    private void WriteRecord(in DnsRecord record)
    {
        var w = _writer;
        w.WriteStartObject();
        WriteName(Keys.KeyName, record.Name);
        WriteType(Keys.KeyType, record.Type);
        WriteClass(Keys.KeyClass, record.Class);
        WriteDecimal(Keys.KeyTtl, record.Ttl);
        if (DnsPresentation.TryFormatRdata(record, _text, out int n))
        {
            w.WriteString(Keys.KeyRdata, _text.AsSpan(0, n));
        }

        if (record.Type == DnsRecordType.NS && DnsRdata.TryReadTargetName(record, out var target))
        {
            w.WriteStartArray(Keys.KeyNs);
            target.TryFormat(_text, out int m);
            w.WriteStringValue(_text.AsSpan(0, m));
            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private void WriteName(JsonEncodedText key, DnsName name)
    {
        name.TryFormat(_text, out int n);
        _writer.WriteString(key, _text.AsSpan(0, n));
    }

    private void WriteType(JsonEncodedText key, ushort type)
    {
        if (_options.Mnemonics)
        {
            DnsRecordType.TryFormat(type, _text, out int n);
            _writer.WriteString(key, _text.AsSpan(0, n));
        }
        else
        {
            WriteDecimal(key, type);
        }
    }

    private void WriteClass(JsonEncodedText key, ushort @class)
    {
        if (_options.Mnemonics)
        {
            DnsClass.TryFormat(@class, _text, out int n);
            _writer.WriteString(key, _text.AsSpan(0, n));
        }
        else
        {
            WriteDecimal(key, @class);
        }
    }

    private void WriteDecimal(JsonEncodedText key, ulong value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        _writer.WriteString(key, digits[..n]);
    }

    private void WriteHex(JsonEncodedText key, ushort value)
    {
        Span<byte> digits = stackalloc byte[4];
        Utf8Formatter.TryFormat(value, digits, out int n, new StandardFormat('x'));
        _writer.WriteString(key, digits[..n]);
    }

    private void WriteAddress(JsonEncodedText key, ReadOnlySpan<byte> address)
    {
        Span<byte> text = stackalloc byte[64];
        int n;
        if (_options.Anonymizer is { } anonymizer)
        {
            anonymizer.WriteToken(address, text);
            n = 8;
        }
        else
        {
            DnsPresentation.TryFormatAddress(address, text, out n);
        }

        _writer.WriteString(key, text[..n]);
    }

    private void WriteTimestamp(long nanoseconds)
    {
        Span<byte> text = stackalloc byte[32];
        long seconds = Math.DivRem(nanoseconds, 1_000_000_000L, out long fraction);
        if (fraction < 0)
        {
            seconds--;
            fraction += 1_000_000_000L;
        }

        Utf8Formatter.TryFormat(seconds, text, out int n);
        text[n++] = (byte)'.';
        Utf8Formatter.TryFormat(fraction, text[n..], out int m, new StandardFormat('D', 9));
        _writer.WriteString(Keys.KeyTs, text[..(n + m)]);
    }

    /// <summary>Property names, encoded once (the writer then neither validates nor escapes them per message).</summary>
    private static class Keys
    {
        public static readonly JsonEncodedText KeyAdditionals = JsonEncodedText.Encode("additionals");
        public static readonly JsonEncodedText KeyAncount = JsonEncodedText.Encode("ancount");
        public static readonly JsonEncodedText KeyAnswers = JsonEncodedText.Encode("answers");
        public static readonly JsonEncodedText KeyArcount = JsonEncodedText.Encode("arcount");
        public static readonly JsonEncodedText KeyAuthorities = JsonEncodedText.Encode("authorities");
        public static readonly JsonEncodedText KeyClass = JsonEncodedText.Encode("class");
        public static readonly JsonEncodedText KeyDest = JsonEncodedText.Encode("dest");
        public static readonly JsonEncodedText KeyFlags = JsonEncodedText.Encode("flags");
        public static readonly JsonEncodedText KeyId = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText KeyMalformed = JsonEncodedText.Encode("malformed");
        public static readonly JsonEncodedText KeyName = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText KeyNs = JsonEncodedText.Encode("ns");
        public static readonly JsonEncodedText KeyNscount = JsonEncodedText.Encode("nscount");
        public static readonly JsonEncodedText KeyOffset = JsonEncodedText.Encode("offset");
        public static readonly JsonEncodedText KeyQclass = JsonEncodedText.Encode("qclass");
        public static readonly JsonEncodedText KeyQdcount = JsonEncodedText.Encode("qdcount");
        public static readonly JsonEncodedText KeyQname = JsonEncodedText.Encode("qname");
        public static readonly JsonEncodedText KeyQtype = JsonEncodedText.Encode("qtype");
        public static readonly JsonEncodedText KeyQueries = JsonEncodedText.Encode("queries");
        public static readonly JsonEncodedText KeyRdata = JsonEncodedText.Encode("rdata");
        public static readonly JsonEncodedText KeyReason = JsonEncodedText.Encode("reason");
        public static readonly JsonEncodedText KeySection = JsonEncodedText.Encode("section");
        public static readonly JsonEncodedText KeySource = JsonEncodedText.Encode("source");
        public static readonly JsonEncodedText KeyTs = JsonEncodedText.Encode("ts");
        public static readonly JsonEncodedText KeyTtl = JsonEncodedText.Encode("ttl");
        public static readonly JsonEncodedText KeyType = JsonEncodedText.Encode("type");
    }
}
