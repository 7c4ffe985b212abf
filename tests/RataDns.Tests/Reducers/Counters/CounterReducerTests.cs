using System.Text.Json;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.Counters;
using static RataDns.Tests.Reducers.Counters.CounterTestSupport;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Counters;

public class CounterReducerTests
{
    public static TheoryData<string> CounterTypes() =>
    [
        "RcodeCounter",
        "QtypeCounter",
        "OpcodeCounter",
        "QclassCounter",
        "TransportCounter",
        "EdnsCounter",
        "MessageSizeHistogram",
    ];

    [Fact]
    public void RcodeCounter_counts_responses_by_extended_rcode()
    {
        var reducer = new RcodeCounter();
        var packets = new List<CounterPacket>
        {
            new(Response().ToArray()),
            new(Response().Opt(1232).ToArray()),
            new(Response(3).ToArray()),
            new(Response(2).ToArray()),
            new(Response(11).ToArray()),
            // OPT high byte 1: 16 | 0 = BADVERS, 16 | 7 = BADCOOKIE; high byte 0x10: 256.
            new(Response().Opt(1232, rcodeHigh: 1).ToArray()),
            new(Response(7).Opt(1232, rcodeHigh: 1).ToArray()),
            new(Response().Opt(1232, rcodeHigh: 0x10).ToArray()),
            // Not counted: a query (whatever its RCODE bits), and a response too short to hold the RCODE.
            new(Message(QueryFlags | 3, ("www.example.com", 1, 1)).ToArray()),
            new([0, 7, 0x81]),
        };
        ObserveEach(reducer, packets);

        Assert.Equal(
            """{"NOERROR":2,"11":1,"256":1,"BADCOOKIE":1,"BADVERS":1,"NXDOMAIN":1,"SERVFAIL":1}""",
            Data(reducer));
    }

    [Fact]
    public void RcodeCounter_ignores_an_opt_record_outside_the_additional_section()
    {
        var reducer = new RcodeCounter();
        new CounterPacket(Response(3).Opt(1232, rcodeHigh: 1, section: 1).ToArray()).ObserveIn(reducer);
        Assert.Equal("""{"NXDOMAIN":1}""", Data(reducer));
    }

    [Fact]
    public void QtypeCounter_counts_every_question_of_queries()
    {
        var reducer = new QtypeCounter();
        ObserveEach(reducer,
        [
            new(Query().ToArray()),
            new(Message(QueryFlags, ("example.com", 1, 1), ("example.com", 28, 1)).ToArray()),
            new(Message(QueryFlags, ("example.com", 65280, 1)).ToArray()),
            new(Message(QueryFlags, ("example.com", 15, 1)).Opt(1232).ToArray()),
            new(Message(ResponseFlags, ("example.com", 16, 1)).ToArray()),
        ]);

        Assert.Equal("""{"A":2,"AAAA":1,"MX":1,"TYPE65280":1}""", Data(reducer));
    }

    [Fact]
    public void QtypeCounter_counts_the_questions_read_before_a_fault()
    {
        var reducer = new QtypeCounter();
        var builder = Message(QueryFlags, ("example.com", 33, 1));
        builder.CountsOverride = [3, 0, 0, 0];
        new CounterPacket(builder.ToArray()).ObserveIn(reducer);
        Assert.Equal("""{"SRV":1}""", Data(reducer));
    }

    [Fact]
    public void QclassCounter_counts_raw_classes_of_query_questions()
    {
        var reducer = new QclassCounter();
        ObserveEach(reducer,
        [
            new(Query().ToArray()),
            new(Message(QueryFlags, ("example.com", 1, 1), ("version.bind", 16, 3)).ToArray()),
            // mDNS "QU" question: the unicast-response bit is kept.
            new(Message(QueryFlags, ("printer.local", 12, 0x8001)).ToArray()),
            new(Message(QueryFlags, ("example.com", 255, 254)).ToArray()),
            new(Message(ResponseFlags, ("example.com", 1, 4)).ToArray()),
        ]);

        Assert.Equal("""{"IN":2,"CH":1,"CLASS32769":1,"NONE":1}""", Data(reducer));
    }

