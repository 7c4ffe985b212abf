using RataDns.Reducers;
using RataDns.Reducers.Original;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Original;

public class RateReducerTests
{
    [Fact]
    public void Rates_are_counts_over_packet_time()
    {
        // 6 queries, 2 answers, 8 packets over 2 s of packet time.
        var traffic = MixedTraffic();
        var all = new PacketRateReducer(PacketRateReducer.RateKind.PacketsQueriesAndAnswersPerSecond);
        var qps = new PacketRateReducer(PacketRateReducer.RateKind.QueriesPerSecond);
        var aps = new PacketRateReducer(PacketRateReducer.RateKind.AnswersPerSecond);
        var pps = new PacketRateReducer(PacketRateReducer.RateKind.PacketsPerSecond);
        foreach (var reducer in new Reducer[] { all, qps, aps, pps })
        {
            ObserveAll(reducer, traffic);
        }

        var data = ParseData(all);
        Assert.Equal(3, data.EnumerateObject().Count());
        Assert.Equal(4.0, data.GetProperty("pps").GetDouble());
        Assert.Equal(3.0, data.GetProperty("qps").GetDouble());
        Assert.Equal(1.0, data.GetProperty("aps").GetDouble());

        Assert.Equal("""{"qps":3}""", Data(qps));
        Assert.Equal("""{"aps":1}""", Data(aps));
        Assert.Equal("""{"pps":4}""", Data(pps));
        Assert.Equal("""{"qps":12}""", Data(qps, new ReducerWindow(0, Second / 2, 8)));
    }

    [Fact]
    public void A_zero_length_window_has_rate_zero()
    {
        var qps = new PacketRateReducer(PacketRateReducer.RateKind.QueriesPerSecond);
        ObserveAll(qps, MixedTraffic());
        Assert.Equal("""{"qps":0}""", Data(qps, new ReducerWindow(5, 5, 8)));
    }

    [Fact]
    public void A_message_shorter_than_the_flags_is_a_packet_but_neither_query_nor_answer()
    {
        var all = new PacketRateReducer(PacketRateReducer.RateKind.PacketsQueriesAndAnswersPerSecond);
        new TestPacket([0x12], 0, Server, 1, Server, 53).ObserveIn(all);
        Assert.Equal("""{"pps":1,"qps":0,"aps":0}""", Data(all, new ReducerWindow(0, Second, 1)));
    }

    [Fact]
    public void Reset_empties()
    {
        var all = new PacketRateReducer(PacketRateReducer.RateKind.PacketsQueriesAndAnswersPerSecond);
        ObserveAll(all, MixedTraffic());
        all.Reset();
        Assert.Equal("""{"pps":0,"qps":0,"aps":0}""", Data(all));
    }
}
