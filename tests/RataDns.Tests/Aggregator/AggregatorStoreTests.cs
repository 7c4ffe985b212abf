using RataDns.Aggregator;
using static RataDns.Tests.Aggregator.AggregatorTestData;

namespace RataDns.Tests.Aggregator;

/// <summary>The store: monitor accounting (gaps, restarts, staleness), spans, and per-window history.</summary>
public class AggregatorStoreTests
{
    private const string Qps = "QueriesPerSecond";

    [Fact]
    public void A_sequence_jump_counts_the_missing_windows_and_a_restart_is_no_gap_and_keeps_the_history()
    {
        var store = new AggregatorStore();
        foreach (long sequence in new long[] { 0, 1, 4, 5 })
        {
            Assert.True(store.Add(Utf8(Envelope(Qps, "ns1", sequence, sequence * 10, (sequence * 10) + 10, """{"qps":1}""", drops: 2))));
        }

        Assert.Equal(2, store.Monitors().Single().SequenceGaps);

        // Restart: numbering from 0 again, later in time.
        store.Add(Utf8(Envelope(Qps, "ns1", 0, 100, 110, """{"qps":1}""")));
        store.Add(Utf8(Envelope(Qps, "ns1", 1, 110, 120, """{"qps":1}""")));
        var status = store.Monitors().Single();
        Assert.Equal(2, status.SequenceGaps);
        Assert.Equal(6, status.Windows);
        Assert.Equal(8, status.Drops);
        Assert.Equal([Qps], status.Types);
        Assert.Equal(6, store.History(Qps, "ns1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1000)).Count);
    }

    [Fact]
    public void Gaps_are_counted_per_type_and_drops_once_per_window()
    {
        var store = new AggregatorStore();
        foreach (string type in new[] { Qps, "RcodeCounter" })
        {
            store.Add(Utf8(Envelope(type, "ns1", 0, 0, 1, "{}", drops: 3)));
            store.Add(Utf8(Envelope(type, "ns1", type == Qps ? 3 : 1, 1, 2, "{}", drops: 1)));
        }

        var status = store.Monitors().Single();
        Assert.Equal(2, status.SequenceGaps);
        Assert.Equal(4, status.Drops);
        Assert.Equal(4, status.Windows);
    }

    [Fact]
    public void A_monitor_is_stale_after_the_timeout_and_live_again_when_a_result_arrives()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var store = new AggregatorStore(new AggregatorOptions { Clock = () => now });
        store.Add(Utf8(Envelope(Qps, "ns1", 0, 0, 5, """{"qps":1}""")));
        Assert.False(store.Monitors().Single().Stale);

        // Default timeout: 3 windows (15 s of packet time here) or 10 s, whichever is longer.
        now = now.AddSeconds(14);
        Assert.False(store.Monitors().Single().Stale);
        now = now.AddSeconds(2);
        var stale = store.Monitors().Single();
        Assert.True(stale.Stale);
        Assert.Equal(now.AddSeconds(-16), stale.LastSeen);

        store.Add(Utf8(Envelope(Qps, "ns1", 1, 5, 10, """{"qps":1}""")));
        Assert.False(store.Monitors().Single().Stale);

        var configured = new AggregatorStore(new AggregatorOptions { Clock = () => now, StaleAfter = TimeSpan.FromSeconds(1) });
        configured.Add(Utf8(Envelope(Qps, "ns1", 0, 0, 5, """{"qps":1}""")));
        now = now.AddSeconds(1.5);
        Assert.True(configured.Monitors().Single().Stale);
    }

    [Fact]
    public void A_span_takes_the_windows_ending_within_it_back_from_the_newest_end_not_the_wall_clock()
    {
        var store = new AggregatorStore();

        // Ten one-minute windows of 1, 2, ..., 10 qps, long ago in wall-clock time (a replay).
        for (int i = 0; i < 10; i++)
        {
            store.Add(Utf8(Envelope(Qps, "ns1", i, 60 * i, 60 * (i + 1), $$"""{"qps":{{i + 1}}}""")));
        }

        Assert.Equal(["1m", "5m", "15m"], store.Spans());
        var one = store.Merged(Qps, "ns1", "1m")!;
        Assert.Equal(1, one.Windows);
        SameJson("""{"qps":10}""", one.Data!.Value);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(540), one.From);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(600), one.To);