    [Fact]
    public void OpcodeCounter_splits_queries_and_responses()
    {
        var reducer = new OpcodeCounter();
        Assert.Equal("""{"queries":{},"responses":{}}""", Data(reducer));

        ObserveEach(reducer,
        [
            new(Query().ToArray()),
            new(Query().ToArray()),
            new(Message(4 << 11, ("example.com", 6, 1)).ToArray()),
            new(Message(5 << 11, ("example.com", 6, 1)).ToArray()),
            new(Message(3 << 11, ("example.com", 6, 1)).ToArray()),
            new(Message(0x8000 | (4 << 11), ("example.com", 6, 1)).ToArray()),
            new(Message(0x8000 | (6 << 11)).ToArray()),
            new(Message(0x8000 | (15 << 11)).ToArray()),
            new([0x12, 0x34]),
        ]);

        Assert.Equal(
            """{"queries":{"QUERY":2,"3":1,"NOTIFY":1,"UPDATE":1},"responses":{"15":1,"DSO":1,"NOTIFY":1}}""",
            Data(reducer));
    }

    [Fact]
    public void TransportCounter_counts_every_message_by_transport_and_ip_version()
    {
        var reducer = new TransportCounter();
        Assert.Equal("""{"udp4":0,"udp6":0,"tcp4":0,"tcp6":0}""", Data(reducer));

        ObserveEach(reducer,
        [
            new(Query().ToArray()),
            new(Response().ToArray()),
            new(Query().ToArray(), TransportProtocol.Udp, Ipv6: true),
            new(Query().ToArray(), TransportProtocol.Tcp, Ipv6: true),
            new(Response().ToArray(), TransportProtocol.Tcp, Ipv6: true),
            new(Response().ToArray(), TransportProtocol.Tcp, Ipv6: true),
            new([0x12], TransportProtocol.Tcp),
        ]);

        Assert.Equal("""{"udp4":2,"udp6":1,"tcp4":1,"tcp6":3}""", Data(reducer));
    }

    [Fact]
    public void TransportCounter_counts_encrypted_transports_apart_and_writes_them_only_once_seen()
    {
        // dnstap names the encrypted transport (issue 17); the UDP or TCP under it is not counted again.
        var reducer = new TransportCounter();
        ObserveEach(reducer,
        [
            new(Query().ToArray()),
            new(Query().ToArray(), TransportProtocol.Tcp, Encryption: EncryptedTransport.Tls),
            new(Response().ToArray(), TransportProtocol.Tcp, Encryption: EncryptedTransport.Tls),
            new(Query().ToArray(), TransportProtocol.Tcp, Ipv6: true, Encryption: EncryptedTransport.Https),
            new(Query().ToArray(), TransportProtocol.Udp, Encryption: EncryptedTransport.Quic),
            new(Query().ToArray(), TransportProtocol.Udp, Ipv6: true, Encryption: EncryptedTransport.DnsCrypt),
            new(Query().ToArray(), TransportProtocol.Tcp, Encryption: EncryptedTransport.DnsCrypt),
        ]);
        Assert.Equal(
            """{"udp4":1,"udp6":0,"tcp4":0,"tcp6":0,"dot4":2,"dot6":0,"doh4":0,"doh6":1,"doq4":1,"doq6":0,"dnscrypt4":1,"dnscrypt6":1}""",
            Data(reducer));

        // Only DoT seen: the plain four and the DoT pair.
        var dot = new TransportCounter();
        ObserveEach(dot, [new(Query().ToArray(), TransportProtocol.Tcp, Ipv6: true, Encryption: EncryptedTransport.Tls)]);
        Assert.Equal("""{"udp4":0,"udp6":0,"tcp4":0,"tcp6":0,"dot4":0,"dot6":1}""", Data(dot));

        // The state carries them (layout 2), and a layout-1 state of a monitor before them still reads.
        var copy = new TransportCounter();
        RataDns.Reducers.State.ReducerState.ReadInto(copy, RataDns.Reducers.State.ReducerState.ReadHeader(RataDns.Reducers.State.ReducerState.ToArray(reducer, null)).Body);
        Assert.Equal(Data(reducer), Data(copy));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        writer.WriteArrayHeader(5);
        foreach (long n in new long[] { 1, 5, 2, 3, 4 })
        {
            writer.Write(n);
        }

        writer.Flush();
        var old = new TransportCounter();
        RataDns.Reducers.State.ReducerState.ReadInto(old, buffer.WrittenMemory);
        Assert.Equal("""{"udp4":5,"udp6":2,"tcp4":3,"tcp6":4}""", Data(old));
    }

