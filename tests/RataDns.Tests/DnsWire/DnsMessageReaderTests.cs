using RataDns.DnsWire;
using RataDns.Tests.Support;

namespace RataDns.Tests.DnsWire;

public class DnsMessageReaderTests
{
    [Fact]
    public void Header_flags_follow_the_rfc_bit_layout()
    {
        // QR=1 opcode=2 AA=1 TC=0 RD=1 RA=1 Z=0 AD=1 CD=1 RCODE=3: 1 0010 1 0 1 | 1 0 1 1 0011 = 0x95B3
        byte[] m = [0x12, 0x34, 0x95, 0xB3, 0, 1, 0, 2, 0, 3, 0, 4];
        var reader = new DnsMessageReader(m);
        var h = reader.Header;
        Assert.Equal(0x1234, h.Id);
        Assert.True(h.IsResponse);
        Assert.Equal(2, h.Opcode);
        Assert.True(h.AuthoritativeAnswer);
        Assert.False(h.Truncated);
        Assert.True(h.RecursionDesired);
        Assert.True(h.RecursionAvailable);
        Assert.False(h.Z);
        Assert.True(h.AuthenticData);
        Assert.True(h.CheckingDisabled);
        Assert.Equal(3, h.Rcode);
        Assert.Equal((1, 2, 3, 4), (h.QuestionCount, h.AnswerCount, h.AuthorityCount, h.AdditionalCount));
    }

    [Fact]
    public void A_short_header_keeps_the_fields_it_has()
    {
        byte[] m = [0xAB, 0xCD, 0x01];
        var reader = new DnsMessageReader(m);
        Assert.Equal(DnsParseStatus.Truncated, reader.Status);
        Assert.Equal(DnsSection.Header, reader.FaultSection);
        Assert.Equal(3, reader.HeaderBytes);
        Assert.Equal(0xABCD, reader.Header.Id);
        Assert.False(reader.TryReadQuestion(out _));
        Assert.False(reader.TryReadRecord(out _));
    }

    [Fact]
    public void Reads_questions_and_records_in_order_with_sections()
    {
        var b = new TestMessageBuilder { Id = 7, Flags = 0x8180 };
        b.Question("www.example.com", DnsRecordType.A);
        b.Section(1).Record("www.example.com", DnsRecordType.CNAME, 1, 300, r => r.Name("web.example.com"));
        b.Section(1).Record("web.example.com", DnsRecordType.A, 60, [192, 0, 2, 1]);
        b.Section(2).Record("example.com", DnsRecordType.NS, 1, 3600, r => r.Name("ns1.example.com"));
        b.Section(3).Record("ns1.example.com", DnsRecordType.AAAA, 3600, new byte[16]);
        var m = b.ToArray();

        var reader = new DnsMessageReader(m);
        Assert.True(reader.TryReadQuestion(out var q));
        Assert.Equal("www.example.com.", q.Name.ToString());
        Assert.Equal(DnsRecordType.A, q.Type);
        Assert.False(reader.TryReadQuestion(out _));

        var seen = new List<(DnsSection, ushort, string)>();
        while (reader.TryReadRecord(out var r))
        {
            seen.Add((r.Section, r.Type, r.Name.ToString()));
        }

        Assert.Equal(
            [
                (DnsSection.Answer, DnsRecordType.CNAME, "www.example.com."),
                (DnsSection.Answer, DnsRecordType.A, "web.example.com."),
                (DnsSection.Authority, DnsRecordType.NS, "example.com."),
                (DnsSection.Additional, DnsRecordType.AAAA, "ns1.example.com."),
            ],
            seen);
        Assert.Equal(DnsParseStatus.Ok, reader.Status);
        Assert.Equal(0, reader.TrailingBytes);
        Assert.Equal(DnsSection.End, reader.CurrentSection);
    }

