using System.Text.Json;
using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;

namespace RataDns.Tests.Reducers.Configuration;

/// <summary>The RaTA DNS / Fievel shapes load as they are; defaults; RataDns's own keys; case-insensitive keys.</summary>
public class MonitorConfigurationLoaderTests
{
    /// <summary>A Fievel file of the flat shape: capture keys at the top level.</summary>
    internal const string FlatFievel = """
        {
          "ServerId": "server1",
          "WindowSize": 1000,
          "InputMethod": "capture_file",
          "InputSource": "/data/captures/nic-2015-11-26.pcap",
          "Speed": 1,
          "Filter": "port 53",
          "PreliminarReducers": [
            {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisServer": "localhost", "RedisPort": 6379, "RedisChannel": "QueriesPerSecond"},
            {"Name": "TopN", "N": 5, "OutputMethod": "stdout"},
            {"Name": "AlonePackets", "OutputMethod": "file", "OutputFile": "/tmp/alone.json"}
          ]
        }
        """;

    /// <summary>A Fievel file of the nested shape: capture keys under "Capture", reducers named by "Type".</summary>
    internal const string NestedFievel = """
        {
          "ServerId": "ns1.nic.cl",
          "WindowSize": 5000,
          "Capture": {"InputMethod": "interface", "InputSource": "eth0", "Speed": 0, "Filter": "udp port 53"},
          "PreliminarReducers": [
            {"Type": "PacketsQueriesAndAnswersPerSecond", "OutputMethod": "redis", "RedisServer": "10.0.0.7", "RedisPort": 6380, "RedisChannel": "pqa"},
            {"Type": "TopNQ", "N": 10, "OutputMethod": "redis", "RedisServer": "10.0.0.7"},
            {"Type": "QueriesWithUnderscoredName", "OutputMethod": "stdout"}
          ]
        }
        """;

    [Fact]
    public void Flat_fievel_file_loads()
    {
        var configuration = MonitorConfigurationLoader.Parse(FlatFievel, "fievel.json");

        Assert.Equal("server1", configuration.ServerId);
        Assert.Equal(1000, configuration.Window.PacketCount);
        Assert.Null(configuration.Window.Duration);
        Assert.Equal(CaptureInputMethod.CaptureFile, configuration.Capture.InputMethod);
        Assert.Equal("/data/captures/nic-2015-11-26.pcap", configuration.Capture.InputSource);
        Assert.Equal("/data/captures/nic-2015-11-26.pcap", configuration.Capture.Input);
        Assert.Null(configuration.Capture.Interface);
        Assert.Equal(1, configuration.Capture.Speed);
        Assert.Equal("port 53", configuration.Capture.Filter);
        Assert.Equal("fievel.json", configuration.Origin);

        Assert.Collection(
            configuration.Reducers,
            qps =>
            {
                Assert.Equal("QueriesPerSecond", qps.Name);
                Assert.Equal(ReducerOutputMethod.Redis, qps.Output.Method);
                Assert.Equal("localhost", qps.Output.RedisServer);
                Assert.Equal(6379, qps.Output.RedisPort);
                Assert.Equal("QueriesPerSecond", qps.Output.RedisChannel);
                Assert.Empty(qps.Options);
                Assert.Equal("PreliminarReducers[0]", qps.Path);
            },
            topN =>
            {
                Assert.Equal("TopN", topN.Name);
                Assert.Equal(ReducerOutputMethod.Stdout, topN.Output.Method);
                Assert.Equal(5, topN.GetInt32Option("N", 10, min: 1));
                Assert.Equal(5, topN.Options["n"].GetInt32());
            },
            alone =>
            {
                Assert.Equal("AlonePackets", alone.Name);
                Assert.Equal(ReducerOutputMethod.File, alone.Output.Method);
                Assert.Equal("/tmp/alone.json", alone.Output.FilePath);
            });
    }

