using System.Runtime.Loader;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Tests.Reducers.Counters;
using RataDns.Tests.Support;
using static RataDns.Tests.Reducers.Plugins.PluginTestSupport;

namespace RataDns.Tests.Reducers.Plugins;

/// <summary>
/// The example plugin's reducers (examples/CustomReducer), loaded through the configuration file as the monitor
/// loads them, on crafted messages whose expected results are worked out here independently (label counts with
/// <see cref="string.Split(char, StringSplitOptions)"/>, DO bits from how each message was built).
/// </summary>
public sealed class PluginReducerTests : IDisposable
{
    private const ushort QueryFlags = CounterTestSupport.QueryFlags;
    private const ushort ResponseFlags = CounterTestSupport.ResponseFlags;

    private readonly TempDirectory _directory = new();

    public PluginReducerTests()
    {
        Assert.True(File.Exists(ExampleDll), $"the example plugin is built before the tests: {ExampleDll}");
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>A message, whether it is a query, and the names of the questions a reader can read from it.</summary>
    private sealed record Crafted(byte[] Message, bool IsQuery, string[] QuestionNames, bool Edns = false, bool DnssecOk = false);

    private static List<Crafted> LabelTraffic()
    {
        static Crafted Query(params string[] names)
        {
            var builder = new TestMessageBuilder { Id = 1, Flags = QueryFlags };
            foreach (string name in names)
            {
                builder.Question(name, 1);
            }

            return new(builder.ToArray(), IsQuery: true, names);
        }

        byte[] truncated = new TestMessageBuilder { Flags = QueryFlags }.Question("cut.example", 1).ToArray()[..^3];
        return
        [
            Query("www.example.com"),
            Query("example.com"),
            Query("WWW.Example.COM"),
            Query("."),
            Query("_sip._tcp.example.org"),
            Query("a.b.c.d.e.f.g.h.i.j.k.l"),
            Query("one.two.three.four.five.six.seven.eight"),
            Query("x.y", "p.q.r"),
            new(new TestMessageBuilder { Flags = ResponseFlags }.Question("not.counted.example", 1).ToArray(), IsQuery: false, []),
            new(truncated, IsQuery: true, []),
            new([0x12], IsQuery: false, []),
        ];
    }

    private static void Observe(Reducer reducer, IEnumerable<Crafted> traffic)
    {
        foreach (var crafted in traffic)
        {
            new CounterPacket(crafted.Message).ObserveIn(reducer);
        }
    }

    /// <summary>The expected QueriesByLabelCount data, from the dotted names.</summary>
    private static string ExpectedLabels(IEnumerable<Crafted> traffic, int maxLabels)
    {
        var queries = traffic.Where(c => c.IsQuery).ToList();
        var counts = new long[maxLabels + 1];
        foreach (string name in queries.SelectMany(q => q.QuestionNames))
        {
            counts[Math.Min(name.Split('.', StringSplitOptions.RemoveEmptyEntries).Length, maxLabels)]++;
        }

        var labels = Enumerable.Range(0, maxLabels + 1).Select(i => $"\"{i}{(i == maxLabels ? "+" : string.Empty)}\":{counts[i]}");
        return $"{{\"queries\":{queries.Count},\"questions\":{counts.Sum()},\"labels\":{{{string.Join(",", labels)}}}}}";
    }

    private Reducer LoadLabelCounter(int? maxLabels = null)
    {
        // A path relative to the configuration file's directory.
        string relative = Path.GetRelativePath(_directory.Path, ExampleDll);
        string option = maxLabels is { } n ? $", \"MaxLabels\": {n}" : string.Empty;
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin",
             "PreliminarReducers": [{"Name": "QueriesByLabelCount", "Assembly": {{Quote(relative)}}{{option}}}]}
            """);
        return Assert.Single(CreateAll(configuration));
    }

    [Fact]
    public void QueriesByLabelCount_counts_the_labels_of_every_query_question()
    {
        var reducer = LoadLabelCounter(maxLabels: 8);
        Assert.Equal("QueriesByLabelCount", reducer.Type);

        var traffic = LabelTraffic();
        Observe(reducer, traffic);

        Assert.Equal(ExpectedLabels(traffic, 8), Data(reducer).GetRawText());
    }

    [Fact]
    public void QueriesByLabelCount_has_ten_buckets_and_an_overflow_by_default()
    {
        var reducer = LoadLabelCounter();
        var traffic = LabelTraffic();
        Observe(reducer, traffic);

        var labels = Data(reducer).GetProperty("labels");
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), "10+"], labels.EnumerateObject().Select(p => p.Name));
        Assert.Equal(ExpectedLabels(traffic, 10), Data(reducer).GetRawText());
    }

    [Fact]
    public void QueriesByLabelCount_merges_exactly_and_resets()
    {
        var whole = LoadLabelCounter(maxLabels: 4);
        var traffic = LabelTraffic();
        Observe(whole, traffic);

        var first = whole.CreateEmpty();
        var second = whole.CreateEmpty();
        Observe(first, traffic.Where((_, i) => i % 2 == 0));
        Observe(second, traffic.Where((_, i) => i % 2 == 1));
        first.Merge(second);

        Assert.Equal(Data(whole).GetRawText(), Data(first).GetRawText());
        Assert.Equal(ExpectedLabels(traffic, 4), Data(first).GetRawText());

        first.Reset();
        Assert.Equal(ExpectedLabels([], 4), Data(first).GetRawText());

        var other = LoadLabelCounter(maxLabels: 5);
        Assert.Throws<ArgumentException>(() => whole.Merge(other));
        Assert.Throws<ArgumentException>(() => whole.Merge(whole));
    }

    [Fact]
    public void QueriesByLabelCount_observes_without_allocating()
    {
        var reducer = LoadLabelCounter();
        var traffic = LabelTraffic();
        Observe(reducer, traffic);
        var packets = traffic.Select(c => new CounterPacket(c.Message)).ToArray();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 2_000; round++)
        {
            foreach (var packet in packets)
            {
                packet.ObserveIn(reducer);
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16_000, $"{allocated} bytes allocated for {2_000 * packets.Length} observations");
    }

    private static List<Crafted> EdnsTraffic()
    {
        static Crafted Message(ushort flags, bool edns, bool dnssecOk)
        {
            var builder = CounterTestSupport.Message(flags, ("example.com", 1, 1));
            if (edns)
            {
                builder.Opt(1232, dnssecOk: dnssecOk);
            }

            return new(builder.ToArray(), IsQuery: flags == QueryFlags, ["example.com"], edns, dnssecOk);
        }

        return
        [
            Message(QueryFlags, edns: true, dnssecOk: true),
            Message(QueryFlags, edns: true, dnssecOk: true),
            Message(QueryFlags, edns: true, dnssecOk: false),
            Message(QueryFlags, edns: false, dnssecOk: false),
            Message(QueryFlags, edns: false, dnssecOk: false),
            Message(ResponseFlags, edns: true, dnssecOk: true),
            Message(ResponseFlags, edns: false, dnssecOk: false),
            new([0x12], IsQuery: false, []),
        ];
    }

    private static string ExpectedDo(IEnumerable<Crafted> counted)
    {
        var list = counted.ToList();
        int @do = list.Count(c => c.DnssecOk);
        double ratio = list.Count == 0 ? 0 : (double)@do / list.Count;
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteNumber("messages", list.Count);
            writer.WriteNumber("edns", list.Count(c => c.Edns));
            writer.WriteNumber("do", @do);
            writer.WriteNumber("ratio", ratio);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void DoBitRatio_from_ReducerAssemblies_is_found_by_its_ReducerName_and_counts_the_DO_bit()
    {
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "ReducerAssemblies": [{{Quote(ExampleDll)}}],
             "PreliminarReducers": [
               {"Name": "dobitratio"},
               {"Name": "DoBitRatio", "IncludeResponses": true, "OutputMethod": "file", "OutputFile": "do.json"},
               {"Name": "QueriesByLabelCount"},
               {"Name": "QueriesPerSecond"}]}
            """);
        var reducers = CreateAll(configuration);
        Assert.Equal(["DoBitRatio", "DoBitRatio", "QueriesByLabelCount", "QueriesPerSecond"], reducers.Select(r => r.Type));
        Assert.Equal("DnssecOkRatio", reducers[0].GetType().Name);

