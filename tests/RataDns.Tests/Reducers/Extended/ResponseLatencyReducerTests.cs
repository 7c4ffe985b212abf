using RataDns.Reducers.Extended;
using RataDns.Tests.Reducers.Original;
using static RataDns.Tests.Reducers.Extended.ExtendedTestSupport;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Extended;

public class ResponseLatencyReducerTests
{
    [Fact]
    public void One_exchange_by_hand()
    {
        var reducer = new ResponseLatencyReducer();
        ObserveAll(reducer, [
            Q("10.0.0.1", "WWW.Example.COM", id: 7, port: 4000, time: 10 * Second),
            R("10.0.0.1", "www.example.com", id: 7, port: 4000, time: (10 * Second) + (1500 * Microsecond)),
        ]);

        // 1500 µs lies in the octave [1024, 2048), split in 16 buckets of 64 µs: [1472, 1535]. The percentiles are
        // capped at the maximum, 1500.
        Assert.Equal(
            """{"matched":1,"unanswered":0,"unsolicited":0,"untracked":0,"pending":0,"latencyUs":{"p50":1500,"p90":1500,"p99":1500,"p999":1500,"max":1500},"histogram":[{"leUs":1535,"count":1}]}""",
            Data(reducer));
    }

    [Fact]
    public void A_response_with_the_servers_query_time_is_measured_by_it_with_or_without_its_query()
    {
        // dnstap (issue 17): a server that logs responses only still gives its latency (query_time to
        // response_time); one that logs both gives the same exchange once, by its own clock, not twice.
        var reducer = new ResponseLatencyReducer();
        ObserveAll(reducer, [
            R("10.0.0.1", "a.example", id: 1, port: 4000, time: (10 * Second) + (700 * Microsecond)) with { ServerQueryTime = 10 * Second },
            Q("10.0.0.2", "b.example", id: 2, port: 4000, time: 20 * Second),
            R("10.0.0.2", "b.example", id: 2, port: 4000, time: (20 * Second) + (300 * Microsecond)) with { ServerQueryTime = (20 * Second) + (100 * Microsecond) },
        ]);
        Assert.Equal(2, reducer.Matched);
        Assert.Equal(0, reducer.Pending);
        Assert.Equal(0, reducer.Unsolicited);
        Assert.Contains("\"max\":700", Data(reducer), StringComparison.Ordinal);
        // The smaller latency, 200 µs, as the bucket bound that holds it: at most 1/16 high.
        long p50 = System.Text.Json.JsonDocument.Parse(Data(reducer)).RootElement.GetProperty("latencyUs").GetProperty("p50").GetInt64();
        Assert.InRange(p50, 200, 200 + (200 / 16));
    }

    [Fact]
    public void Nothing_matched_writes_null_percentiles()
    {
        var reducer = new ResponseLatencyReducer();
        Q("10.0.0.1", "a.example").ObserveIn(reducer);
        Assert.Equal(
            """{"matched":0,"unanswered":0,"unsolicited":0,"untracked":0,"pending":1,"latencyUs":{"p50":null,"p90":null,"p99":null,"p999":null,"max":null},"histogram":[]}""",
            Data(reducer));
    }

    [Fact]
    public void Every_part_of_the_key_must_match()
    {
        var reducer = new ResponseLatencyReducer();
        Q("10.0.0.1", "a.example", id: 1, port: 4000, time: 0, type: 1).ObserveIn(reducer);
        ObserveAll(reducer, [
            R("10.0.0.2", "a.example", id: 1, port: 4000, time: 1),
            R("10.0.0.1", "a.example", id: 2, port: 4000, time: 2),
            R("10.0.0.1", "a.example", id: 1, port: 4001, time: 3),
            R("10.0.0.1", "b.example", id: 1, port: 4000, time: 4),
            R("10.0.0.1", "a.example", id: 1, port: 4000, time: 5, type: 28),
        ]);
        Assert.Equal(0, reducer.Matched);
        Assert.Equal(5, reducer.Unsolicited);
        Assert.Equal(1, reducer.Pending);

        R("10.0.0.1", "A.EXAMPLE", id: 1, port: 4000, time: 6).ObserveIn(reducer);
        Assert.Equal(1, reducer.Matched);
        Assert.Equal(0, reducer.Pending);
    }