    [Fact]
    public void Nested_fievel_file_loads()
    {
        var configuration = MonitorConfigurationLoader.Parse(NestedFievel, "nested.json");

        Assert.Equal("ns1.nic.cl", configuration.ServerId);
        Assert.Equal(5000, configuration.Window.PacketCount);
        Assert.Equal(CaptureInputMethod.Interface, configuration.Capture.InputMethod);
        Assert.Equal("eth0", configuration.Capture.Interface);
        Assert.Null(configuration.Capture.Input);
        Assert.Equal(0, configuration.Capture.Speed);
        Assert.Equal("udp port 53", configuration.Capture.Filter);
        Assert.Equal(["PacketsQueriesAndAnswersPerSecond", "TopNQ", "QueriesWithUnderscoredName"], configuration.Reducers.Select(r => r.Name));
        Assert.Equal("pqa", configuration.Reducers[0].Output.RedisChannel);
        Assert.Equal(6380, configuration.Reducers[0].Output.RedisPort);

        // Redis defaults: port 6379, channel = the reducer's name.
        Assert.Equal("10.0.0.7", configuration.Reducers[1].Output.RedisServer);
        Assert.Equal(6379, configuration.Reducers[1].Output.RedisPort);
        Assert.Equal("TopNQ", configuration.Reducers[1].Output.RedisChannel);
    }

    [Fact]
    public void Defaults_are_documented_values()
    {
        var configuration = MonitorConfigurationLoader.Parse("""{"PreliminarReducers": [{"Name": "QueriesPerSecond"}]}""", "minimal.json");

        Assert.Equal(Environment.MachineName, configuration.ServerId);
        Assert.Equal(TimeSpan.FromSeconds(1), configuration.Window.Duration);
        Assert.Same(MonitorConfiguration.DefaultWindow, configuration.Window);
        Assert.Null(configuration.Workers);
        Assert.Equal([53], configuration.Ports);
        Assert.Null(configuration.ZeroMq);
        Assert.Null(configuration.AnonymizationKeyFile);
        Assert.Empty(configuration.ReducerAssemblies);

        var capture = configuration.Capture;
        Assert.Equal(CaptureInputMethod.Stdin, capture.InputMethod);
        Assert.Equal("-", capture.Input);
        Assert.Null(capture.InputSource);
        Assert.Equal("port 53", capture.Filter);
        Assert.Equal(65535, capture.SnapLength);
        Assert.False(capture.Promiscuous);
        Assert.Equal(32, capture.BufferSizeMiB);
        Assert.Equal(32 << 20, capture.KernelBufferBytes);
        Assert.False(capture.Immediate);
        Assert.Equal(0, capture.Speed);
        Assert.Equal(1, capture.Loop);
        Assert.Null(capture.Duration);

        var output = configuration.Reducers[0].Output;
        Assert.Equal(ReducerOutputMethod.Stdout, output.Method);
        Assert.Null(output.RedisServer);
        Assert.Null(output.FilePath);
    }

    [Fact]
    public void Redis_output_without_server_defaults_to_localhost_6379_and_the_reducer_name()
    {
        var configuration = MonitorConfigurationLoader.Parse(
            """{"ServerId": "s", "PreliminarReducers": [{"Name": "AnswersPerSecond", "OutputMethod": "redis"}]}""", "c.json");

        var output = configuration.Reducers[0].Output;
        Assert.Equal("localhost", output.RedisServer);
        Assert.Equal(6379, output.RedisPort);
        Assert.Equal("AnswersPerSecond", output.RedisChannel);
    }

