using System.Text;
using RataDns.DnsWire;
using RataDns.Tests.Support;

namespace RataDns.Tests.DnsWire;

/// <summary>
/// RDATA presentation checked against an independent implementation: dnspython's <c>to_text()</c> (Debian's
/// python3-dnspython). Known cosmetic differences are normalized, each with its reason: dnspython writes hex and
/// base32 in lowercase (we write DS digests and NSEC3 fields in uppercase, as BIND does), splits long base64 and
/// hex into space-separated chunks, and quotes every SVCB value.
/// </summary>
public class RdataPresentationTests
{
    public static TheoryData<string> Cases => new(RdataCases.All.Select(c => c.Name));

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Rdata_text_matches_dnspython(string caseName)
    {
        Skip.IfNot(ExternalTool.PythonHasDnspython(), "python3-dnspython is not installed (apt-get install python3-dnspython)");
        var c = RdataCases.All.Single(x => x.Name == caseName);
        var message = c.Build();
        string theirs = DnspythonRdataText(message);
        string ours = OurRdataText(message);
        Assert.Equal(Normalize(c.Type, theirs), Normalize(c.Type, ours));
    }

    [Fact]
    public void Unknown_types_use_the_rfc3597_generic_form()
    {
        var b = new TestMessageBuilder();
        b.Section(1).Record("x", 65280, 5, [0xDE, 0xAD]);
        Assert.Equal("\\# 2 DEAD", OurRdataText(b.ToArray()));
    }

    [Fact]
    public void Malformed_rdata_of_a_known_type_falls_back_to_the_generic_form()
    {
        var b = new TestMessageBuilder();
        b.Section(1).Record("x", DnsRecordType.MX, 5, [0, 10, 5, (byte)'a']);
        Assert.Equal("\\# 4 000A0561", OurRdataText(b.ToArray()));
    }