    [Fact]
    public void Queries_expire_on_packet_time_and_late_responses_are_unsolicited()
    {
        var reducer = new ResponseLatencyReducer(timeoutMilliseconds: 100);
        Q("10.0.0.1", "a.example", id: 1, time: 0).ObserveIn(reducer);
        Q("10.0.0.1", "b.example", id: 2, time: 99 * Millisecond).ObserveIn(reducer);
        Assert.Equal(0, reducer.Unanswered);
        Assert.Equal(2, reducer.Pending);

        // 100 ms after the first query: it expires; the second is 1 ms old.
        Q("10.0.0.1", "c.example", id: 3, time: 100 * Millisecond).ObserveIn(reducer);
        Assert.Equal(1, reducer.Unanswered);
        Assert.Equal(2, reducer.Pending);

        R("10.0.0.1", "a.example", id: 1, time: 150 * Millisecond).ObserveIn(reducer);
        R("10.0.0.1", "b.example", id: 2, time: 160 * Millisecond).ObserveIn(reducer);
        Assert.Equal(1, reducer.Unsolicited);
        Assert.Equal(1, reducer.Matched);
        Assert.Equal(61 * 1000, ParseData(reducer).Get("latencyUs").Get("max").GetInt64());
    }

    [Fact]
    public void Reset_forgets_counters_but_not_pending_queries()
    {
        var reducer = new ResponseLatencyReducer();
        ObserveAll(reducer, [
            Q("10.0.0.1", "a.example", id: 1, time: 0),
            Q("10.0.0.1", "b.example", id: 2, time: 1 * Millisecond),
            R("10.0.0.1", "b.example", id: 2, time: 3 * Millisecond),
            R("10.0.0.9", "x.example", id: 9, time: 4 * Millisecond),
        ]);
        Assert.Equal((1, 1, 1), (reducer.Matched, reducer.Unsolicited, reducer.Pending));

        reducer.Reset();
        Assert.Equal(
            """{"matched":0,"unanswered":0,"unsolicited":0,"untracked":0,"pending":1,"latencyUs":{"p50":null,"p90":null,"p99":null,"p999":null,"max":null},"histogram":[]}""",
            Data(reducer));

        R("10.0.0.1", "a.example", id: 1, time: 7 * Millisecond).ObserveIn(reducer);
        Assert.Equal(1, reducer.Matched);
        Assert.Equal(7000, ParseData(reducer).Get("latencyUs").Get("max").GetInt64());

        var empty = (ResponseLatencyReducer)reducer.CreateEmpty();
        Assert.Equal((0, 0L), (empty.Pending, empty.Matched));
        Assert.Equal(reducer.TimeoutMilliseconds, empty.TimeoutMilliseconds);
        Assert.Equal(reducer.PendingCapacity, empty.PendingCapacity);
    }

    [Fact]
    public void Pending_capacity_is_never_exceeded()
    {
        var reducer = new ResponseLatencyReducer(pendingCapacity: 2);
        ObserveAll(reducer, [
            Q("10.0.0.1", "a.example", id: 1, time: 0),
            Q("10.0.0.1", "a.example", id: 2, time: 1),
            Q("10.0.0.1", "a.example", id: 3, time: 2),
            R("10.0.0.1", "a.example", id: 3, time: 3),
            R("10.0.0.1", "a.example", id: 1, time: 4),
            Q("10.0.0.1", "a.example", id: 4, time: 5),
        ]);
        Assert.Equal((1L, 1L, 1L, 2), (reducer.Untracked, reducer.Unsolicited, reducer.Matched, reducer.Pending));
    }

