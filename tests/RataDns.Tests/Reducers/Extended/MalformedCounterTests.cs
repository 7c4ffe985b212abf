using RataDns.Reducers.Extended;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;
using static RataDns.Tests.Reducers.Extended.ExtendedTestSupport;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Extended;

public class MalformedCounterTests
{
    /// <summary>A query header (id 1, RD) with the given counts, then <paramref name="body"/>.</summary>
    private static byte[] Message(ushort flags, int questions, int answers, params byte[] body)
    {
        var builder = new TestMessageBuilder { Id = 1, Flags = flags, CountsOverride = [questions, answers, 0, 0] };
        return builder.Bytes(body).ToArray();
    }

    // www.example.com in wire form: 17 bytes.
    private static readonly byte[] WwwExampleCom = [3, (byte)'w', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 3, (byte)'c', (byte)'o', (byte)'m', 0];

    private static byte[] QuestionThen(params byte[] rest) => [.. WwwExampleCom, 0, 1, 0, 1, .. rest];

    [Fact]
    public void Counts_messages_by_reason_with_examples_by_hand()
    {
        var reducer = new MalformedCounter();
        ObserveAll(reducer, [
            Q("10.0.0.1", "ok.example", time: 1),

            // Five bytes: the header is cut; reported at offset 5 in the header.
            Raw([0, 1, 1, 0, 0], "10.0.0.2", time: 2),

            // One question announced, none sent: count exceeds payload at offset 12, question section.
            Raw(Message(0x0100, 1, 0), "10.0.0.3", time: 3),

            // A label length byte 0x40 (extended label type) at offset 12.
            Raw(Message(0x0100, 1, 0, 0x40, 0, 0, 1, 0, 1), "10.0.0.4", time: 4),

            // A pointer to itself at offset 12.
            Raw(Message(0x0100, 1, 0, 0xC0, 12, 0, 1, 0, 1), "10.0.0.5", time: 5),

            // A response (client = destination) whose answer at offset 12 + 21 = 33 claims 200 bytes of RDATA, has 4.
            new TestPacket(
                Message(0x8180, 1, 1, QuestionThen(0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 200, 1, 2, 3, 4)),
                6,
                Server,
                53,
                System.Net.IPAddress.Parse("2001:db8::5"),
                4000),
        ]);

        string expected = """
            {"total":6,"malformed":5,"reasons":{
            "ok":{"count":1,"examples":[]},
            "truncated":{"count":1,"examples":[{"client":"10.0.0.2","offset":5,"section":"header","size":5}]},
            "count_exceeds_payload":{"count":1,"examples":[{"client":"10.0.0.3","offset":12,"section":"question","size":12}]},
            "bad_label_type":{"count":1,"examples":[{"client":"10.0.0.4","offset":12,"section":"question","size":18}]},
            "forward_pointer":{"count":1,"examples":[{"client":"10.0.0.5","offset":12,"section":"question","size":18}]},
            "rdata_overrun":{"count":1,"examples":[{"client":"2001:db8::5","qname":"www.example.com.","offset":33,"section":"answer","size":49}]}
            }}
            """;
        Assert.Equal(
            expected.ReplaceLineEndings(string.Empty),
            Data(reducer));
    }

    [Fact]
    public void Keeps_the_earliest_examples_up_to_the_limit()
    {
        var reducer = new MalformedCounter(examplesPerReason: 2);

        // Truncated messages of sizes 1..5 at times 50, 40, 30, 20, 10: the two earliest are sizes 5 and 4.
        for (int size = 1; size <= 5; size++)
        {
            Raw(new byte[size], time: 60 - (size * 10)).ObserveIn(reducer);
        }

        var truncated = ParseData(reducer).Get("reasons").Get("truncated");
        Assert.Equal(5, truncated.Get("count").GetInt64());
        Assert.Equal(new[] { 5, 4 }, truncated.Get("examples").EnumerateArray().Select(e => e.Get("size").GetInt32()));

        var none = new MalformedCounter(examplesPerReason: 0);
        Raw(new byte[3]).ObserveIn(none);
        Assert.Equal("""{"total":1,"malformed":1,"reasons":{"truncated":{"count":1,"examples":[]}}}""", Data(none));
    }

    private static List<TestPacket> MalformedTraffic()
    {
        var random = new Random(9);
        var traffic = new List<TestPacket>();
        for (int i = 0; i < 200; i++)
        {
            byte[] message = random.Next(4) switch
            {
                0 => Message(0x0100, 1, 0, QuestionThen()),
                1 => new byte[random.Next(12)],
                2 => Message(0x0100, 1 + random.Next(3), 0, QuestionThen()),
                _ => Message(0x0100, 1, 1, QuestionThen(0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, (byte)(4 + random.Next(9)), 1, 2, 3, 4, 5, 6, 7, 8)),
            };
            traffic.Add(Raw(message, $"10.0.{i % 7}.{i % 11}", i * Millisecond));
        }

        return traffic;
    }

    [Fact]
    public void Counts_agree_with_an_independent_reading()
    {
        var reducer = new MalformedCounter();
        var traffic = MalformedTraffic();
        ObserveAll(reducer, traffic);
        var reasons = ParseData(reducer).Get("reasons");

        // Classified from how each message was built: header cut, extra questions announced; an A record with 8
        // bytes present announcing 4 is fine (then trailing bytes), 5..8 is not an address, more is an overrun.
        int cut = traffic.Count(p => p.Message.Length < 12);
        int missing = traffic.Count(p => p.Message.Length >= 12 && p.Message[5] > 1);
        int overrun = traffic.Count(p => p.Message.Length >= 12 && p.Message[7] == 1 && p.Message[^9] > 8);
        Assert.Equal(cut, reasons.Get("truncated").Get("count").GetInt32());
        Assert.Equal(missing, reasons.Get("count_exceeds_payload").Get("count").GetInt32());
        int badAddress = traffic.Count(p => p.Message.Length >= 12 && p.Message[7] == 1 && p.Message[^9] is > 4 and <= 8);
        Assert.Equal(overrun, reasons.Get("rdata_overrun").Get("count").GetInt32());
        Assert.Equal(badAddress, reasons.Get("bad_rdata").Get("count").GetInt32());
        Assert.Equal(traffic.Count - cut - missing - overrun - badAddress, reasons.Get("ok").Get("count").GetInt32());
        Assert.Equal(traffic.Count, ParseData(reducer).Get("total").GetInt32());
    }

    [Fact]
    public void Merge_of_a_split_equals_the_whole_reset_and_create_empty()
    {
        var reducer = new MalformedCounter();
        var traffic = MalformedTraffic();
        AssertMergeEqualsWhole(reducer, traffic, step: 3);

        ObserveAll(reducer, traffic);
        reducer.Reset();
        Assert.Equal("""{"total":0,"malformed":0,"reasons":{}}""", Data(reducer));
        Assert.Equal("""{"total":0,"malformed":0,"reasons":{}}""", Data(reducer.CreateEmpty()));
        Assert.Equal(3, ((MalformedCounter)reducer.CreateEmpty()).ExamplesPerReason);
        Assert.Throws<ArgumentException>(() => reducer.Merge(new MalformedCounter(2)));
    }
}
