using System.Text;
using System.Text.Json;
using RataDns.DnsWire;
using RataDns.Tests.Support;
using RataDns.Transport;
using RataDns.Transport.Speedy;

namespace RataDns.Tests.Transport;

public class SpeedyWriterTests
{
    private static readonly byte[] Client = [192, 0, 2, 7];
    private static readonly byte[] Server = [198, 51, 100, 53];

    /// <summary>
    /// The example of DESIGN.md (from Speedy's own documentation):
    /// 128{"source":"0E402AE7","dest":"6DFA5FD7","id":"2e13","flags":"10","queries":[{"qname":"www.ejemplo.cl.","qtype":"1","qclass":"1"}]}
    /// The same message must give the same JSON but for the two address tokens (which depend on the key). The
    /// example's prefix says 128, yet its JSON is 129 bytes long (the prefix is off by one there, perhaps from an
    /// edit of the example); we follow the format's definition: the prefix is the JSON's byte length.
    /// </summary>
    [Fact]
    public void Reproduces_the_speedy_example_byte_for_byte_except_the_tokens()
    {
        const string example = "128{\"source\":\"0E402AE7\",\"dest\":\"6DFA5FD7\",\"id\":\"2e13\",\"flags\":\"10\",\"queries\":[{\"qname\":\"www.ejemplo.cl.\",\"qtype\":\"1\",\"qclass\":\"1\"}]}";
        var b = new TestMessageBuilder { Id = 0x2e13, Flags = 0x0010 };
        b.Question("www.ejemplo.cl", 1);
        var anonymizer = AddressAnonymizer.WithRandomKey();
        string ours = Serialize(new SpeedyOptions { Anonymizer = anonymizer, Sections = SpeedySections.Source | SpeedySections.Destination | SpeedySections.Queries }, b.ToArray());

        var src = new byte[8];
        var dst = new byte[8];
        anonymizer.WriteToken(Client, src);
        anonymizer.WriteToken(Server, dst);
        string expected = example.Replace("0E402AE7", Encoding.ASCII.GetString(src), StringComparison.Ordinal)
            .Replace("6DFA5FD7", Encoding.ASCII.GetString(dst), StringComparison.Ordinal);
        Assert.Equal(expected[3..], ours[3..]);
        Assert.Equal("129", ours[..3]);
        Assert.Equal(129, Encoding.UTF8.GetByteCount(ours[3..]));
    }

    [Fact]
    public void Length_prefix_is_the_byte_length_of_each_json()
    {
        var stream = new MemoryStream();
        using (var writer = new SpeedyStreamWriter(stream, new SpeedyOptions()))
        {
            var b = new TestMessageBuilder { Id = 1 };
            b.Question("a.example", 1);
            writer.Write(Client, Server, b.ToArray(), 0);
            var c = new TestMessageBuilder { Id = 2, Flags = 0x8180 };
            c.Question("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example", 28);
            c.Section(1).Record("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example", 28, 60, new byte[16]);
            writer.Write(Server, Client, c.ToArray(), 0);
        }

        var bytes = stream.ToArray();
        var messages = new List<JsonElement>();
        int p = 0;
        while (p < bytes.Length)
        {
            int digits = 0;
            while (char.IsAsciiDigit((char)bytes[p + digits]))
            {
                digits++;
            }

            int length = int.Parse(Encoding.ASCII.GetString(bytes, p, digits), System.Globalization.CultureInfo.InvariantCulture);
            p += digits;
            Assert.Equal((byte)'{', bytes[p]);
            Assert.Equal((byte)'}', bytes[p + length - 1]);
            messages.Add(JsonDocument.Parse(bytes.AsMemory(p, length)).RootElement.Clone());
            p += length;
        }

        Assert.Equal(["1", "2"], messages.Select(m => m.GetProperty("id").GetString()));
    }

    [Fact]
    public void Records_carry_name_type_class_ttl_rdata_and_ns_records_their_target()
    {
        var b = new TestMessageBuilder { Id = 0xabc, Flags = 0x8100 };
        b.Question("example.com", DnsRecordType.NS);
        b.Section(1).Record("example.com", DnsRecordType.NS, 1, 172800, r => r.Name("a.iana-servers.net"));
        b.Section(2).Record("example.com", DnsRecordType.SOA, 1, 3600, r => r.Name("ns.icann.org").Name("noc.dns.icann.org").U32(1).U32(2).U32(3).U32(4).U32(5));
        b.Section(3).Record("a.iana-servers.net", DnsRecordType.A, 60, [199, 43, 135, 53]);
        var json = JsonDocument.Parse(Serialize(new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited }, b.ToArray())).RootElement;