    [Fact]
    public void A_flood_of_unanswered_queries_stays_within_the_pending_table()
    {
        var reducer = new ResponseLatencyReducer(timeoutMilliseconds: 60_000, pendingCapacity: 4096);
        Assert.Equal(256, reducer.PendingIndexSlots);
        var template = Q("10.0.0.1", "flood.example");
        for (int i = 0; i < 200_000; i++)
        {
            var message = (byte[])template.Message.Clone();
            message[0] = (byte)(i >> 8);
            message[1] = (byte)i;
            new TestPacket(message, i * Microsecond, template.Source, (ushort)(1024 + (i >> 16)), Server, 53).ObserveIn(reducer);
        }

        Assert.Equal(4096, reducer.Pending);
        Assert.Equal(200_000 - 4096, reducer.Untracked);
        // The index grew to twice the capacity (load 1/2) and no further.
        Assert.Equal(8192, reducer.PendingIndexSlots);

        // Once the clock passes the timeout, the flood expires, the table takes queries again and its index is
        // back to the smallest size.
        Q("10.0.0.2", "later.example", time: 61 * Second).ObserveIn(reducer);
        Assert.Equal(4096, reducer.Unanswered);
        Assert.Equal(1, reducer.Pending);
        Assert.Equal(256, reducer.PendingIndexSlots);
    }

    /// <summary>
    /// The matching against a plain model of what the class documents (pending queries by exchange key in age
    /// order, at most PendingCapacity of them, expired oldest first once the packet clock is TimeoutMs past them;
    /// a retransmitted query keeps its first time; a response matches and removes its query or is unsolicited),
    /// over traffic that swings between a few and thousands of pending queries so the pending index grows and
    /// shrinks many times. Keys are drawn from a small pool, so retransmissions and unsolicited responses occur.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Matching_agrees_with_a_model_while_the_pending_table_grows_and_shrinks(int seed)
    {
        const int capacity = 3000;
        const long timeout = 50 * 1_000_000L;
        var reducer = new ResponseLatencyReducer(timeoutMilliseconds: 50, pendingCapacity: capacity);
        var random = new Random(seed);

        var pending = new Dictionary<(int Client, ushort Id), long>();
        var age = new LinkedList<(int Client, ushort Id)>();
        var nodes = new Dictionary<(int Client, ushort Id), LinkedListNode<(int Client, ushort Id)>>();
        long clock = 0, matched = 0, unanswered = 0, unsolicited = 0, untracked = 0, maxLatency = 0;
        var outstanding = new List<(int Client, ushort Id)>();
        long now = 1 * Second;
        int largestIndex = 0;
        for (int i = 0; i < 60_000; i++)
        {
            // Phases of 6,000 packets: quiet (answered at once), flood (queries only), and after each flood a jump
            // of the clock past the timeout.
            int phase = (i / 6000) % 3;
            // Time moves slower in a flood, so it outgrows the capacity before the timeout expires it.
            now += random.Next(0, phase == 1 ? 8 : 30) * Microsecond;
            if (i % 6000 == 0 && phase == 0)
            {
                now += timeout;
            }

            bool query = phase == 1 ? random.Next(10) != 0 : random.Next(2) == 0;
            (int Client, ushort Id) key;
            if (!query && outstanding.Count > 0 && random.Next(8) != 0)
            {
                int at = random.Next(outstanding.Count);
                key = outstanding[at];
                outstanding[at] = outstanding[^1];
                outstanding.RemoveAt(outstanding.Count - 1);
            }
            else
            {
                key = (random.Next(64), (ushort)random.Next(400));
                if (query)
                {
                    outstanding.Add(key);
                }
            }

            string client = $"10.0.{key.Client}.1";
            (query ? Q(client, "model.example", id: key.Id, time: now) : R(client, "model.example", id: key.Id, time: now)).ObserveIn(reducer);

            if (now > clock)
            {
                clock = now;
                while (age.First is { } oldest && clock - pending[oldest.Value] >= timeout)
                {
                    pending.Remove(oldest.Value);
                    nodes.Remove(oldest.Value);
                    age.RemoveFirst();
                    unanswered++;
                }
            }

            if (query)
            {
                if (!pending.ContainsKey(key))
                {
                    if (pending.Count == capacity)
                    {
                        untracked++;
                    }
                    else
                    {
                        pending[key] = now;
                        nodes[key] = age.AddLast(key);
                    }
                }
            }
            else if (pending.Remove(key, out long sent))
            {
                age.Remove(nodes[key]);
                nodes.Remove(key);
                matched++;
                maxLatency = Math.Max(maxLatency, (now - sent) / Microsecond);
            }
            else
            {
                unsolicited++;
            }

            largestIndex = Math.Max(largestIndex, reducer.PendingIndexSlots);
            if (i % 997 == 0 || i == 59_999)
            {
                Assert.Equal(
                    (matched, unanswered, unsolicited, untracked, (long)pending.Count),
                    (reducer.Matched, reducer.Unanswered, reducer.Unsolicited, reducer.Untracked, (long)reducer.Pending));
                var max = System.Text.Json.JsonDocument.Parse(Data(reducer)).RootElement.GetProperty("latencyUs").GetProperty("max");
                Assert.Equal(matched == 0 ? (long?)null : maxLatency, max.ValueKind == System.Text.Json.JsonValueKind.Null ? (long?)null : max.GetInt64());
                Assert.InRange(reducer.PendingIndexSlots, 2 * reducer.Pending, 8192);
            }
        }

        Assert.True(untracked > 0 && unanswered > 0 && unsolicited > 0 && matched > 0, $"the traffic must reach every outcome: {untracked} untracked, {unanswered} unanswered, {unsolicited} unsolicited, {matched} matched");
        Assert.Equal(8192, largestIndex);
    }

