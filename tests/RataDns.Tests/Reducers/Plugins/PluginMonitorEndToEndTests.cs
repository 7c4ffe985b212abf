using System.Text.Json;
using RataDns.Tests.Support;
using static RataDns.Tests.Reducers.Plugins.PluginTestSupport;

namespace RataDns.Tests.Reducers.Plugins;

/// <summary>
/// The real program, as a user runs it: <c>dotnet ratadns.dll monitor -c monitor.json</c> with the example plugin
/// named in the configuration, on the bundled sample; the plugin's results, summed over the windows, agree with
/// tshark's own reading of the same file.
/// </summary>
public sealed class PluginMonitorEndToEndTests : IDisposable
{
    private const string Tshark = "/usr/bin/tshark";
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");
    private static readonly string Ratadns = Path.Combine(RepoPaths.Root, "src", "RataDns", "bin", BuildConfiguration, "net10.0", "ratadns.dll");

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private int RunMonitor(string json, out string stdout, out string stderr)
    {
        Assert.True(File.Exists(Ratadns), $"the program is built before the tests: {Ratadns}");
        string config = Path.Combine(_directory.Path, "monitor.json");
        File.WriteAllText(config, json);
        return ExternalTool.Run("dotnet", [Ratadns, "monitor", "-c", config], out stdout, out stderr);
    }

    private static List<string[]> TsharkQueries(params string[] fields)
    {
        var arguments = new List<string> { "-r", Sample, "-Y", "dns.flags.response==0", "-T", "fields" };
        foreach (string field in fields)
        {
            arguments.AddRange(["-e", field]);
        }

        int exit = ExternalTool.Run(Tshark, arguments, out string tsv, out string errors);
        Assert.True(exit == 0, errors);
        return [.. tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))];
    }

    [SkippableFact]
    public void The_monitor_writes_the_plugin_results_and_they_agree_with_tshark()
    {
        Skip.IfNot(File.Exists(Tshark), "tshark is needed as the independent reference");
        string output = Path.Combine(_directory.Path, "results.json");
        int exit = RunMonitor($$"""
            {"ServerId": "e2e", "WindowSize": 500, "InputMethod": "capture_file", "InputSource": {{Quote(Sample)}},
             "ReducerAssemblies": [{{Quote(ExampleDll)}}],
             "PreliminarReducers": [
               {"Name": "QueriesByLabelCount", "MaxLabels": 6, "OutputMethod": "file", "OutputFile": "{{output}}"},
               {"Name": "DoBitRatio", "OutputMethod": "file", "OutputFile": "{{output}}"},
               {"Name": "QueriesPerSecond", "OutputMethod": "file", "OutputFile": "{{output}}"}]}
            """, out _, out string stderr);
        Assert.True(exit == 0, stderr);

        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var labels = lines.Where(l => l.GetProperty("type").GetString() == "QueriesByLabelCount").ToList();
        var dnssec = lines.Where(l => l.GetProperty("type").GetString() == "DoBitRatio").ToList();
        Assert.Equal(4, labels.Count);
        Assert.Equal(4, dnssec.Count);
        Assert.All(labels, l => Assert.Equal("e2e", l.GetProperty("serverId").GetString()));
        Assert.Equal(4, lines.Count(l => l.GetProperty("type").GetString() == "QueriesPerSecond"));

        // Label counts: tshark's query names, split on dots.
        var queries = TsharkQueries("dns.qry.name");
        Assert.Equal(queries.Count, labels.Sum(l => l.GetProperty("data").GetProperty("queries").GetInt64()));
        Assert.Equal(1000, queries.Count);
        var expected = new long[7];
        foreach (string name in queries.SelectMany(q => q[0].Split(',')))
        {
            int count = name is "<Root>" or "" ? 0 : name.Split('.', StringSplitOptions.RemoveEmptyEntries).Length;
            expected[Math.Min(count, 6)]++;
        }

        var actual = new long[7];
        foreach (var line in labels)
        {
            int i = 0;
            foreach (var bucket in line.GetProperty("data").GetProperty("labels").EnumerateObject())
            {
                Assert.Equal(i == 6 ? "6+" : $"{i}", bucket.Name);
                actual[i++] += bucket.Value.GetInt64();
            }
        }

        Assert.Equal(expected, actual);
        Assert.Equal(expected.Sum(), labels.Sum(l => l.GetProperty("data").GetProperty("questions").GetInt64()));

        // DO bits: tshark's OPT fields of the queries.
        var opt = TsharkQueries("dns.rr.udp_payload_size", "dns.resp.z.do");
        long messages = dnssec.Sum(l => l.GetProperty("data").GetProperty("messages").GetInt64());
        long edns = dnssec.Sum(l => l.GetProperty("data").GetProperty("edns").GetInt64());
        long @do = dnssec.Sum(l => l.GetProperty("data").GetProperty("do").GetInt64());
        Assert.Equal(opt.Count, messages);
        Assert.Equal(opt.Count(q => q[0].Length > 0), edns);
        Assert.Equal(opt.Count(q => q[1] is "1" or "True"), @do);
        Assert.True(@do > 0 && edns > @do && messages > edns, $"the sample has queries with and without EDNS and DO: {messages}, {edns}, {@do}");
        foreach (var line in dnssec)
        {
            var data = line.GetProperty("data");
            Assert.Equal((double)data.GetProperty("do").GetInt64() / data.GetProperty("messages").GetInt64(), data.GetProperty("ratio").GetDouble(), 12);
        }
    }

    [Fact]
    public void The_monitor_stops_before_capturing_on_a_plugin_configuration_error()
    {
        int exit = RunMonitor($$"""
            {"InputMethod": "capture_file", "InputSource": {{Quote(Sample)}},
             "PreliminarReducers": [{"Name": "QueriesByLabelCount", "Assembly": "plugins/Missing.dll"}]}
            """, out string stdout, out string stderr);
        Assert.NotEqual(0, exit);
        Assert.Empty(stdout);
        Assert.Contains("monitor.json: PreliminarReducers[0].Assembly: no such file", stderr, StringComparison.Ordinal);
    }
}