    [Fact]
    public void Typed_readers_refuse_records_of_another_type()
    {
        var b = new TestMessageBuilder();
        b.Section(1).Record("x", DnsRecordType.AAAA, 5, [0, 1, 0, 2, 0, 3, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0]);
        b.Section(1).Record("y", DnsRecordType.NS, 1, 5, r => r.Name("ns.example"));
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var aaaa));
        Assert.False(DnsRdata.TryReadSrv(aaaa, out _));
        Assert.False(DnsRdata.TryReadMx(aaaa, out _));
        Assert.False(DnsRdata.TryReadTargetName(aaaa, out _));
        Assert.False(DnsRdata.EnumerateTxt(aaaa).MoveNext());
        Assert.True(reader.TryReadRecord(out var ns));
        Assert.True(DnsRdata.TryReadTargetName(ns, out var target));
        Assert.Equal("ns.example.", target.ToString());
        Assert.False(DnsRdata.TryReadSoa(ns, out _));
        Assert.False(DnsRdata.TryReadAddress(ns, out _));
    }

    [Fact]
    public void Opt_is_written_as_key_value_fields()
    {
        var b = new TestMessageBuilder();
        b.Section(3).Record(".", DnsRecordType.OPT, 1232, 0x00008000, r => r
            .U16(EdnsOptionCode.Nsid).U16(2).Bytes(new byte[] { 0xAB, 0xCD })
            .U16(EdnsOptionCode.ClientSubnet).U16(7).U16(1).U8(24).U8(0).Bytes(new byte[] { 198, 51, 100 })
            .U16(EdnsOptionCode.Cookie).U16(16).Bytes(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 })
            .U16(EdnsOptionCode.ExtendedDnsError).U16(5).U16(22).Bytes("abc"u8)
            .U16(EdnsOptionCode.Padding).U16(4).Bytes(new byte[4])
            .U16(65001).U16(1).U8(7));
        Assert.Equal(
            "udp=1232 version=0 flags=do ercode=0 nsid=ABCD ecs=198.51.100.0/24/0 cookie=0102030405060708:090A0B0C0D0E0F10 ede=22:\"abc\" padding=4 opt65001=07",
            OurRdataText(b.ToArray()));
    }

    [Theory]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [InlineData("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1")]
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1")]
    [InlineData("fe80::", "fe80::")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    public void Ipv6_text_follows_rfc5952(string input, string expected)
    {
        var address = System.Net.IPAddress.Parse(input).GetAddressBytes();
        Span<byte> text = stackalloc byte[64];
        Assert.True(DnsPresentation.TryFormatAddress(address, text, out int n));
        Assert.Equal(expected, Encoding.ASCII.GetString(text[..n]));
    }

    [Fact]
    public void Ipv6_text_agrees_with_the_runtime_on_random_addresses()
    {
        var random = new Random(1234);
        Span<byte> text = stackalloc byte[64];
        var address = new byte[16];
        for (int i = 0; i < 5000; i++)
        {
            random.NextBytes(address);
            // Zero some groups so that runs of zeros of every length appear.
            for (int g = 0; g < 8; g++)
            {
                if (random.Next(3) == 0)
                {
                    address[2 * g] = address[(2 * g) + 1] = 0;
                }
            }

            bool v4Like = address.AsSpan(0, 10).IndexOfAnyExcept((byte)0) < 0;
            if (v4Like)
            {
                continue; // the runtime writes ::a.b.c.d for IPv4-compatible addresses (deprecated, RFC 4291 2.5.5.1)
            }

            Assert.True(DnsPresentation.TryFormatAddress(address, text, out int n));
            Assert.Equal(new System.Net.IPAddress(address).ToString(), Encoding.ASCII.GetString(text[..n]));
        }
    }

    internal static string OurRdataText(byte[] message)
    {
        var reader = new DnsMessageReader(message);
        Assert.True(reader.TryReadRecord(out var record));
        var buffer = new byte[DnsPresentation.MaxRdataLength];
        Assert.True(DnsPresentation.TryFormatRdata(record, buffer, out int n));
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    private static string DnspythonRdataText(byte[] message)
    {
        const string script = """
            import sys, dns.message
            m = dns.message.from_wire(bytes.fromhex(sys.stdin.read().strip()))
            rrset = (m.answer or m.authority or m.additional)[0]
            print(rrset[0].to_text())
            """;
        int exit = ExternalTool.Run(ExternalTool.SystemPython, ["-c", script], out var stdout, out var stderr, Convert.ToHexString(message));
        Assert.True(exit == 0, $"dnspython failed: {stderr}");
        return stdout.TrimEnd('\n');
    }

    private static string Normalize(ushort type, string text)
    {
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        int joinFrom = type switch
        {
            DnsRecordType.DS or DnsRecordType.CDS => 3,
            DnsRecordType.DNSKEY or DnsRecordType.CDNSKEY => 3,
            DnsRecordType.RRSIG => 8,
            _ => -1,
        };
        if (joinFrom >= 0 && tokens.Count > joinFrom)
        {
            var tail = string.Concat(tokens.Skip(joinFrom));
            tokens = [.. tokens.Take(joinFrom), tail];
        }

        var joined = string.Join(' ', tokens);
        return type switch
        {
            DnsRecordType.DS or DnsRecordType.CDS or DnsRecordType.NSEC3 => joined.ToLowerInvariant(),
            DnsRecordType.SVCB or DnsRecordType.HTTPS => joined.Replace("\"", string.Empty, StringComparison.Ordinal),
            _ => joined,
        };
    }
}

/// <summary>One record per case, for every type the presentation writer knows (plus odd but valid content).</summary>
internal static class RdataCases
{
    public sealed record Case(string Name, ushort Type, Action<TestMessageBuilder> Rdata, string Owner = "host.example.com")
    {
        public byte[] Build()
        {
            var b = new TestMessageBuilder { Flags = 0x8400 };
            b.Question(Owner, Type);
            b.Section(1).Record(Owner, Type, 1, 3600, Rdata);
            return b.ToArray();
        }
    }

    private static readonly byte[] Key = Enumerable.Range(0, 70).Select(i => (byte)(i * 7)).ToArray();

    public static readonly Case[] All =
    [
        new("A", DnsRecordType.A, r => r.Bytes(new byte[] { 192, 0, 2, 33 })),
        new("AAAA", DnsRecordType.AAAA, r => r.Bytes(System.Net.IPAddress.Parse("2001:db8::53").GetAddressBytes())),
        new("AAAA mapped", DnsRecordType.AAAA, r => r.Bytes(System.Net.IPAddress.Parse("::ffff:192.0.2.7").GetAddressBytes())),
        new("NS compressed", DnsRecordType.NS, r => r.Name("ns1.example.com")),
        new("CNAME", DnsRecordType.CNAME, r => r.Name("web.example.net")),
        new("DNAME", DnsRecordType.DNAME, r => r.Name("example.org")),
        new("PTR", DnsRecordType.PTR, r => r.Name("host.example.com")),
        new("PTR odd bytes", DnsRecordType.PTR, r => r.Name(new List<byte[]> { new byte[] { (byte)'a', (byte)' ', (byte)'.', 0x7F, (byte)'"' }, "example"u8.ToArray() })),
        new("MX", DnsRecordType.MX, r => r.U16(10).Name("mail.example.com")),
        new("SOA", DnsRecordType.SOA, r => r.Name("ns1.example.com").Name("hostmaster.example.com").U32(2024010101).U32(7200).U32(3600).U32(1209600).U32(300)),
        new("TXT", DnsRecordType.TXT, r => r.CharacterString("v=spf1 -all").CharacterString("second")),
        new("TXT escapes", DnsRecordType.TXT, r => r.CharacterString(new byte[] { (byte)'a', (byte)'"', (byte)'\\', 9, 200, (byte)';' })),
        new("TXT empty string", DnsRecordType.TXT, r => r.CharacterString(string.Empty)),
        new("SRV", DnsRecordType.SRV, r => r.U16(10).U16(60).U16(5060).Name("sip.example.com"), "_sip._udp.example.com"),
        new("NAPTR", DnsRecordType.NAPTR, r => r.U16(100).U16(10).CharacterString("S").CharacterString("SIP+D2U").CharacterString(string.Empty).Name("_sip._udp.example.com")),
        new("NAPTR regexp", DnsRecordType.NAPTR, r => r.U16(100).U16(10).CharacterString("u").CharacterString("E2U+sip").CharacterString("!^.*$!sip:info@example.com!").Name(".")),
        new("DS", DnsRecordType.DS, r => r.U16(60485).U8(13).U8(2).Bytes(Key.AsSpan(0, 32))),
        new("CDS", DnsRecordType.CDS, r => r.U16(1).U8(8).U8(1).Bytes(Key.AsSpan(0, 20))),
        new("DNSKEY", DnsRecordType.DNSKEY, r => r.U16(257).U8(3).U8(13).Bytes(Key.AsSpan(0, 64))),
        new("CDNSKEY", DnsRecordType.CDNSKEY, r => r.U16(256).U8(3).U8(8).Bytes(Key)),
        new("RRSIG", DnsRecordType.RRSIG, r => r.U16(DnsRecordType.A).U8(13).U8(3).U32(3600).U32(1767225600).U32(1764547200).U16(12345).Name("example.com").Bytes(Key.AsSpan(0, 64))),
        new("RRSIG of a type without mnemonic", DnsRecordType.RRSIG, r => r.U16(65280).U8(8).U8(2).U32(60).U32(4000000000).U32(1).U16(1).Name("example.com").Bytes(Key.AsSpan(0, 8))),
        new("NSEC", DnsRecordType.NSEC, r => r.Name("zz.example.com").Bytes(new byte[] { 0, 6, 0x40, 0x01, 0, 0, 0, 0x03, 1, 1, 0x40 })),
        new("NSEC3", DnsRecordType.NSEC3, r => r.U8(1).U8(1).U16(12).U8(4).Bytes(new byte[] { 0xAA, 0xBB, 0xCC, 0xDD }).U8(20).Bytes(Key.AsSpan(0, 20)).Bytes(new byte[] { 0, 7, 0x62, 0x01, 0x80, 0x08, 0, 0x02, 0x90 })),
        new("NSEC3 no salt", DnsRecordType.NSEC3, r => r.U8(1).U8(0).U16(0).U8(0).U8(20).Bytes(Key.AsSpan(10, 20)).Bytes(new byte[] { 0, 1, 0x40 })),
        new("CAA", DnsRecordType.CAA, r => r.U8(0).CharacterString("issue").Bytes("letsencrypt.org"u8)),
        new("CAA critical", DnsRecordType.CAA, r => r.U8(128).CharacterString("tbs").Bytes("Unknown"u8)),
        new("SVCB alias", DnsRecordType.SVCB, r => r.U16(0).Name("svc.example.net")),
        new("HTTPS", DnsRecordType.HTTPS, r => r.U16(1).Name(".")
            .U16(1).U16(6).CharacterString("h2").CharacterString("h3")
            .U16(3).U16(2).U16(8443)
            .U16(4).U16(8).Bytes(new byte[] { 192, 0, 2, 1, 192, 0, 2, 2 })
            .U16(6).U16(16).Bytes(System.Net.IPAddress.Parse("2001:db8::1").GetAddressBytes())),
        new("SVCB mandatory and ech", DnsRecordType.SVCB, r => r.U16(16).Name("foo.example.org")
            .U16(0).U16(4).U16(1).U16(4)
            .U16(1).U16(3).CharacterString("h2")
            .U16(4).U16(4).Bytes(new byte[] { 192, 0, 2, 1 })
            .U16(5).U16(4).Bytes(new byte[] { 0xAA, 0xBB, 0xCC, 0xDD })),
        new("unknown type", 65280, r => r.Bytes(new byte[] { 1, 2, 3 })),
        new("empty unknown", 65281, _ => { }),
    ];
}