    [Fact]
    public void Percentiles_are_within_the_stated_resolution_of_exact_percentiles()
    {
        var random = new Random(3);
        var reducer = new ResponseLatencyReducer(timeoutMilliseconds: 10_000);
        var latencies = new List<long>();
        long time = 0;
        for (int i = 0; i < 20_000; i++)
        {
            // Log-uniform from 1 µs to about 3 s, whole microseconds, plus a few exact zeros.
            long micros = i % 1000 == 0 ? 0 : (long)Math.Exp(random.NextDouble() * Math.Log(3_000_000));
            latencies.Add(micros);
            ushort id = (ushort)i;
            ushort port = (ushort)(1024 + (i >> 16));
            Q("10.0.0.1", "p.example", id, port, time).ObserveIn(reducer);
            R("10.0.0.1", "p.example", id, port, time + (micros * Microsecond) + 999).ObserveIn(reducer);
            time += (micros * Microsecond) + 1000;
        }

        var sorted = latencies.Order().ToArray();
        var data = ParseData(reducer);
        foreach (var (name, q) in new[] { ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999), ("max", 1.0) })
        {
            long exact = sorted[(int)Math.Ceiling(q * sorted.Length) - 1];
            long reported = data.Get("latencyUs").Get(name).GetInt64();
            Assert.InRange(reported, exact, exact + (exact / 16));
        }

        Assert.Equal(sorted[^1], data.Get("latencyUs").Get("max").GetInt64());
        var histogram = data.Get("histogram").EnumerateArray().Select(b => (Le: b.Get("leUs").GetInt64(), Count: b.Get("count").GetInt64())).ToList();
        Assert.Equal(latencies.Count, histogram.Sum(b => b.Count));
        Assert.Equal(latencies.Count, data.Get("matched").GetInt64());

        // Bounds ascend, and each bound is at least every latency counted up to it.
        long cumulative = 0;
        for (int i = 0; i < histogram.Count; i++)
        {
            cumulative += histogram[i].Count;
            Assert.True(cumulative <= sorted.Count(l => l <= histogram[i].Le));
            Assert.True(i == 0 || histogram[i].Le > histogram[i - 1].Le);
        }

