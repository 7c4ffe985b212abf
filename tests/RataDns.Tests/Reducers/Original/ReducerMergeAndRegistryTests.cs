using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.Original;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Original;

public class ReducerMergeAndRegistryTests
{
    public static TheoryData<string> Types() => [.. ReducerRegistry.KnownTypes];

    [Theory]
    [MemberData(nameof(Types))]
    public void Merging_a_split_equals_observing_everything(string type)
    {
        var traffic = MixedTraffic();
        var whole = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        ObserveAll(whole, traffic);

        for (int split = 0; split <= traffic.Count; split++)
        {
            var first = whole.CreateEmpty();
            var second = first.CreateEmpty();
            ObserveAll(first, traffic.Take(split));
            ObserveAll(second, traffic.Skip(split));
            first.Merge(second);
            Assert.Equal(Data(whole), Data(first));
        }

        // Interleaved: even packets on one worker, odd on the other, merged the other way round.
        var even = whole.CreateEmpty();
        var odd = whole.CreateEmpty();
        ObserveAll(even, traffic.Where((_, i) => i % 2 == 0));
        ObserveAll(odd, traffic.Where((_, i) => i % 2 == 1));
        odd.Merge(even);
        Assert.Equal(Data(whole), Data(odd));
        Assert.Equal(type, whole.Type);
    }

    [Fact]
    public void Merge_rejects_another_type_and_itself()
    {
        var qps = new PacketRateReducer(PacketRateReducer.RateKind.QueriesPerSecond);
        Assert.Throws<ArgumentException>(() => qps.Merge(new PacketRateReducer(PacketRateReducer.RateKind.AnswersPerSecond)));
        Assert.Throws<ArgumentException>(() => qps.Merge(new AlonePacketsReducer()));
        Assert.Throws<ArgumentException>(() => qps.Merge(qps));
    }

    [Fact]
    public void Registry_reads_options()
    {
        var options = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase)
        {
            ["n"] = JsonDocument.Parse("2").RootElement.Clone(),
        };
        var top = Assert.IsType<TopNReducer>(ReducerRegistry.Create(new ReducerConfiguration { Name = "topn", Options = options }));
        Assert.Equal(2, top.N);
        Assert.Equal("TopN", top.Type);
    }

    [Fact]
    public void Registry_names_the_known_reducers_for_an_unknown_one()
    {
        var error = Assert.Throws<ConfigurationException>(
            () => ReducerRegistry.Create(new ReducerConfiguration { Name = "QueriesPerSecnd", Path = "PreliminarReducers[0]" }));
        Assert.Contains("did you mean QueriesPerSecond", error.Message, StringComparison.Ordinal);
        Assert.Contains("AlonePackets", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_rejects_unknown_options()
    {
        var options = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase)
        {
            ["Size"] = JsonDocument.Parse("2").RootElement.Clone(),
        };
        Assert.Throws<ConfigurationException>(() => ReducerRegistry.Create(new ReducerConfiguration { Name = "NameCounter", Options = options }));
    }
}

public class ReducerAllocationTests
{
    [Theory]
    [MemberData(nameof(ReducerMergeAndRegistryTests.Types), MemberType = typeof(ReducerMergeAndRegistryTests))]
    public void Observe_allocates_nothing(string type)
    {
        var traffic = MixedTraffic();
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        ObserveAll(reducer, traffic);
        reducer.Reset();

        var views = traffic.Select(p => (p.Message, Source: p.Source.GetAddressBytes(), Destination: p.Destination.GetAddressBytes(), p.SourcePort, p.DestinationPort)).ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 2_000; round++)
        {
            foreach (var p in views)
            {
                var view = new DnsPacketView(p.Message, round, RataDns.DnsWire.TransportProtocol.Udp, p.Source, p.SourcePort, p.Destination, p.DestinationPort);
                reducer.Observe(in view);
            }
        }

        // 16,000 observations: fewer bytes than observations means nothing per packet (the tiered JIT may
        // allocate a few KB once while it recompiles the loop, as in DnsWire's AllocationTests).
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16_000, $"{allocated} bytes allocated for 16,000 observations");
    }
}