    [Fact]
    public void EdnsCounter_counts_edns_use_in_queries()
    {
        var reducer = new EdnsCounter();
        ObserveEach(reducer,
        [
            new(Query().ToArray()),
            new(Query().Opt(1232, dnssecOk: true).ToArray()),
            new(Query().Opt(4096, options: ClientSubnetOption).ToArray()),
            new(Query().Opt(512, version: 1, dnssecOk: true).ToArray()),
            new(Query().Opt(100).ToArray()),
            new(Query().Opt(1232, options: [.. CookieOption, .. ClientSubnetOption]).ToArray()),
            new(Query().Opt(1233).ToArray()),
            // An OPT record in the answer section is not EDNS; responses are not counted.
            new(Query().Opt(1232, section: 1).ToArray()),
            new(Response().Opt(1232, dnssecOk: true, options: ClientSubnetOption).ToArray()),
        ]);

        var data = ParseData(reducer);
        Assert.Equal(8, data.GetProperty("queries").GetInt64());
        Assert.Equal(6, data.GetProperty("edns").GetInt64());
        Assert.Equal(2, data.GetProperty("noEdns").GetInt64());
        Assert.Equal(2, data.GetProperty("do").GetInt64());
        Assert.Equal(2, data.GetProperty("clientSubnet").GetInt64());
        Assert.Equal("""{"0":5,"1":1}""", data.GetProperty("versions").GetRawText());
        Assert.Equal("<512=1,512-1231=1,1232=2,1233-4095=1,>=4096=1", Pairs(data.GetProperty("udpSize")));
        Assert.Equal(
            ["queries", "edns", "noEdns", "versions", "do", "clientSubnet", "udpSize"],
            data.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Theory]
    [InlineData(0, "<512")]
    [InlineData(511, "<512")]
    [InlineData(512, "512-1231")]
    [InlineData(1231, "512-1231")]
    [InlineData(1232, "1232")]
    [InlineData(1233, "1233-4095")]
    [InlineData(4095, "1233-4095")]
    [InlineData(4096, ">=4096")]
    [InlineData(65535, ">=4096")]
    public void EdnsCounter_buckets_udp_payload_sizes(int size, string bucket)
    {
        var reducer = new EdnsCounter();
        new CounterPacket(Query().Opt((ushort)size).ToArray()).ObserveIn(reducer);
        var buckets = ParseData(reducer).GetProperty("udpSize").EnumerateObject().ToList();
        Assert.Equal(["<512", "512-1231", "1232", "1233-4095", ">=4096"], buckets.Select(b => b.Name).ToArray());
        foreach (var b in buckets)
        {
            Assert.Equal(b.Name == bucket ? 1 : 0, b.Value.GetInt64());
        }
    }

    [Fact]
    public void MessageSizeHistogram_buckets_queries_and_responses()
    {
        var reducer = new MessageSizeHistogram();
        foreach (int length in new[] { 12, 63, 64, 1231, 1232, 4096, 65535 })
        {
            new CounterPacket(OfLength(length, response: false)).ObserveIn(reducer);
        }

        foreach (int length in new[] { 127, 128, 1500, 4095, 4095 })
        {
            new CounterPacket(OfLength(length, response: true)).ObserveIn(reducer);
        }

        new CounterPacket([0x12, 0x34]).ObserveIn(reducer);

        var data = ParseData(reducer);
        Assert.Equal(
            "0-63=2,64-127=1,128-255=0,256-511=0,512-1023=0,1024-1231=1,1232-1499=1,1500-4095=0,4096+=2",
            Pairs(data.GetProperty("queries")));
        Assert.Equal(
            "0-63=0,64-127=1,128-255=1,256-511=0,512-1023=0,1024-1231=0,1232-1499=0,1500-4095=3,4096+=0",
            Pairs(data.GetProperty("responses")));
    }

    [Theory]
    [MemberData(nameof(CounterTypes))]
    public void Registry_creates_each_counter_by_name(string type)
    {
        Assert.Contains(type, ReducerRegistry.KnownTypes);
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type.ToLowerInvariant() });
        Assert.Equal(type, reducer.Type);
        Assert.Equal(type, reducer.GetType().Name);
        Assert.Equal(type, reducer.CreateEmpty().Type);

