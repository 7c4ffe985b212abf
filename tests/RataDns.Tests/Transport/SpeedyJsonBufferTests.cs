using System.Text.Encodings.Web;
using System.Text.Json;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;
using RataDns.Tests.Support;
using RataDns.Transport.Speedy;

namespace RataDns.Tests.Transport;

/// <summary>
/// The Speedy writer's own JSON output against System.Text.Json's writer with the relaxed encoder (what the Speedy
/// writer used before, and what its readers were checked with): the same bytes for every string and structure.
/// </summary>
public sealed class SpeedyJsonBufferTests
{
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Every ASCII byte alone, and runs of them with quotes and backslashes, escape as Utf8JsonWriter escapes them.</summary>
    [Fact]
    public void Strings_escape_as_System_Text_Json_escapes_them()
    {
        var values = new List<byte[]>();
        for (int b = 0; b < 0x80; b++)
        {
            values.Add([(byte)b]);
            values.Add([(byte)'a', (byte)b, (byte)'z', (byte)b]);
        }

        values.Add("\"v=spf1 include:_spf.example \\\"quoted\\\" \\\\ end\""u8.ToArray());
        values.Add("a\\.b\\032c.example."u8.ToArray());
        values.Add([]);

        foreach (var value in values)
        {
            var ours = new SpeedyJsonBuffer();
            ours.StartObject();
            ours.String("\"k\":"u8, value);
            ours.EndObject();

            using var stream = new MemoryStream();
            using (var reference = new Utf8JsonWriter(stream, Relaxed))
            {
                reference.WriteStartObject();
                reference.WriteString("k"u8, value);
                reference.WriteEndObject();
            }

            Assert.Equal(System.Text.Encoding.ASCII.GetString(stream.ToArray()), System.Text.Encoding.ASCII.GetString(ours.Written));
        }
    }

    /// <summary>
    /// Every message of the sample and the knot captures, as the Speedy writer writes it, read by System.Text.Json and
    /// written back with the relaxed encoder, is the same bytes (valid JSON, the same escapes and layout).
    /// </summary>
    [Theory]
    [InlineData("samples/sample.pcap", 53)]
    [InlineData("bench/data/knot-sample.pcap", 53531)]
    public void Whole_messages_read_back_by_System_Text_Json_are_written_again_identically(string capture, int port)
    {
        var writer = new SpeedyMessageWriter(new SpeedyOptions { Counts = true, Timestamps = true, Mnemonics = true });
        int messages = 0;
        using var reader = CaptureFileReader.Open(Path.Combine(RepoPaths.Root, capture));
        var handler = new PipelineFrameHandler<Check>(new DnsCapturePipeline(new DnsPortSet([(ushort)port])), new Check(writer, () => messages++));
        reader.ReadAll(ref handler);
        handler.Finish();
        Assert.True(messages > 10, $"{messages} messages in {capture}");
    }

    private readonly struct Check(SpeedyMessageWriter writer, Action counted) : IDnsMessageHandler
    {
        public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            var status = writer.Write(packet.SourceAddress, packet.DestinationAddress, message, timestampNanoseconds);
            byte[] ours = writer.Json.ToArray();
            using var document = JsonDocument.Parse(ours);
            using var stream = new MemoryStream();
            using (var again = new Utf8JsonWriter(stream, Relaxed))
            {
                document.WriteTo(again);
            }

            Assert.Equal(System.Text.Encoding.UTF8.GetString(stream.ToArray()), System.Text.Encoding.UTF8.GetString(ours));
            counted();
            return status;
        }
    }
}