    [Fact]
    public void Reading_records_first_skips_the_questions()
    {
        var b = new TestMessageBuilder();
        b.Question("a.example", 1).Question("b.example", 28);
        b.Section(1).Record("a.example", 1, 5, [1, 2, 3, 4]);
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var r));
        Assert.Equal("a.example.", r.Name.ToString());
        Assert.Equal(5u, r.Ttl);
    }

    [Fact]
    public void More_records_announced_than_sent_is_count_exceeds_payload()
    {
        var b = new TestMessageBuilder { CountsOverride = [1, 3, 0, 0] };
        b.Question("example.org", 1);
        b.Section(1).Record("example.org", 1, 5, [1, 2, 3, 4]);
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadQuestion(out _));
        Assert.True(reader.TryReadRecord(out _));
        Assert.False(reader.TryReadRecord(out _));
        Assert.Equal(DnsParseStatus.CountExceedsPayload, reader.Status);
        Assert.Equal(DnsSection.Answer, reader.FaultSection);
    }

    [Fact]
    public void A_huge_question_count_on_a_tiny_message_fails_fast()
    {
        byte[] m = [0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        var reader = new DnsMessageReader(m);
        Assert.Equal(DnsParseStatus.CountExceedsPayload, reader.ReadToEnd());
    }

    [Fact]
    public void A_record_cut_inside_its_fixed_part_is_truncated_and_the_earlier_items_stay()
    {
        var b = new TestMessageBuilder();
        b.Question("example.org", 1);
        b.Section(1).Record("example.org", 1, 5, [1, 2, 3, 4]);
        var m = b.ToArray();
        var cut = m.AsSpan(0, m.Length - 8).ToArray();
        var reader = new DnsMessageReader(cut);
        Assert.True(reader.TryReadQuestion(out var q));
        Assert.Equal("example.org.", q.Name.ToString());
        Assert.False(reader.TryReadRecord(out _));
        Assert.Equal(DnsParseStatus.Truncated, reader.Status);
        Assert.Equal(DnsSection.Answer, reader.FaultSection);
        Assert.Equal(29, reader.FaultOffset);
    }

    [Fact]
    public void An_rdlength_past_the_end_is_rdata_overrun()
    {
        var b = new TestMessageBuilder();
        b.Section(1).Record("x", 1, 5, [1, 2, 3, 4]);
        var m = b.ToArray();
        var cut = m.AsSpan(0, m.Length - 1).ToArray();
        var reader = new DnsMessageReader(cut);
        Assert.Equal(DnsParseStatus.RdataOverrun, reader.ReadToEnd());
    }

    [Fact]
    public void Bad_rdata_is_reported_but_reading_goes_on()
    {
        var b = new TestMessageBuilder();
        b.Section(1).Record("x", DnsRecordType.A, 5, [1, 2, 3]);
        b.Section(1).Record("y", DnsRecordType.A, 5, [1, 2, 3, 4]);
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var bad));
        Assert.Equal(DnsParseStatus.BadRdata, bad.RdataStatus);
        Assert.True(reader.TryReadRecord(out var good));
        Assert.Equal(DnsParseStatus.Ok, good.RdataStatus);
        Assert.Equal(DnsParseStatus.BadRdata, reader.Status);
        Assert.Equal(DnsSection.Answer, reader.FaultSection);
    }

    [Theory]
    [InlineData(DnsClass.ANY, DnsRecordType.A, DnsParseStatus.Ok)]       // RFC 2136 2.5.2: delete an RRset
    [InlineData(DnsClass.ANY, DnsRecordType.AAAA, DnsParseStatus.Ok)]
    [InlineData(DnsClass.NONE, DnsRecordType.CNAME, DnsParseStatus.Ok)]  // RFC 2136 2.4.3: RRset does not exist
    [InlineData(DnsClass.ANY, DnsRecordType.MX, DnsParseStatus.Ok)]      // RFC 2136 2.4.1: RRset exists
    [InlineData(DnsClass.IN, DnsRecordType.A, DnsParseStatus.BadRdata)]  // an ordinary A record needs its 4 bytes
    [InlineData(DnsClass.IN, DnsRecordType.CNAME, DnsParseStatus.BadRdata)]
    public void Update_records_of_class_any_or_none_may_have_empty_rdata(ushort @class, ushort type, DnsParseStatus expected)
    {
        // An UPDATE (opcode 5) as arkime's dns-update.pcap has it: zone SOA, one prerequisite, one update.
        var b = new TestMessageBuilder { Flags = 0x2800 };
        b.Question("example.com", DnsRecordType.SOA);
        b.Section(1).Record("host.example.com", type, @class, 0, _ => { });
        b.Section(2).Record("host.example.com", DnsRecordType.A, 1200, [10, 0, 0, 1]);
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var record));
        Assert.Equal(expected, record.RdataStatus);
        Assert.Equal(expected, reader.ReadToEnd());
    }

    [Fact]
    public void A_compression_loop_in_a_record_name_stops_reading()
    {
        var b = new TestMessageBuilder();
        b.Question("a", 1);
        b.Section(1).Record("b", 1, 5, [1, 2, 3, 4]);
        var m = b.ToArray();
        // The record's owner name ("b" at offset 19, after the 12-byte header and the 7-byte question) becomes a pointer to itself.
        m[19] = 0xC0;
        m[20] = 19;
        var reader = new DnsMessageReader(m);
        Assert.True(reader.TryReadQuestion(out _));
        Assert.False(reader.TryReadRecord(out _));
        Assert.Equal(DnsParseStatus.ForwardPointer, reader.Status);
    }

    [Fact]
    public void The_pointer_hop_bound_counts_hops_through_a_remembered_name()
    {
        // Found while writing the fuzz reference reader (which walks every name from scratch): the reader remembers where recent names started, and a pointer that
        // lands there used to end the walk without counting the hops that name itself took. Three answers of an
        // unknown type (65520), each RDATA a backward chain of pointers (each points at the one before it):
        //   R0 at 12: owner root; RDATA at 23 = a root byte, then 40 pointers (the first points at the root byte).
        //   R1 at 104: owner = pointer to R0's last pointer: 1 + 39 + 1 = 41 hops to the root byte at 23; OK.
        //              RDATA at 116 = 30 pointers, the first pointing at R1's owner (offset 104).
        //   R2 at 176: owner = pointer to R1's last pointer: 1 + 29 + 1 = 31 hops to 104, then 41 more: 72 > 64.
        var m = new byte[188];
        m[2] = 0x80;
        m[7] = 3;                                                     // ANCOUNT 3
        WriteRecordHeader(m, 12, ownerPointer: -1, rdLength: 1 + 80);
        m[23] = 0;
        WriteChain(m, start: 24, links: 40, firstTarget: 23);
        WriteRecordHeader(m, 104, ownerPointer: 24 + (2 * 39), rdLength: 60);
        WriteChain(m, start: 116, links: 30, firstTarget: 104);
        WriteRecordHeader(m, 176, ownerPointer: 116 + (2 * 29), rdLength: 0);

        var reader = new DnsMessageReader(m);
        Assert.True(reader.TryReadRecord(out _));
        Assert.True(reader.TryReadRecord(out var second));
        Assert.Equal(0, second.Name.LabelCount);
        Assert.False(reader.TryReadRecord(out _));
        Assert.Equal(DnsParseStatus.PointerLoop, reader.Status);
        Assert.Equal(176, reader.FaultOffset);

        // The same verdict as a walk from scratch, which cannot use what the reader remembered.
        Assert.Equal(DnsParseStatus.PointerLoop, DnsName.TryRead(m, 176, out _));
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m, 104, out _));

        static void WriteRecordHeader(byte[] m, int at, int ownerPointer, int rdLength)
        {
            int p = at;
            if (ownerPointer < 0)
            {
                m[p++] = 0;
            }
            else
            {
                m[p++] = (byte)(0xC0 | (ownerPointer >> 8));
                m[p++] = (byte)ownerPointer;
            }

            m[p] = 0xFF;                                              // TYPE 65520
            m[p + 1] = 0xF0;
            m[p + 3] = 1;                                             // CLASS IN, TTL 0
            m[p + 8] = (byte)(rdLength >> 8);
            m[p + 9] = (byte)rdLength;
        }

        static void WriteChain(byte[] m, int start, int links, int firstTarget)
        {
            for (int i = 0; i < links; i++)
            {
                int at = start + (2 * i);
                int target = i == 0 ? firstTarget : at - 2;
                m[at] = (byte)(0xC0 | (target >> 8));
                m[at + 1] = (byte)target;
            }
        }
    }

    [Fact]
    public void Trailing_bytes_after_the_last_record_are_counted_not_faulted()
    {
        var b = new TestMessageBuilder();
        b.Question("example.net", 1);
        b.Bytes(new byte[] { 0, 0, 0 });
        var reader = new DnsMessageReader(b.ToArray());
        Assert.Equal(DnsParseStatus.Ok, reader.ReadToEnd());
        Assert.Equal(3, reader.TrailingBytes);
    }

    [Fact]
    public void Edns_fields_and_options_are_read()
    {
        var b = new TestMessageBuilder { Flags = 0x8005 };
        b.Question("example.com", 1);
        // OPT: udp 1232, extended rcode high bits 1 (=> rcode 16 BADVERS/BADSIG with header rcode 0... here 5 => 21), version 0, DO.
        b.Section(3).Record(".", DnsRecordType.OPT, 1232, 0x01008000, r => r
            .U16(EdnsOptionCode.ClientSubnet).U16(7).U16(1).U8(24).U8(0).Bytes(new byte[] { 198, 51, 100 })
            .U16(EdnsOptionCode.Cookie).U16(8).Bytes(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })
            .U16(EdnsOptionCode.ExtendedDnsError).U16(6).U16(18).Bytes("test"u8)
            .U16(EdnsOptionCode.Nsid).U16(2).Bytes(new byte[] { 0xAB, 0xCD })
            .U16(EdnsOptionCode.Padding).U16(3).Bytes(new byte[3]));
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var opt));
        Assert.True(EdnsRecord.TryRead(opt, out var edns));
        Assert.Equal(1232, edns.UdpPayloadSize);
        Assert.Equal(0, edns.Version);
        Assert.True(edns.DnssecOk);
        Assert.Equal(21, edns.ExtendedRcode(reader.Header));
        var codes = new List<ushort>();
        foreach (var option in edns.EnumerateOptions())
        {
            codes.Add(option.Code);
            if (option.Code == EdnsOptionCode.ClientSubnet)
            {
                Assert.True(option.TryReadClientSubnet(out ushort family, out byte source, out byte scope, out var address));
                Assert.Equal((1, 24, 0), (family, source, scope));
                Assert.Equal(new byte[] { 198, 51, 100 }, address.ToArray());
            }
            else if (option.Code == EdnsOptionCode.Cookie)
            {
                Assert.True(option.TryReadCookie(out var client, out var server));
                Assert.Equal(8, client.Length);
                Assert.True(server.IsEmpty);
            }
            else if (option.Code == EdnsOptionCode.ExtendedDnsError)
            {
                Assert.True(option.TryReadExtendedError(out ushort info, out var text));
                Assert.Equal(18, info);
                Assert.Equal("test"u8.ToArray(), text.ToArray());
            }
        }

        Assert.Equal([EdnsOptionCode.ClientSubnet, EdnsOptionCode.Cookie, EdnsOptionCode.ExtendedDnsError, EdnsOptionCode.Nsid, EdnsOptionCode.Padding], codes);
    }

    [Theory]
    [InlineData(new byte[] { 0, 8, 0, 4, 0, 1, 33, 0 })] // ECS /33 for IPv4
    [InlineData(new byte[] { 0, 8, 0, 5, 0, 1, 24, 0, 1 })] // ECS /24 with 1 address byte instead of 3
    [InlineData(new byte[] { 0, 8, 0, 4, 0, 3, 0, 0 })] // ECS family 3
    public void A_bad_client_subnet_option_is_refused_by_its_reader(byte[] optionBytes)
    {
        var b = new TestMessageBuilder();
        b.Section(3).Record(".", DnsRecordType.OPT, 512, 0, r => r.Bytes(optionBytes));
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var opt));
        Assert.True(EdnsRecord.TryRead(opt, out var edns));
        var options = edns.EnumerateOptions();
        Assert.True(options.MoveNext());
        Assert.False(options.Current.TryReadClientSubnet(out _, out _, out _, out _));
    }

    [Fact]
    public void Opt_rdata_with_a_cut_option_is_bad_rdata()
    {
        var b = new TestMessageBuilder();
        b.Section(3).Record(".", DnsRecordType.OPT, 512, 0, r => r.U16(10).U16(8).Bytes(new byte[] { 1, 2, 3 }));
        var reader = new DnsMessageReader(b.ToArray());
        Assert.True(reader.TryReadRecord(out var opt));
        Assert.Equal(DnsParseStatus.BadRdata, opt.RdataStatus);
        Assert.False(EdnsRecord.TryRead(opt, out _));
    }

    [Fact]
    public void Every_prefix_of_a_valid_message_parses_without_throwing_and_reports_a_fault()
    {
        var b = new TestMessageBuilder { Flags = 0x8180 };
        b.Question("www.example.com", DnsRecordType.A);
        b.Section(1).Record("www.example.com", DnsRecordType.MX, 1, 300, r => r.U16(10).Name("mail.example.com"));
        b.Section(1).Record("www.example.com", DnsRecordType.TXT, 1, 300, r => r.CharacterString("hello").CharacterString("world"));
        b.Section(3).Record(".", DnsRecordType.OPT, 1232, 0, r => r.U16(10).U16(8).Bytes(new byte[8]));
        var m = b.ToArray();
        for (int n = 0; n < m.Length; n++)
        {
            var reader = new DnsMessageReader(m.AsSpan(0, n));
            var status = reader.ReadToEnd();
            Assert.NotEqual(DnsParseStatus.Ok, status);
        }

        Assert.Equal(DnsParseStatus.Ok, new DnsMessageReader(m).ReadToEnd());
    }
}