        var options = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase)
        {
            ["Capacity"] = JsonDocument.Parse("2").RootElement.Clone(),
        };
        Assert.Throws<ConfigurationException>(() => ReducerRegistry.Create(new ReducerConfiguration { Name = type, Options = options }));
    }

    [Theory]
    [MemberData(nameof(CounterTypes))]
    public void Merging_a_split_equals_observing_everything(string type)
    {
        var traffic = CounterTraffic();
        var whole = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        ObserveEach(whole, traffic);
        string expected = Data(whole);

        for (int split = 0; split <= traffic.Count; split++)
        {
            var first = whole.CreateEmpty();
            var second = whole.CreateEmpty();
            ObserveEach(first, traffic.Take(split));
            ObserveEach(second, traffic.Skip(split));
            string secondBefore = Data(second);
            first.Merge(second);
            Assert.Equal(expected, Data(first));
            Assert.Equal(secondBefore, Data(second));
        }

        Assert.Throws<ArgumentException>(() => whole.Merge(whole));
        Assert.Throws<ArgumentException>(() => whole.Merge(new RataDns.Reducers.Original.PacketRateReducer(RataDns.Reducers.Original.PacketRateReducer.RateKind.PacketsPerSecond)));
    }

    [Theory]
    [MemberData(nameof(CounterTypes))]
    public void Reset_empties(string type)
    {
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        string empty = Data(reducer);
        ObserveEach(reducer, CounterTraffic());
        Assert.NotEqual(empty, Data(reducer));
        reducer.Reset();
        Assert.Equal(empty, Data(reducer));
        Assert.Equal(empty, Data(reducer.CreateEmpty()));
    }

    [Fact]
    public void Mixed_traffic_gives_the_hand_counted_results()
    {
        var expected = new Dictionary<string, string>
        {
            ["RcodeCounter"] = """{"NOERROR":3,"BADVERS":1,"NXDOMAIN":1}""",
            ["QtypeCounter"] = """{"A":2,"AAAA":1,"PTR":1,"SOA":1,"TYPE65280":1}""",
            ["OpcodeCounter"] = """{"queries":{"QUERY":4,"IQUERY":1},"responses":{"QUERY":4,"IQUERY":1}}""",
            ["QclassCounter"] = """{"IN":4,"CH":1,"CLASS32769":1}""",
            ["TransportCounter"] = """{"udp4":5,"udp6":2,"tcp4":2,"tcp6":2}""",
        };
        foreach (var (type, json) in expected)
        {
            var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
            ObserveEach(reducer, CounterTraffic());
            Assert.Equal(json, Data(reducer));
        }

        var edns = new EdnsCounter();
        ObserveEach(edns, CounterTraffic());
        var data = ParseData(edns);
        Assert.Equal(5, data.GetProperty("queries").GetInt64());
        Assert.Equal(3, data.GetProperty("edns").GetInt64());
        Assert.Equal(2, data.GetProperty("noEdns").GetInt64());
        Assert.Equal("""{"0":2,"1":1}""", data.GetProperty("versions").GetRawText());
        Assert.Equal(1, data.GetProperty("do").GetInt64());
        Assert.Equal(1, data.GetProperty("clientSubnet").GetInt64());
    }

    [Theory]
    [MemberData(nameof(CounterTypes))]
    public void Observe_allocates_nothing(string type)
    {
        var traffic = CounterTraffic();
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        ObserveEach(reducer, traffic);
        reducer.Reset();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 2_000; round++)
        {
            foreach (var packet in traffic)
            {
                packet.ObserveIn(reducer);
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16_000, $"{allocated} bytes allocated for {2_000 * traffic.Count} observations");
    }
}
