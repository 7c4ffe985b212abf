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
            WriteAddress("source"u8, source);
        }

        if ((sections & SpeedySections.Destination) != 0)
        {
            WriteAddress("dest"u8, destination);
        }

        if (reader.HeaderBytes >= 2)
        {
            WriteHex("id"u8, header.Id);
        }

        if (reader.HeaderBytes >= 4)
        {
            WriteHex("flags"u8, header.Flags);
        }

        if (reader.HeaderBytes == DnsHeader.Size)
        {
            if (_options.Counts)
            {
                WriteDecimal("qdcount"u8, header.QuestionCount);
                WriteDecimal("ancount"u8, header.AnswerCount);
                WriteDecimal("nscount"u8, header.AuthorityCount);
                WriteDecimal("arcount"u8, header.AdditionalCount);
            }

            bool inArray = false;
            if ((sections & SpeedySections.Queries) != 0)
            {
                w.WriteStartArray("queries"u8);
                inArray = true;
            }

            while (reader.TryReadQuestion(out var question))
            {
                if (inArray)
                {
                    w.WriteStartObject();
                    WriteName("qname"u8, question.Name);
                    WriteType("qtype"u8, question.Type);
                    WriteClass("qclass"u8, question.Class);
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
            w.WriteStartObject("malformed"u8);
            w.WriteString("reason"u8, DnsParseStatusNames.Name(reader.Status));
            w.WriteString("section"u8, DnsParseStatusNames.Name(reader.FaultSection));
            WriteDecimal("offset"u8, (ulong)Math.Max(0, reader.FaultOffset));
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

    private static ReadOnlySpan<byte> SectionKey(DnsSection section) => section switch
    {
        DnsSection.Answer => "answers"u8,
        DnsSection.Authority => "authorities"u8,
        _ => "additionals"u8,
    };

    private void WriteRecord(in DnsRecord record)
    {
        var w = _writer;
        w.WriteStartObject();
        WriteName("name"u8, record.Name);
        WriteType("type"u8, record.Type);
        WriteClass("class"u8, record.Class);
        WriteDecimal("ttl"u8, record.Ttl);
        if (DnsPresentation.TryFormatRdata(record, _text, out int n))
        {
            w.WriteString("rdata"u8, _text.AsSpan(0, n));
        }

        if (record.Type == DnsRecordType.NS && DnsRdata.TryReadTargetName(record, out var target))
        {
            w.WriteStartArray("ns"u8);
            target.TryFormat(_text, out int m);
            w.WriteStringValue(_text.AsSpan(0, m));
            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private void WriteName(ReadOnlySpan<byte> key, DnsName name)
    {
        name.TryFormat(_text, out int n);
        _writer.WriteString(key, _text.AsSpan(0, n));
    }

    private void WriteType(ReadOnlySpan<byte> key, ushort type)
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

    private void WriteClass(ReadOnlySpan<byte> key, ushort @class)
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

    private void WriteDecimal(ReadOnlySpan<byte> key, ulong value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        _writer.WriteString(key, digits[..n]);
    }

    private void WriteHex(ReadOnlySpan<byte> key, ushort value)
    {
        Span<byte> digits = stackalloc byte[4];
        Utf8Formatter.TryFormat(value, digits, out int n, new StandardFormat('x'));
        _writer.WriteString(key, digits[..n]);
    }

    private void WriteAddress(ReadOnlySpan<byte> key, ReadOnlySpan<byte> address)
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
        _writer.WriteString("ts"u8, text[..(n + m)]);
    }
}
