using System.Buffers;
using System.Text;
using System.Text.Json;
using MessagePack;
using RataDns.Tests.Transport.ZeroMq;
using RataDns.Transport.Encoders;

namespace RataDns.Tests.Transport;

public sealed class MessagePackTranscodingTests
{
    private static byte[] Transcode(string json)
    {
        var output = new ArrayBufferWriter<byte>();
        new JsonToMessagePack().Transcode(Encoding.UTF8.GetBytes(json), output);
        return output.WrittenSpan.ToArray();
    }

    private static void AssertRoundTrip(string json)
    {
        using var document = JsonDocument.Parse(json);
        var decoded = MessagePackSerializer.Deserialize<object>(Transcode(json));
        JsonSemanticAssert.Same(document.RootElement, decoded);
    }

    public const string Envelope =
        """{"type":"TopN","serverId":"server1","timeStamp":1448524800,"data":[["www.ejemplo.cl.",12],["ñandú.cl.",3]],"window":{"start":1448524799.5,"end":1448524800,"packets":15,"messages":15,"drops":0,"sequence":7,"partial":false}}""";

    [Fact]
    public void Envelope_round_trips_to_the_same_dictionary()
    {
        AssertRoundTrip(Envelope);
    }

    [Theory]
    [InlineData("0", 0x00)]
    [InlineData("127", 0x7f)]
    [InlineData("128", 0xcc)]
    [InlineData("255", 0xcc)]
    [InlineData("256", 0xcd)]
    [InlineData("65535", 0xcd)]
    [InlineData("65536", 0xce)]
    [InlineData("2147483647", 0xce)]
    [InlineData("4294967295", 0xce)]
    [InlineData("4294967296", 0xcf)]
    [InlineData("9223372036854775807", 0xcf)]
    [InlineData("9223372036854775808", 0xcf)]
    [InlineData("18446744073709551615", 0xcf)]
    [InlineData("18446744073709551616", 0xcb)]
    [InlineData("-1", 0xff)]
    [InlineData("-32", 0xe0)]
    [InlineData("-33", 0xd0)]
    [InlineData("-128", 0xd0)]
    [InlineData("-129", 0xd1)]
    [InlineData("-32768", 0xd1)]
    [InlineData("-32769", 0xd2)]
    [InlineData("-2147483648", 0xd2)]
    [InlineData("-2147483649", 0xd3)]
    [InlineData("-9223372036854775808", 0xd3)]
    [InlineData("-9223372036854775809", 0xcb)]
    [InlineData("-0", 0x00)]
    [InlineData("0.5", 0xcb)]
    [InlineData("1.0", 0xcb)]
    [InlineData("1e3", 0xcb)]
    [InlineData("-2.5E-300", 0xcb)]
    public void Numbers_use_the_smallest_integer_encoding_or_float64(string number, int firstByte)
    {
        byte[] packed = Transcode(number);
        Assert.Equal(firstByte, packed[0]);
        int expectedLength = firstByte switch
        {
            <= 0x7f or >= 0xe0 => 1,
            0xcc or 0xd0 => 2,
            0xcd or 0xd1 => 3,
            0xce or 0xd2 => 5,
            _ => 9,
        };
        Assert.Equal(expectedLength, packed.Length);
        if (firstByte != 0xcb || !number.StartsWith("-9", StringComparison.Ordinal) && !number.StartsWith("1844", StringComparison.Ordinal))
        {
            AssertRoundTrip(number);
        }
        else
        {
            Assert.Equal(double.Parse(number, System.Globalization.CultureInfo.InvariantCulture), MessagePackSerializer.Deserialize<double>(packed));
        }
    }

    [Fact]
    public void Unicode_and_escaped_strings_are_unescaped_utf8()
    {
        string json = """{"ñandú":"año ☃ 😀","esc\"aped":"tab\there \u00e9 \ud83d\ude00 \u0000 \\ \/","":""}""";
        AssertRoundTrip(json);
        var map = (Dictionary<object, object?>)MessagePackSerializer.Deserialize<object>(Transcode(json))!;
        Assert.Equal("tab\there é 😀 \0 \\ /", map["esc\"aped"]);
        Assert.Equal("año ☃ 😀", map["ñandú"]);
    }

    [Fact]
    public void Nested_and_empty_containers_keep_their_counts()
    {
        AssertRoundTrip("""{"a":{},"b":[],"c":[[],[{}],{"d":[1,[2,[3,{"e":null}]]]}],"f":true,"g":false,"h":null}""");
        AssertRoundTrip("[1,\"x\",[true,null],{\"k\":[0.25]}]");
        AssertRoundTrip("\"just a string\"");
        AssertRoundTrip("null");
    }

    [Fact]
    public void Long_strings_and_large_containers_use_their_wider_headers()
    {
        var sb = new StringBuilder("{");
        for (int i = 0; i < 70_000; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("\"k").Append(i).Append("\":").Append(i);
        }

        sb.Append(",\"long\":\"").Append('x', 70_000).Append("\"}");
        string json = sb.ToString();
        Assert.Equal(0xdf, Transcode(json)[0]); // map32
        AssertRoundTrip(json);
    }

    [Fact]
    public void Random_documents_round_trip()
    {
        var random = new Random(12345);
        var transcoder = new JsonToMessagePack();
        var output = new ArrayBufferWriter<byte>();
        for (int n = 0; n < 300; n++)
        {
            var json = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(json))
            {
                WriteRandomValue(writer, random, depth: 0);
            }

            output.ResetWrittenCount();
            transcoder.Transcode(json.WrittenSpan, output);
            using var document = JsonDocument.Parse(json.WrittenMemory);
            JsonSemanticAssert.Same(document.RootElement, MessagePackSerializer.Deserialize<object>(output.WrittenMemory));
        }
    }

    [Fact]
    public void Transcoding_allocates_nothing_once_warm()
    {
        byte[] json = Encoding.UTF8.GetBytes(Envelope.Replace("ejemplo", "ej\\u00e9mplo", StringComparison.Ordinal));
        var transcoder = new JsonToMessagePack();
        var output = new ArrayBufferWriter<byte>(4096);
        for (int i = 0; i < 10; i++)
        {
            output.ResetWrittenCount();
            transcoder.Transcode(json, output);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            output.ResetWrittenCount();
            transcoder.Transcode(json, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Malformed_json_throws()
    {
        Assert.ThrowsAny<JsonException>(() => Transcode("{\"a\":"));
    }

    private static void WriteRandomValue(Utf8JsonWriter writer, Random random, int depth)
    {
        int kind = random.Next(depth > 4 ? 5 : 7);
        switch (kind)
        {
            case 0:
                writer.WriteNumberValue(random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64));
                break;
            case 1:
                writer.WriteNumberValue((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-20, 20)));
                break;
            case 2:
                writer.WriteStringValue(RandomString(random));
                break;
            case 3:
                writer.WriteBooleanValue(random.Next(2) == 0);
                break;
            case 4:
                writer.WriteNullValue();
                break;
            case 5:
                writer.WriteStartArray();
                for (int i = random.Next(20); i > 0; i--)
                {
                    WriteRandomValue(writer, random, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStartObject();
                for (int i = random.Next(20); i > 0; i--)
                {
                    writer.WritePropertyName(RandomString(random) + "#" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    WriteRandomValue(writer, random, depth + 1);
                }

                writer.WriteEndObject();
                break;
        }
    }

    private static string RandomString(Random random)
    {
        const string alphabet = "abcXYZ019._-\"\\/ñé☃\t\n<>&'";
        var chars = new char[random.Next(12)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars) + (random.Next(8) == 0 ? "😀" : "");
    }
}
