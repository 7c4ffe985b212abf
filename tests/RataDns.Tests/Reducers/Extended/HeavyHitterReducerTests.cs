using System.Net;
using RataDns.Reducers;
using RataDns.Reducers.Extended;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;
using static RataDns.Tests.Reducers.Extended.ExtendedTestSupport;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Extended;

public class HeavyHitterReducerTests
{
    private static readonly string[] Names =
    [
        "www.Example.com", "mail.example.COM", "example.com", "a.b.example.org", "com", ".", "x.example.net",
        "WWW.EXAMPLE.NET", "foo.co.uk", "bar.co.uk", "ORG", "deep.sub.example.org", "cdn.example.com",
    ];

    /// <summary>The last <paramref name="labels"/> labels of a dotted name, lowercased, with the trailing dot.</summary>
    private static string Suffix(string dotted, int labels)
    {
        var parts = dotted.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0 ? "." : string.Join('.', parts.TakeLast(labels)).ToLowerInvariant() + ".";
    }

    private static List<(string Key, long Count, long Error)> Expected(IEnumerable<string> keys, int n) =>
        keys.GroupBy(k => k, StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Count: (long)g.Count(), Error: 0L))
            .OrderByDescending(e => e.Count)
            .ThenBy(e => e.Key, StringComparer.Ordinal)
            .Take(n)
            .ToList();

    private static List<TestPacket> NameTraffic()
    {
        var traffic = new List<TestPacket>();
        var random = new Random(7);
        for (int i = 0; i < 300; i++)
        {
            string name = Names[random.Next(Names.Length)];
            traffic.Add(random.Next(4) == 0
                ? R("10.0.0.9", name, time: i * Millisecond, rcode: (byte)random.Next(6))
                : Q($"10.0.{random.Next(3)}.{random.Next(4)}", name, time: i * Millisecond));
        }

        return traffic;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Domain_levels_count_queries_by_lowercased_suffix(int labels)
    {
        var level = labels == 1 ? DomainLevelCounter.DomainLevel.TopLevel : DomainLevelCounter.DomainLevel.SecondLevel;
        var reducer = new DomainLevelCounter(level, n: 5, capacity: 100);
        var traffic = NameTraffic();
        ObserveAll(reducer, traffic);

        var queried = traffic.Where(p => (p.Message[2] & 0x80) == 0)
            .Select(p => Suffix(new DnsMessageView(p.Message).FirstName, labels));
        Assert.Equal(Expected(queried, 5), Top(reducer, "name"));
        Assert.Equal(traffic.Count(p => (p.Message[2] & 0x80) == 0), ParseData(reducer).Get("total").GetInt64());
    }

    [Fact]
    public void Domain_levels_by_hand()
    {
        var tld = new DomainLevelCounter(DomainLevelCounter.DomainLevel.TopLevel);
        var sld = new DomainLevelCounter(DomainLevelCounter.DomainLevel.SecondLevel);
        var traffic = new List<TestPacket>
        {
            Query(1, "10.0.0.1", 1, 0, ("WWW.Example.COM", 1), ("com", 2)),
            Q("10.0.0.1", "."),
            Q("10.0.0.1", "a.b.example.org"),
            R("10.0.0.1", "ignored.example.net"),
        };
        ObserveAll(tld, traffic);
        ObserveAll(sld, traffic);

        Assert.Equal(
            """{"total":4,"top":[{"name":"com.","count":2,"error":0},{"name":".","count":1,"error":0},{"name":"org.","count":1,"error":0}]}""",
            Data(tld));
        Assert.Equal(
            """{"total":4,"top":[{"name":".","count":1,"error":0},{"name":"com.","count":1,"error":0},{"name":"example.com.","count":1,"error":0},{"name":"example.org.","count":1,"error":0}]}""",
            Data(sld));
        Assert.Equal("TldCounter", tld.Type);
        Assert.Equal("SldCounter", sld.Type);
    }

    [Fact]
    public void Top_clients_counts_query_messages_by_source_with_rfc5952_text()
    {
        var reducer = new TopClientsReducer(n: 3, capacity: 10);
        var traffic = new List<TestPacket>
        {
            Q("2001:0db8:0000:0000:0000:0000:0000:0001", "a."),
            Query(2, "2001:db8::1", 1, 0, ("a", 1), ("b", 1)),
            Q("192.0.2.7", "a."),
            Q("2001:db8:0:0:1:0:0:1", "a."),
            Q("2001:db8:0:0:1:0:0:1", "a."),
            Q("2001:db8:0:0:1:0:0:1", "a."),
            Q("10.1.1.1", "a."),
            R("10.1.1.1", "a."),
        };
        ObserveAll(reducer, traffic);

        // RFC 5952 4.2.3: the first of two equal runs of zero groups is the one shortened.
        Assert.Equal(
            """{"total":7,"top":[{"client":"2001:db8::1:0:0:1","count":3,"error":0},{"client":"2001:db8::1","count":2,"error":0},{"client":"10.1.1.1","count":1,"error":0}]}""",
            Data(reducer));
    }

    [Theory]
    [InlineData(3, "TopNxdomainNames")]
    [InlineData(5, "TopRefusedNames")]
    [InlineData(2, "TopServfailNames")]
    public void Rcode_names_count_only_responses_with_that_rcode(byte rcode, string type)
    {
        var reducer = new TopRcodeNamesReducer(rcode, n: 20, capacity: 100);
        var traffic = NameTraffic();
        ObserveAll(reducer, traffic);

        var expected = traffic.Where(p => (p.Message[2] & 0x80) != 0 && (p.Message[3] & 0xF) == rcode)
            .Select(p => Suffix(new DnsMessageView(p.Message).FirstName, 128));
        Assert.Equal(Expected(expected, 20), Top(reducer, "name"));
        Assert.Equal(type, reducer.Type);
        Assert.True(expected.Any());
    }

    [Fact]
    public void Rcode_names_use_the_extended_rcode_of_an_opt_record()
    {
        var reducer = new TopRcodeNamesReducer(TopRcodeNamesReducer.Nxdomain);

        // Header RCODE 3 with OPT extended RCODE high byte 1: RCODE 19 (not NXDOMAIN). And a plain NXDOMAIN query
        // (QR = 0 with RCODE 3) is not a response.
        var extended = new TestMessageBuilder { Id = 1, Flags = 0x8183 }.Question("ext.example", 1);
        extended.Section(3).Record(".", 41, 1232, 1u << 24, b => b.Bytes([]));
        var withOpt = new TestMessageBuilder { Id = 1, Flags = 0x8183 }.Question("opt.example", 1);
        withOpt.Section(3).Record(".", 41, 1232, 0, b => b.Bytes([]));
        ObserveAll(reducer, [
            Raw(extended.ToArray()),
            Raw(withOpt.ToArray()),
            Raw(new TestMessageBuilder { Id = 1, Flags = 0x0103 }.Question("query.example", 1).ToArray()),
            R("10.0.0.1", "Plain.Example"),
            R("10.0.0.1", "Plain.Example", rcode: 3),
        ]);

        Assert.Equal(
            """{"total":2,"top":[{"name":"opt.example.","count":1,"error":0},{"name":"plain.example.","count":1,"error":0}]}""",
            Data(reducer));
    }

    public static TheoryData<string> HeavyHitterTypes() =>
        ["TldCounter", "SldCounter", "TopClients", "TopNxdomainNames", "TopRefusedNames", "TopServfailNames"];

    [Theory]
    [MemberData(nameof(HeavyHitterTypes))]
    public void Merge_of_a_split_equals_the_whole_reset_and_create_empty(string type)
    {
        var reducer = Create(type, n: 8, capacity: 1000);
        var traffic = NameTraffic();
        AssertMergeEqualsWhole(reducer, traffic, step: 7);

        ObserveAll(reducer, traffic);
        Assert.NotEqual(Data(reducer.CreateEmpty()), Data(reducer));
        reducer.Reset();
        Assert.Equal("""{"total":0,"top":[]}""", Data(reducer));
        Assert.Equal("""{"total":0,"top":[]}""", Data(reducer.CreateEmpty()));
        Assert.Equal(8, ((HeavyHitterReducer)reducer.CreateEmpty()).N);
        Assert.Equal(1000, ((HeavyHitterReducer)reducer.CreateEmpty()).Capacity);
    }

    [Fact]
    public void Merge_rejects_other_levels_and_n()
    {
        var tld = new DomainLevelCounter(DomainLevelCounter.DomainLevel.TopLevel);
        Assert.Throws<ArgumentException>(() => tld.Merge(new DomainLevelCounter(DomainLevelCounter.DomainLevel.SecondLevel)));
        Assert.Throws<ArgumentException>(() => tld.Merge(new DomainLevelCounter(DomainLevelCounter.DomainLevel.TopLevel, n: 3)));
        Assert.Throws<ArgumentException>(() => new TopRcodeNamesReducer(2).Merge(new TopRcodeNamesReducer(3)));
    }

    [Fact]
    public void A_flood_of_unique_names_and_clients_keeps_the_state_bounded()
    {
        var sld = new DomainLevelCounter(DomainLevelCounter.DomainLevel.SecondLevel, n: 5, capacity: 512);
        var clients = new TopClientsReducer(n: 5, capacity: 512);
        var builder = new TestMessageBuilder { Id = 1, Flags = 0x0100 }.Question("www.example.com", 1);
        byte[] template = builder.ToArray();
        for (int i = 0; i < 200_000; i++)
        {
            // Overwrite the 7 bytes of the label "example" (its length byte is at offset 16) with a unique label.
            byte[] message = (byte[])template.Clone();
            System.Text.Encoding.ASCII.GetBytes(i.ToString("x7", System.Globalization.CultureInfo.InvariantCulture)).CopyTo(message, 17);
            new TestPacket(message, i, new IPAddress(BitConverter.GetBytes(0x0A000000 + i)), 1, Server, 53).ObserveIn(sld);
            new TestPacket(message, i, new IPAddress(BitConverter.GetBytes(0x0A000000 + i)), 1, Server, 53).ObserveIn(clients);
        }

        Assert.Equal(512, sld.MonitoredCount);
        Assert.Equal(512, clients.MonitoredCount);
        var top = Top(sld, "name");
        Assert.Equal(5, top.Count);
        Assert.Equal(200_000, ParseData(sld).Get("total").GetInt64());

        // Every name was seen once: each count overestimates by its error, and the error is at most total / capacity.
        Assert.All(top, e => Assert.Equal(1, e.Count - e.Error));
        Assert.All(top, e => Assert.True(e.Error <= 200_000 / 512));
    }

    [Fact]
    public void Space_saving_bounds_hold_on_a_zipf_stream()
    {
        const int capacity = 64;
        const int distinct = 2000;
        const int draws = 40_000;
        var random = new Random(11);
        double[] cumulative = new double[distinct];
        double sum = 0;
        for (int k = 0; k < distinct; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, 1.1);
            cumulative[k] = sum;
        }

        var first = new DomainLevelCounter(DomainLevelCounter.DomainLevel.SecondLevel, n: capacity, capacity: capacity);
        var second = (DomainLevelCounter)first.CreateEmpty();
        var truth = new Dictionary<string, long>(StringComparer.Ordinal);
        var secondTruth = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < draws; i++)
        {
            int rank = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            rank = rank < 0 ? ~rank : rank;
            string name = $"n{rank}.example";
            truth[name + "."] = truth.GetValueOrDefault(name + ".") + 1;
            if (i % 3 != 0)
            {
                secondTruth[name + "."] = secondTruth.GetValueOrDefault(name + ".") + 1;
            }

            Q("10.0.0.1", name, time: i).ObserveIn(i % 3 == 0 ? first : second);
        }

        // The bounds hold for a partial and for the merge of partials.
        foreach (var (reducer, counts) in new[] { (second, secondTruth), (Merged(first, second), truth) })
        {
            var top = Top(reducer, "name");
            long total = ParseData(reducer).Get("total").GetInt64();
            Assert.Equal(capacity, top.Count);
            foreach (var (name, count, error) in top)
            {
                long actual = counts.GetValueOrDefault(name);
                Assert.InRange(actual, count - error, count);
                Assert.True(error <= total / capacity, $"{name}: error {error} > {total}/{capacity}");
            }
        }

        // Every name heavier than total / capacity is reported.
        var merged = Top(Merged(first, second), "name").Select(e => e.Key).ToHashSet();
        Assert.All(truth.Where(t => t.Value > draws / capacity), t => Assert.Contains(t.Key, merged));
        Assert.Contains(truth, t => t.Value > draws / capacity);
    }

    private static Reducer Merged(Reducer a, Reducer b)
    {
        var merged = a.CreateEmpty();
        merged.Merge(a);
        merged.Merge(b);
        return merged;
    }

    private static Reducer Create(string type, int n, int capacity) => type switch
    {
        "TldCounter" => new DomainLevelCounter(DomainLevelCounter.DomainLevel.TopLevel, n, capacity),
        "SldCounter" => new DomainLevelCounter(DomainLevelCounter.DomainLevel.SecondLevel, n, capacity),
        "TopClients" => new TopClientsReducer(n, capacity),
        "TopNxdomainNames" => new TopRcodeNamesReducer(3, n, capacity),
        "TopRefusedNames" => new TopRcodeNamesReducer(5, n, capacity),
        _ => new TopRcodeNamesReducer(2, n, capacity),
    };

    /// <summary>The first question name of a message, decoded by hand (uncompressed names only) for expectations.</summary>
    private readonly struct DnsMessageView(byte[] message)
    {
        public string FirstName
        {
            get
            {
                var labels = new List<string>();
                int at = 12;
                while (message[at] != 0)
                {
                    labels.Add(System.Text.Encoding.ASCII.GetString(message, at + 1, message[at]));
                    at += 1 + message[at];
                }

                return labels.Count == 0 ? "." : string.Join('.', labels);
            }
        }
    }
}