    [Fact]
    public void RataDns_keys_sit_beside_the_fievel_keys()
    {
        const string json = """
            {
              // RataDns accepts comments and trailing commas.
              "ServerId": "server1",
              "WindowMilliseconds": 250,
              "Workers": 4,
              "Ports": [53, 5353],
              "InputMethod": "interface",
              "InputSource": "any",
              "SnapLength": 1500,
              "Promiscuous": true,
              "BufferSizeMiB": 256,
              "Immediate": true,
              "DurationSeconds": 90.5,
              "ZeroMq": {"Bind": "tcp://*:5556", "SendHighWatermark": 1000},
              "AnonymizationKeyFile": "/etc/ratadns/anon.key",
              "ReducerAssemblies": ["/opt/ratadns/MyReducers.dll"],
              "Reducers": [{"Name": "TopN", "N": 20, "OutputMethod": "zmq"},],
            }
            """;

        var configuration = MonitorConfigurationLoader.Parse(json, "ratadns.json");

        Assert.Equal(TimeSpan.FromMilliseconds(250), configuration.Window.Duration);
        Assert.Null(configuration.Window.PacketCount);
        Assert.Equal(4, configuration.Workers);
        Assert.Equal([53, 5353], configuration.Ports);
        Assert.Equal(1500, configuration.Capture.SnapLength);
        Assert.True(configuration.Capture.Promiscuous);
        Assert.Equal(256, configuration.Capture.BufferSizeMiB);
        Assert.True(configuration.Capture.Immediate);
        Assert.Equal(TimeSpan.FromSeconds(90.5), configuration.Capture.Duration);
        Assert.Equal(["tcp://*:5556"], configuration.ZeroMq!.Endpoints);
        Assert.True(configuration.ZeroMq.Bind);
        Assert.Equal(1000, configuration.ZeroMq.SendHighWatermark);
        Assert.Equal("/etc/ratadns/anon.key", configuration.AnonymizationKeyFile);
        Assert.Equal(["/opt/ratadns/MyReducers.dll"], configuration.ReducerAssemblies);
        Assert.Equal(ReducerOutputMethod.Zmq, configuration.Reducers[0].Output.Method);
        Assert.Equal(20, configuration.Reducers[0].GetInt32Option("N", 10));
    }

    [Fact]
    public void Keys_and_enumerated_values_match_ignoring_case()
    {
        const string json = """
            {
              "serverid": "server1",
              "WINDOWSIZE": 10,
              "capture": {"inputmethod": "Capture_File", "inputSource": "x.pcap", "SPEED": 2.5},
              "preliminarReducers": [
                {"type": "TopN", "n": 3, "outputmethod": "REDIS", "redisserver": "r", "redisport": 7000, "redischannel": "c"},
                {"NAME": "AlonePackets", "OUTPUTMETHOD": "File", "outputfile": "/tmp/a"}
              ]
            }
            """;

        var configuration = MonitorConfigurationLoader.Parse(json, "c.json");

        Assert.Equal("server1", configuration.ServerId);
        Assert.Equal(10, configuration.Window.PacketCount);
        Assert.Equal(CaptureInputMethod.CaptureFile, configuration.Capture.InputMethod);
        Assert.Equal(2.5, configuration.Capture.Speed);
        var topN = configuration.Reducers[0];
        Assert.Equal(("r", 7000, "c"), (topN.Output.RedisServer, topN.Output.RedisPort!.Value, topN.Output.RedisChannel));
        Assert.Equal(3, topN.GetInt32Option("N", 10));
        Assert.Equal("/tmp/a", configuration.Reducers[1].Output.FilePath);
    }

    [Fact]
    public void Original_ini_era_aliases_are_accepted()
    {
        const string json = """
            {"PreliminarReducers": [
              {"Name": "TopN", "OutputMethod": "file", "FileName": "/tmp/top.json"},
              {"Name": "TopN", "OutputMethod": "redis", "RedisHost": "cache"}
            ]}
            """;

        var configuration = MonitorConfigurationLoader.Parse(json, "c.json");

        Assert.Equal("/tmp/top.json", configuration.Reducers[0].Output.FilePath);
        Assert.Equal("cache", configuration.Reducers[1].Output.RedisServer);
    }

    [Fact]
    public void Null_counts_as_absent_and_other_methods_output_keys_are_ignored()
    {
        const string json = """
            {"ServerId": "s", "Filter": null, "PreliminarReducers": [
              {"Name": "QueriesPerSecond", "OutputMethod": "stdout", "RedisServer": "localhost", "RedisPort": 6379, "RedisChannel": null}
            ]}
            """;

        var configuration = MonitorConfigurationLoader.Parse(json, "c.json");

        Assert.Equal("port 53", configuration.Capture.Filter);
        Assert.Null(configuration.Reducers[0].Output.RedisServer);
        Assert.Empty(configuration.Reducers[0].Options);
    }

    [Fact]
    public void Stdin_ignores_the_input_source()
    {
        var configuration = MonitorConfigurationLoader.Parse(
            """{"InputMethod": "stdin", "InputSource": "whatever", "PreliminarReducers": [{"Name": "TopN"}]}""", "c.json");

        Assert.Equal("-", configuration.Capture.Input);
    }