        Assert.Equal("abc", json.GetProperty("id").GetString());
        Assert.Equal("8100", json.GetProperty("flags").GetString());
        var ns = json.GetProperty("answers")[0];
        Assert.Equal("example.com.", ns.GetProperty("name").GetString());
        Assert.Equal("2", ns.GetProperty("type").GetString());
        Assert.Equal("1", ns.GetProperty("class").GetString());
        Assert.Equal("172800", ns.GetProperty("ttl").GetString());
        Assert.Equal("a.iana-servers.net.", ns.GetProperty("rdata").GetString());
        Assert.Equal("a.iana-servers.net.", ns.GetProperty("ns")[0].GetString());
        Assert.Equal("ns.icann.org. noc.dns.icann.org. 1 2 3 4 5", json.GetProperty("authorities")[0].GetProperty("rdata").GetString());
        Assert.Equal("199.43.135.53", json.GetProperty("additionals")[0].GetProperty("rdata").GetString());
        Assert.False(json.TryGetProperty("malformed", out _));
    }

    [Fact]
    public void Sections_can_be_left_out_and_mnemonics_chosen()
    {
        var b = new TestMessageBuilder { Id = 5, Flags = 0x8180 };
        b.Question("example.org", DnsRecordType.AAAA);
        b.Section(1).Record("example.org", DnsRecordType.AAAA, 60, new byte[16]);
        var options = new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited, Sections = SpeedySections.Queries, Mnemonics = true };
        var json = JsonDocument.Parse(Serialize(options, b.ToArray())).RootElement;
        Assert.Equal(["id", "flags", "queries"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("AAAA", json.GetProperty("queries")[0].GetProperty("qtype").GetString());
        Assert.Equal("IN", json.GetProperty("queries")[0].GetProperty("qclass").GetString());
    }

    [Fact]
    public void Plain_addresses_are_written_in_text_form()
    {
        var b = new TestMessageBuilder { Id = 9 };
        b.Question("x", 1);
        var v6 = System.Net.IPAddress.Parse("2001:db8::53").GetAddressBytes();
        var messageWriter = new SpeedyMessageWriter(new SpeedyOptions());
        messageWriter.Write(Client, v6, b.ToArray(), 0);
        var json = JsonDocument.Parse(messageWriter.Json.ToArray()).RootElement;
        Assert.Equal("192.0.2.7", json.GetProperty("source").GetString());
        Assert.Equal("2001:db8::53", json.GetProperty("dest").GetString());
    }

    [Fact]
    public void A_malformed_message_keeps_what_was_read_and_says_why()
    {
        var b = new TestMessageBuilder { Id = 0x1234, Flags = 0x8180 };
        b.Question("www.example.com", 1);
        b.Section(1).Record("www.example.com", 1, 60, [1, 2, 3, 4]);
        var full = b.ToArray();
        var cut = full.AsSpan(0, full.Length - 6).ToArray();
        var json = JsonDocument.Parse(Serialize(new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited }, cut)).RootElement;
        Assert.Equal("1234", json.GetProperty("id").GetString());
        Assert.Equal("www.example.com.", json.GetProperty("queries")[0].GetProperty("qname").GetString());
        var malformed = json.GetProperty("malformed");
        Assert.Equal("truncated", malformed.GetProperty("reason").GetString());
        Assert.Equal("answer", malformed.GetProperty("section").GetString());
        Assert.Equal("33", malformed.GetProperty("offset").GetString());
    }

    [Fact]
    public void Timestamps_and_counts_are_opt_in()
    {
        var b = new TestMessageBuilder { Id = 1 };
        b.Question("x", 1);
        var options = new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited, Timestamps = true, Counts = true };
        var json = JsonDocument.Parse(Serialize(options, b.ToArray(), 1_767_225_600_123_456_789)).RootElement;
        Assert.Equal("1767225600.123456789", json.GetProperty("ts").GetString());
        Assert.Equal("1", json.GetProperty("qdcount").GetString());
        Assert.Equal("0", json.GetProperty("arcount").GetString());
    }

    private static string Serialize(SpeedyOptions options, byte[] message, long timestamp = 0)
    {
        var stream = new MemoryStream();
        using (var writer = new SpeedyStreamWriter(stream, options))
        {
            writer.Write(Client, Server, message, timestamp);
        }

        return Encoding.UTF8.GetString(stream.ToArray()).TrimEnd('\n');
    }
}