        var traffic = EdnsTraffic();
        Observe(reducers[0], traffic);
        Observe(reducers[1], traffic);
        Assert.Equal(ExpectedDo(traffic.Where(c => c.IsQuery)), Data(reducers[0]).GetRawText());
        Assert.Equal(ExpectedDo(traffic.Where(c => c.QuestionNames.Length > 0)), Data(reducers[1]).GetRawText());
        Assert.Equal(0.4, Data(reducers[0]).GetProperty("ratio").GetDouble(), 12);

        var half = reducers[1].CreateEmpty();
        Observe(half, traffic.Take(3));
        var rest = half.CreateEmpty();
        Observe(rest, traffic.Skip(3));
        half.Merge(rest);
        Assert.Equal(Data(reducers[1]).GetRawText(), Data(half).GetRawText());
        Assert.Throws<ArgumentException>(() => reducers[0].Merge(reducers[1]));
    }

    [Fact]
    public void A_plugin_is_loaded_once_in_its_own_context_and_shares_the_host_reducer_types()
    {
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin",
             "PreliminarReducers": [
               {"Name": "QueriesByLabelCount", "Assembly": {{Quote(ExampleDll)}}},
               {"Name": "DoBitRatio", "Assembly": {{Quote(ExampleDll)}}}]}
            """);
        var reducers = CreateAll(configuration);
        var pluginAssembly = reducers[0].GetType().Assembly;
        Assert.Same(pluginAssembly, reducers[1].GetType().Assembly);
        Assert.Same(pluginAssembly, Assert.Single(CreateAll(configuration).Take(1)).GetType().Assembly);

        var context = AssemblyLoadContext.GetLoadContext(pluginAssembly)!;
        Assert.NotSame(AssemblyLoadContext.Default, context);
        Assert.False(context.IsCollectible);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(Reducer).Assembly));
        Assert.Same(typeof(Reducer), reducers[0].GetType().BaseType);
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == "RataDns.Examples.CustomReducer");

        // The plugin's references to the RataDns libraries were bound to the host's copies.
        foreach (var name in pluginAssembly.GetReferencedAssemblies().Where(n => n.Name!.StartsWith("RataDns.", StringComparison.Ordinal)))
        {
            Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(context.LoadFromAssemblyName(name)));
        }
    }

    [Fact]
    public void A_plugin_with_a_parameterless_constructor_takes_no_options()
    {
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "ReducerAssemblies": [{{Quote(TestAssemblyDll)}}],
             "PreliminarReducers": [{"Name": "ParameterlessTestReducer"}]}
            """);
        var reducer = Assert.Single(CreateAll(configuration));
        Assert.Equal("ParameterlessTestReducer", reducer.Type);
        new CounterPacket([0x12]).ObserveIn(reducer);
        Assert.Equal("""{"packets":1}""", Data(reducer).GetRawText());

        // Not the type of the same name compiled into the test assembly as loaded by the test host.
        Assert.NotSame(typeof(ParameterlessTestReducer), reducer.GetType());
    }
}