    [Fact]
    public void Same_reducer_to_different_outputs_is_allowed()
    {
        const string json = """
            {"PreliminarReducers": [
              {"Name": "TopN", "OutputMethod": "stdout"},
              {"Name": "TopN", "OutputMethod": "redis"},
              {"Name": "TopN", "OutputMethod": "redis", "RedisChannel": "TopN-10", "N": 10}
            ]}
            """;

        var configuration = MonitorConfigurationLoader.Parse(json, "c.json");

        Assert.Equal(3, configuration.Reducers.Count);
    }

    [Fact]
    public void Load_reads_a_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ratadns-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, NestedFievel);
        try
        {
            var configuration = MonitorConfigurationLoader.Load(path);

            Assert.Equal("ns1.nic.cl", configuration.ServerId);
            Assert.Equal(path, configuration.Origin);
            Assert.Equal(path, configuration.Reducers[0].Origin);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Options_outlive_the_document()
    {
        var configuration = MonitorConfigurationLoader.Parse(
            """{"PreliminarReducers": [{"Name": "Custom", "Levels": [1, 2], "Label": "x"}]}""", "c.json");

        var reducer = configuration.Reducers[0];
        Assert.Equal(JsonValueKind.Array, reducer.Options["levels"].ValueKind);
        Assert.Equal("x", reducer.GetStringOption("label"));
        reducer.RejectUnknownOptions("Levels", "Label");
    }

    [Fact]
    public void Without_a_reducer_list_the_default_set_goes_to_standard_output_and_every_name_in_it_exists()
    {
        var configuration = MonitorConfigurationLoader.Parse("""{"ServerId": "s"}""", "default.json");
        Assert.Equal(ReducerRegistry.DefaultSet, configuration.Reducers.Select(r => r.Name));
        Assert.All(configuration.Reducers, r => Assert.Equal(ReducerOutputMethod.Stdout, r.Output.Method));
        Assert.All(configuration.Reducers, r => Assert.Equal(r.Name, ReducerRegistry.Create(r).Type));
    }

    [Fact]
    public void A_top_level_output_is_the_default_of_every_reducer_that_names_none()
    {
        var configuration = MonitorConfigurationLoader.Parse("""
            {"ServerId": "s", "Output": {"OutputMethod": "redis", "RedisServer": "10.0.0.9", "RedisPort": 6400},
             "PreliminarReducers": [
               {"Name": "QueriesPerSecond"},
               {"Name": "TopNQ", "RedisChannel": "top"},
               {"Name": "RcodeCounter", "OutputMethod": "file", "OutputFile": "r.ndjson", "MaxFileBytes": 1048576, "RotateSeconds": 3600, "MaxFiles": 24}]}
            """, "default-output.json");
        var outputs = configuration.Reducers.Select(r => r.Output).ToList();
        Assert.Equal(ReducerOutputMethod.Redis, outputs[0].Method);
        Assert.Equal(("10.0.0.9", 6400, "QueriesPerSecond"), (outputs[0].RedisServer, outputs[0].RedisPort, outputs[0].RedisChannel));
        Assert.Equal("top", outputs[1].RedisChannel);
        Assert.Equal(ReducerOutputMethod.File, outputs[2].Method);
        Assert.Equal((1048576L, TimeSpan.FromHours(1), 24), (outputs[2].MaxFileBytes, outputs[2].RotateEvery, outputs[2].MaxFiles));
    }

    [Fact]
    public void Output_keys_are_checked_like_the_others()
    {
        var error = Assert.Throws<ConfigurationException>(() => MonitorConfigurationLoader.Parse("""
            {"Output": {"OutputMethod": "zmq", "RotateSecond": 5},
             "PreliminarReducers": [{"Name": "TopNQ", "OutputMethod": "file", "OutputFile": "x", "MaxFileBytes": 10}]}
            """, "bad-output.json"));
        Assert.Contains("Output.RotateSecond", error.Message, StringComparison.Ordinal);
        Assert.Contains("RotateSeconds", error.Message, StringComparison.Ordinal);
        Assert.Contains("PreliminarReducers[0].MaxFileBytes", error.Message, StringComparison.Ordinal);
    }
}