        var five = store.Merged(Qps, "ns1", "5m")!;
        Assert.Equal(5, five.Windows);
        SameJson("""{"qps":8}""", five.Data!.Value); // (6+7+8+9+10)/5

        Assert.Equal(2, store.Merged(Qps, "all", "90s")!.Windows);
        Assert.Equal(10, store.Merged(Qps, "all", "15m")!.Windows);
        Assert.Null(store.Merged(Qps, "ns2", "5m"));
        Assert.Null(store.Merged("TopN", "all", "5m"));
        Assert.Null(store.Merged(Qps, "ns1", "forever"));
    }

    [Fact]
    public void History_is_bounded_by_count_and_by_age_in_packet_time()
    {
        var byCount = new AggregatorStore(new AggregatorOptions { MaxResultsPerKey = 3 });
        var byAge = new AggregatorStore(new AggregatorOptions { HistoryLength = TimeSpan.FromSeconds(25) });
        for (int i = 0; i < 200; i++)
        {
            byCount.Add(Utf8(Envelope(Qps, "ns1", i, 10 * i, 10 * (i + 1), """{"qps":1}""")));
            byAge.Add(Utf8(Envelope(Qps, "ns1", i, 10 * i, 10 * (i + 1), """{"qps":1}""")));
        }

        var all = (DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1));
        Assert.Equal([1980.0, 1990, 2000], byCount.History(Qps, "ns1", all.Item1, all.Item2).Select(h => (h.To - DateTimeOffset.UnixEpoch).TotalSeconds));
        Assert.Equal([1980.0, 1990, 2000], byAge.History(Qps, "ns1", all.Item1, all.Item2).Select(h => (h.To - DateTimeOffset.UnixEpoch).TotalSeconds));
    }

    [Fact]
    public void History_of_all_merges_the_windows_of_the_same_time_across_servers()
    {
        var store = new AggregatorStore();
        for (int i = 0; i < 3; i++)
        {
            store.Add(Utf8(Envelope("RcodeCounter", "ns1", i, 10 * i, 10 * (i + 1), $$"""{"NOERROR":{{i + 1}}}""")));

            // ns2's windows end 0.3 s later: the same 10 s bucket.
            store.Add(Utf8(Envelope("RcodeCounter", "ns2", i, (10 * i) + 0.3, (10 * (i + 1)) + 0.3, """{"NOERROR":10,"SERVFAIL":1}""")));
        }

        var history = store.History("RcodeCounter", "all", DateTimeOffset.UnixEpoch.AddSeconds(10), DateTimeOffset.UnixEpoch.AddSeconds(21));
        Assert.Equal(2, history.Count);
        Assert.All(history, h => Assert.Equal(2, h.Windows));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(10), history[0].To);
        SameJson("""{"NOERROR":11,"SERVFAIL":1}""", history[0].Data!.Value);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(20), history[1].To);
        SameJson("""{"NOERROR":12,"SERVFAIL":1}""", history[1].Data!.Value);

        var one = store.History("RcodeCounter", "ns1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(30));
        Assert.Equal(3, one.Count);
        SameJson("""{"NOERROR":3}""", one[2].Data!.Value);
    }

    [Fact]
    public void Updated_is_raised_for_each_stored_result_and_a_non_envelope_is_rejected()
    {
        var store = new AggregatorStore();
        var updates = new List<AggregatorUpdate>();
        store.Updated += updates.Add;
        Assert.True(store.Add(Utf8(Envelope(Qps, "ns1", 7, 0, 1, """{"qps":1}"""))));
        Assert.False(store.Add(Utf8("""{"type":"x"}""")));
        Assert.False(store.Add(Utf8("not json")));
        Assert.Equal(2, store.Rejected);
        Assert.Equal(new AggregatorUpdate(Qps, "ns1", 7, DateTimeOffset.UnixEpoch.AddSeconds(1)), Assert.Single(updates));
        Assert.Equal([Qps], store.Types());
    }
}
