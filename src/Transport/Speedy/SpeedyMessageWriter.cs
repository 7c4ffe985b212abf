using System.Buffers;
using System.Buffers.Text;
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
    private readonly SpeedyOptions _options;
    private readonly SpeedyJsonBuffer _writer = new();
    private readonly byte[] _text = new byte[DnsPresentation.MaxRdataLength];

    public SpeedyMessageWriter(SpeedyOptions options)
    {
        _options = options;
    }

    /// <summary>The JSON of the last message written by <see cref="Write"/>, valid until the next call.</summary>
    public ReadOnlySpan<byte> Json => _writer.Written;

    /// <summary>Builds the JSON of one message; read it from <see cref="Json"/>.</summary>
    /// <param name="source">Source address, 4 or 16 bytes.</param>
    /// <param name="destination">Destination address, 4 or 16 bytes.</param>
    /// <param name="message">The DNS message (for TCP, without its 2-byte length).</param>
    /// <param name="timestampNanoseconds">Capture time since 1970, written only with <see cref="SpeedyOptions.Timestamps"/>.</param>
    /// <returns>The message's parse status.</returns>
    public DnsParseStatus Write(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message, long timestampNanoseconds)
    {
        var w = _writer;
        w.Reset();
        var sections = _options.Sections;
        var reader = new DnsMessageReader(message);
        var header = reader.Header;

        w.StartObject();
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
                w.StartArray(Keys.KeyQueries);
                inArray = true;
            }

            while (reader.TryReadQuestion(out var question))
            {
                if (inArray)
                {
                    w.StartObject();
                    WriteName(Keys.KeyQname, question.Name);
                    WriteType(Keys.KeyQtype, question.Type);
                    WriteClass(Keys.KeyQclass, question.Class);
                    w.EndObject();
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
                        w.EndArray();
                    }

                    w.StartArray(SectionKey(record.Section));
                    inArray = true;
                    open = record.Section;
                }

                WriteRecord(record);
            }

            if (inArray)
            {
                w.EndArray();
            }
        }

        if (reader.Status != DnsParseStatus.Ok)
        {
            w.StartObject(Keys.KeyMalformed);
            WriteAscii(Keys.KeyReason, DnsParseStatusNames.Name(reader.Status));
            WriteAscii(Keys.KeySection, DnsParseStatusNames.Name(reader.FaultSection));
            WriteDecimal(Keys.KeyOffset, (ulong)Math.Max(0, reader.FaultOffset));
            w.EndObject();
        }

        w.EndObject();
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
        DnsSection.Answer => Keys.KeyAnswers,
        DnsSection.Authority => Keys.KeyAuthorities,
        _ => Keys.KeyAdditionals,
    };

    private void WriteRecord(in DnsRecord record)
    {
        var w = _writer;
        w.StartObject();
        WriteName(Keys.KeyName, record.Name);
        WriteType(Keys.KeyType, record.Type);
        WriteClass(Keys.KeyClass, record.Class);
        WriteDecimal(Keys.KeyTtl, record.Ttl);
        if (DnsPresentation.TryFormatRdata(record, _text, out int n))
        {
            w.String(Keys.KeyRdata, _text.AsSpan(0, n));
        }

        if (record.Type == DnsRecordType.NS && DnsRdata.TryReadTargetName(record, out var target))
        {
            w.StartArray(Keys.KeyNs);
            target.TryFormat(_text, out int m);
            w.StringValue(_text.AsSpan(0, m));
            w.EndArray();
        }

        w.EndObject();
    }

    private void WriteAscii(ReadOnlySpan<byte> key, string text)
    {
        int n = System.Text.Encoding.ASCII.GetBytes(text, _text);
        _writer.String(key, _text.AsSpan(0, n));
    }

    private void WriteName(ReadOnlySpan<byte> key, DnsName name)
    {
        name.TryFormat(_text, out int n);
        _writer.String(key, _text.AsSpan(0, n));
    }

    private void WriteType(ReadOnlySpan<byte> key, ushort type)
    {
        if (_options.Mnemonics)
        {
            DnsRecordType.TryFormat(type, _text, out int n);
            _writer.String(key, _text.AsSpan(0, n));
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
            _writer.String(key, _text.AsSpan(0, n));
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
        _writer.String(key, digits[..n]);
    }

    private void WriteHex(ReadOnlySpan<byte> key, ushort value)
    {
        Span<byte> digits = stackalloc byte[4];
        Utf8Formatter.TryFormat(value, digits, out int n, new StandardFormat('x'));
        _writer.String(key, digits[..n]);
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

        _writer.String(key, text[..n]);
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
        _writer.String(Keys.KeyTs, text[..(n + m)]);
    }

    /// <summary>Property names, quoted and followed by their colon, as written.</summary>
    private static class Keys
    {
        public static ReadOnlySpan<byte> KeyAdditionals => "\"additionals\":"u8;
        public static ReadOnlySpan<byte> KeyAncount => "\"ancount\":"u8;
        public static ReadOnlySpan<byte> KeyAnswers => "\"answers\":"u8;
        public static ReadOnlySpan<byte> KeyArcount => "\"arcount\":"u8;
        public static ReadOnlySpan<byte> KeyAuthorities => "\"authorities\":"u8;
        public static ReadOnlySpan<byte> KeyClass => "\"class\":"u8;
        public static ReadOnlySpan<byte> KeyDest => "\"dest\":"u8;
        public static ReadOnlySpan<byte> KeyFlags => "\"flags\":"u8;
        public static ReadOnlySpan<byte> KeyId => "\"id\":"u8;
        public static ReadOnlySpan<byte> KeyMalformed => "\"malformed\":"u8;
        public static ReadOnlySpan<byte> KeyName => "\"name\":"u8;
        public static ReadOnlySpan<byte> KeyNs => "\"ns\":"u8;
        public static ReadOnlySpan<byte> KeyNscount => "\"nscount\":"u8;
        public static ReadOnlySpan<byte> KeyOffset => "\"offset\":"u8;
        public static ReadOnlySpan<byte> KeyQclass => "\"qclass\":"u8;
        public static ReadOnlySpan<byte> KeyQdcount => "\"qdcount\":"u8;
        public static ReadOnlySpan<byte> KeyQname => "\"qname\":"u8;
        public static ReadOnlySpan<byte> KeyQtype => "\"qtype\":"u8;
        public static ReadOnlySpan<byte> KeyQueries => "\"queries\":"u8;
        public static ReadOnlySpan<byte> KeyRdata => "\"rdata\":"u8;
        public static ReadOnlySpan<byte> KeyReason => "\"reason\":"u8;
        public static ReadOnlySpan<byte> KeySection => "\"section\":"u8;
        public static ReadOnlySpan<byte> KeySource => "\"source\":"u8;
        public static ReadOnlySpan<byte> KeyTs => "\"ts\":"u8;
        public static ReadOnlySpan<byte> KeyTtl => "\"ttl\":"u8;
        public static ReadOnlySpan<byte> KeyType => "\"type\":"u8;
    }
}
