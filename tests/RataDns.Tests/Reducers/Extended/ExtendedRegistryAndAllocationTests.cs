using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.Extended;
using RataDns.Tests.Reducers.Original;
using static RataDns.Tests.Reducers.Extended.ExtendedTestSupport;

namespace RataDns.Tests.Reducers.Extended;

public class ExtendedRegistryAndAllocationTests
{
    public static TheoryData<string, Type> Extended() => new()
    {
        { "TldCounter", typeof(DomainLevelCounter) },
        { "SldCounter", typeof(DomainLevelCounter) },
        { "TopClients", typeof(TopClientsReducer) },
        { "TopNxdomainNames", typeof(TopRcodeNamesReducer) },
        { "TopRefusedNames", typeof(TopRcodeNamesReducer) },
        { "TopServfailNames", typeof(TopRcodeNamesReducer) },
        { "ResponseLatency", typeof(ResponseLatencyReducer) },
        { "MalformedCounter", typeof(MalformedCounter) },
        { "DistinctCounter", typeof(DistinctCounter) },
    };

    private static Dictionary<string, JsonElement> Options(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Extended))]
    public void The_registry_creates_each_extended_reducer(string name, Type type)
    {
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = name.ToUpperInvariant() });
        Assert.IsType(type, reducer);
        Assert.Equal(name, reducer.Type);
        Assert.Contains(name, ReducerRegistry.KnownTypes);
    }

    [Fact]
    public void The_registry_reads_the_options()
    {
        var top = Assert.IsType<TopClientsReducer>(ReducerRegistry.Create(new ReducerConfiguration { Name = "TopClients", Options = Options("""{"N": 3, "Capacity": 50}""") }));
        Assert.Equal((3, 50), (top.N, top.Capacity));
        var defaults = Assert.IsType<DomainLevelCounter>(ReducerRegistry.Create(new ReducerConfiguration { Name = "SldCounter" }));
        Assert.Equal((20, 10000), (defaults.N, defaults.Capacity));

        var latency = Assert.IsType<ResponseLatencyReducer>(ReducerRegistry.Create(new ReducerConfiguration { Name = "ResponseLatency", Options = Options("""{"TimeoutMs": 250, "PendingCapacity": 99}""") }));
        Assert.Equal((250, 99), (latency.TimeoutMilliseconds, latency.PendingCapacity));
        var latencyDefaults = Assert.IsType<ResponseLatencyReducer>(ReducerRegistry.Create(new ReducerConfiguration { Name = "ResponseLatency" }));
        Assert.Equal((5000, 65536), (latencyDefaults.TimeoutMilliseconds, latencyDefaults.PendingCapacity));

        var malformed = Assert.IsType<MalformedCounter>(ReducerRegistry.Create(new ReducerConfiguration { Name = "MalformedCounter", Options = Options("""{"Examples": 7}""") }));
        Assert.Equal(7, malformed.ExamplesPerReason);
        var distinct = Assert.IsType<DistinctCounter>(ReducerRegistry.Create(new ReducerConfiguration { Name = "DistinctCounter", Options = Options("""{"Precision": 9}""") }));
        Assert.Equal(9, distinct.Precision);
    }

    [Theory]
    [InlineData("TldCounter", """{"N": 11, "Capacity": 10}""")]
    [InlineData("TopRefusedNames", """{"Size": 1}""")]
    [InlineData("ResponseLatency", """{"TimeoutMs": 0}""")]
    [InlineData("ResponseLatency", """{"Capacity": 10}""")]
    [InlineData("MalformedCounter", """{"Examples": 101}""")]
    [InlineData("DistinctCounter", """{"Precision": 17}""")]
    public void The_registry_rejects_bad_options(string name, string options) =>
        Assert.Throws<ConfigurationException>(() => ReducerRegistry.Create(new ReducerConfiguration { Name = name, Options = Options(options) }));

    [Theory]
    [MemberData(nameof(Extended))]
    public void Observe_allocates_nothing(string name, Type type)
    {
        var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = name });
        Assert.IsType(type, reducer);

        var builder = new RataDns.Tests.Support.TestMessageBuilder { Id = 4, Flags = 0x8183 }.Question("Deep.Sub.Example.ORG", 28);
        builder.Section(3).Record(".", 41, 1232, 0, b => b.Bytes([]));
        List<TestPacket> packets =
        [
            Q("10.0.0.1", "www.Example.com", id: 1),
            R("10.0.0.1", "www.example.com", id: 1, time: 10 * Microsecond, rcode: 3),
            Q("2001:db8::1", "a.b.c.example.net", id: 2, type: 28),
            R("2001:db8::1", "a.b.c.example.net", id: 2, type: 28, rcode: 5),
            R("10.0.0.7", "orphan.example", id: 3, rcode: 2),
            Raw(builder.ToArray()),
            Raw([0, 1, 1, 0, 0]),
            Raw([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1]),
        ];

        long allocated = AllocatedWhileObserving(reducer, packets, 10_000);
        Assert.True(allocated < 4096, $"{name}: {allocated} bytes allocated by 10k observes");
    }
}