        // Below 16 µs every value has its own bucket: the 20 zeros are counted under 0.
        Assert.Equal((0L, 20L), histogram[0]);
    }

    /// <summary>
    /// Exchanges with latencies below and above the 50 ms timeout, retransmission-free, some queries never
    /// answered and some responses without a query, in time order.
    /// </summary>
    private static List<TestPacket> LatencyTraffic()
    {
        var random = new Random(5);
        var events = new List<TestPacket>();
        for (int i = 0; i < 120; i++)
        {
            long sent = (i * 7 * Millisecond) + random.Next(1000);
            string client = $"10.0.0.{i % 5}";
            var name = i % 3 == 0 ? "A.example" : "b.Example";
            events.Add(Q(client, name, (ushort)i, 4000, sent));
            switch (random.Next(5))
            {
                case 0:
                    break;
                case 1:
                    events.Add(R(client, name, (ushort)i, 4000, sent + (60 * Millisecond) + 17));
                    break;
                case 2:
                    events.Add(R(client, "orphan.example", (ushort)(i + 1000), 4000, sent + 3));
                    break;
                default:
                    events.Add(R(client, name.ToLowerInvariant(), (ushort)i, 4000, sent + (random.Next(45_000) * Microsecond) + 11));
                    break;
            }
        }

        // Queries at the very end stay pending.
        long last = events.Max(p => p.Timestamp);
        events.Add(Q("10.0.0.8", "tail.example", 1, 4000, last + Millisecond));
        events.Add(Q("10.0.0.8", "tail.example", 2, 4000, last + (2 * Millisecond)));
        return [.. events.OrderBy(p => p.Timestamp)];
    }

    [Fact]
    public void Merge_of_a_split_equals_the_whole()
    {
        var traffic = LatencyTraffic();
        var reducer = new ResponseLatencyReducer(timeoutMilliseconds: 50);
        ObserveAll(reducer, traffic);

        // The traffic holds every case: matched, unanswered, unsolicited (late and orphan), pending at the end.
        Assert.True(reducer.Matched > 20 && reducer.Unanswered > 10 && reducer.Unsolicited > 10 && reducer.Pending > 0, Data(reducer));
        AssertMergeEqualsWhole(new ResponseLatencyReducer(timeoutMilliseconds: 50), traffic, interleave: false, step: 3);
    }

    [Fact]
    public void Merge_counts_and_exchanges_by_hand()
    {
        var first = new ResponseLatencyReducer(timeoutMilliseconds: 100);
        var second = (ResponseLatencyReducer)first.CreateEmpty();
        ObserveAll(first, [
            Q("10.0.0.1", "a.example", id: 1, time: 0),
            Q("10.0.0.1", "b.example", id: 2, time: 1 * Millisecond),
            Q("10.0.0.1", "c.example", id: 3, time: 2 * Millisecond),
        ]);
        ObserveAll(second, [
            R("10.0.0.1", "a.example", id: 1, time: 30 * Millisecond),
            R("10.0.0.1", "x.example", id: 9, time: 40 * Millisecond),
            Q("10.0.0.1", "d.example", id: 4, time: 101 * Millisecond),
        ]);

        // a: answered across the partials (30 ms); b: expired by the second partial's clock (101 ms >= 1 + 100);
        // c: still pending (101 - 2 < 100); x: unsolicited; d: pending.
        first.Merge(second);
        Assert.Equal((1L, 1L, 1L, 2), (first.Matched, first.Unanswered, first.Unsolicited, first.Pending));
        Assert.Equal(30_000, ParseData(first).Get("latencyUs").Get("max").GetInt64());

        // Another fingerprint key: its pending queries cannot be matched here. One with nothing to match (a state
        // read back) merges whatever its key.
        var foreign = new ResponseLatencyReducer(timeoutMilliseconds: 100);
        first.Merge(foreign);
        ObserveAll(foreign, [Q("10.0.0.2", "e.example", id: 5, time: 102 * Millisecond)]);
        Assert.Throws<ArgumentException>(() => first.Merge(foreign));
    }
}
