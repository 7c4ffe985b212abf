using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Configuration;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;

namespace RataDns.Tests.App;

/// <summary>
/// The monitor publishing on ZeroMQ to a real pyzmq subscriber: every window result of a run arrives, topic
/// <c>type/serverId</c>, and decodes (MessagePack) to the same dictionary as the JSON the monitor writes to a file.
/// </summary>
public class MonitorZeroMqTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [SkippableFact]
    public void A_python_subscriber_receives_every_window_and_it_decodes_to_the_json_mode_result()
    {
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        const string Reducers = """
            [{"Name": "PacketsQueriesAndAnswersPerSecond"}, {"Name": "TopNQ", "N": 3}, {"Name": "RcodeCounter"},
             {"Name": "ResponseLatency"}, {"Name": "DistinctCounter"}]
            """;

        // The JSON mode, to a file: the reference.
        string file = Path.GetTempFileName();
        List<JsonElement> expected;
        try
        {
            var fileRun = Load($$"""
                {"ServerId": "zmq-test", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{Sample}}",
                 "Output": {"OutputMethod": "file", "OutputFile": "{{file}}"}, "PreliminarReducers": {{Reducers}} }
                """);
            Assert.Equal(0, MonitorCommand.Run(fileRun, null, new StringWriter(), default, new MonitorRunOptions { PinThreads = false }));
            expected = [.. File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        }
        finally
        {
            File.Delete(file);
        }

        // The same run published on ZeroMQ (MessagePack). PUB/SUB drops what is sent before a subscription arrives,
        // and no pace of replay guarantees the subscriber is in place first (a loaded CI machine lost the first result
        // at the capture's own pace): the monitor's socket is opened here, as the monitor opens it, and warm-up
        // messages go out on it until the subscriber has seen one; then the monitor publishes on that socket.
        int port = RedisServer.FreePort();
        string endpoint = $"tcp://127.0.0.1:{port}";
        var zeroMq = new ZeroMqConfiguration { Endpoints = [endpoint], Bind = true };
        var channel = MonitorCommand.OpenZeroMq(zeroMq); // the monitor's run disposes it
        using var subscriber = new PythonSubscriber(endpoint, "msgpack", expected: expected.Count);
        subscriber.WaitUntilSubscribed(() => channel.Publish(new RataDns.Transport.Publishing.ResultEnvelope("warmup", "x", "warmup", "{}"u8)));
        var zmqRun = Load($$"""
            {"ServerId": "zmq-test", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{Sample}}",
             "ZeroMq": {"Bind": "{{endpoint}}", "Encoding": "msgpack"},
             "Output": {"OutputMethod": "zmq"}, "PreliminarReducers": {{Reducers}} }
            """);
        var errors = new StringWriter();
        Assert.True(
            MonitorCommand.Run(zmqRun, null, errors, default, new MonitorRunOptions { PinThreads = false, Statistics = true, ZeroMq = () => channel }) == 0,
            errors.ToString());

        var received = new List<JsonElement>();
        for (string? line; (line = subscriber.NextLine(TimeSpan.FromSeconds(20))) is not null && !line.StartsWith("done", StringComparison.Ordinal);)
        {
            received.Add(JsonDocument.Parse(line).RootElement.Clone());
        }

        Assert.True(expected.Count == received.Count, $"{received.Count} of {expected.Count} results received; {errors}; {string.Join('\n', subscriber.StandardError)}");
        for (int i = 0; i < expected.Count; i++)
        {
            var message = received[i];
            string type = expected[i].GetProperty("type").GetString()!;
            Assert.Equal($"{type}/zmq-test", message.GetProperty("topic").GetString());

            // The Fievel envelope of the JSON mode, plus the reducer's state (base64 text) for aggregators.
            var envelope = System.Text.Json.Nodes.JsonNode.Parse(message.GetProperty("data").GetRawText())!.AsObject();
            byte[] state = Convert.FromBase64String(envelope["state"]!.GetValue<string>());
            Assert.Equal(type, RataDns.Reducers.State.ReducerState.ReadHeader(state).Type);
            envelope.Remove("state");
            JsonSemanticAssert.Same(expected[i], JsonDocument.Parse(envelope.ToJsonString()).RootElement, $"result {i} ({type})");
        }

        Assert.Contains($"results sent, 0 dropped", errors.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_results_of_the_last_window_reach_the_subscriber_before_the_process_exits()
    {
        // The whole capture is one window: its results are published right before ratadns exits, and must not
        // die with the process (NetMQ sends on background threads).
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        int port = RedisServer.FreePort();
        string endpoint = $"tcp://127.0.0.1:{port}";
        string config = Path.GetTempFileName();
        try
        {
            File.WriteAllText(config, $$"""
                {"ServerId": "last", "WindowSize": 1000000, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Speed": 4,
                 "ZeroMq": {"Bind": "{{endpoint}}"}, "Output": {"OutputMethod": "zmq"},
                 "PreliminarReducers": [{"Name": "TopNQ"}, {"Name": "RcodeCounter"}]}
                """);
            using var subscriber = new PythonSubscriber(endpoint, "msgpack", expected: 2);
            Assert.Equal("connected", subscriber.NextLine(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "-c", config], out _, out string stderr));
            var topics = new List<string>();
            for (string? line; (line = subscriber.NextLine(TimeSpan.FromSeconds(20))) is not null && !line.StartsWith("done", StringComparison.Ordinal);)
            {
                var message = JsonDocument.Parse(line).RootElement;
                topics.Add(message.GetProperty("topic").GetString()!);
                Assert.True(message.GetProperty("data").GetProperty("window").GetProperty("partial").GetBoolean());
            }

            Assert.True(topics.Count == 2, $"received {string.Join(", ", topics)}; ratadns said: {stderr}");
            Assert.Equal(["RcodeCounter/last", "TopNQ/last"], topics.Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(config);
        }
    }

    [SkippableFact]
    public void With_curve_keys_generated_by_ratadns_keygen_an_allowed_client_receives_and_an_unknown_one_does_not()
    {
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        string keys = Directory.CreateTempSubdirectory("ratadns-curve-").FullName;
        try
        {
            // Keys made by the command an operator uses.
            foreach (string name in new[] { "monitor", "allowed", "stranger" })
            {
                Assert.True(ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "keygen", Path.Combine(keys, name)], out _, out string err) == 0, err);
            }

            string Key(string file) => File.ReadAllText(Path.Combine(keys, file)).Trim();
            File.WriteAllLines(Path.Combine(keys, "clients.txt"), ["# the aggregator", Key("allowed.pub")]);
            string endpoint = $"tcp://127.0.0.1:{RedisServer.FreePort()}";
            var config = Load($$"""
                {"ServerId": "curve", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Speed": 2,
                 "ZeroMq": {"Bind": "{{endpoint}}", "CurveSecretKeyFile": "{{keys}}/monitor.key", "CurvePublicKeyFile": "{{keys}}/monitor.pub",
                            "AllowedClientKeysFile": "{{keys}}/clients.txt"},
                 "Output": {"OutputMethod": "zmq"}, "PreliminarReducers": [{"Name": "QueriesPerSecond"}]}
                """);
            using var allowed = new PythonSubscriber(endpoint, serverKey: Key("monitor.pub"), clientPublicKey: Key("allowed.pub"), clientSecretKey: Key("allowed.key"));
            using var stranger = new PythonSubscriber(endpoint, serverKey: Key("monitor.pub"), clientPublicKey: Key("stranger.pub"), clientSecretKey: Key("stranger.key"));
            Assert.Equal("connected", allowed.NextLine(TimeSpan.FromSeconds(30)));
            Assert.Equal("connected", stranger.NextLine(TimeSpan.FromSeconds(30)));
            var errors = new StringWriter();
            Assert.True(MonitorCommand.Run(config, null, errors, default, new MonitorRunOptions { PinThreads = false }) == 0, errors.ToString());

            int received = 0;
            for (string? line; (line = allowed.NextLine(TimeSpan.FromSeconds(5))) is not null && !line.StartsWith("done", StringComparison.Ordinal);)
            {
                Assert.Equal("QueriesPerSecond/curve", JsonDocument.Parse(line).RootElement.GetProperty("topic").GetString());
                received++;
            }

            Assert.True(received >= 9, $"the allowed client received {received} of about 10 windows; {string.Join('\n', allowed.StandardError)}");
            string? strangerLine = stranger.NextLine(TimeSpan.FromSeconds(2));
            Assert.True(strangerLine is null || strangerLine.StartsWith("done 0", StringComparison.Ordinal), $"the unknown client received: {strangerLine}");
        }
        finally
        {
            Directory.Delete(keys, recursive: true);
        }
    }

    [Fact]
    public void Without_any_subscriber_the_monitor_runs_through_and_accounts_for_every_result()
    {
        var config = Load($$"""
            {"ServerId": "alone", "WindowSize": 100, "InputMethod": "capture_file", "InputSource": "{{Sample}}",
             "ZeroMq": {"Connect": "tcp://127.0.0.1:{{RedisServer.FreePort()}}"}, "Output": {"OutputMethod": "zmq"},
             "PreliminarReducers": [{"Name": "TopNQ"}, {"Name": "RcodeCounter"}]}
            """);
        var errors = new StringWriter();
        Assert.Equal(0, MonitorCommand.Run(config, null, errors, default, new MonitorRunOptions { PinThreads = false, Statistics = true }));

        // 2,000 packets in windows of 100: 20 windows of 2 results, each sent (to ZeroMQ's queue) or dropped (counted).
        var counts = System.Text.RegularExpressions.Regex.Match(errors.ToString(), @"zmq connect .*: (\d+) results sent, (\d+) dropped");
        Assert.True(counts.Success, errors.ToString());
        Assert.Equal(40, long.Parse(counts.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + long.Parse(counts.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_zeromq_endpoint_that_cannot_be_bound_is_refused_before_capture_starts()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;
        var config = Load($$"""
            {"ServerId": "s", "InputMethod": "capture_file", "InputSource": "{{Sample}}",
             "ZeroMq": {"Bind": "tcp://127.0.0.1:{{port}}"}, "Output": {"OutputMethod": "zmq"}, "PreliminarReducers": [{"Name": "TopNQ"}]}
            """);
        var errors = new StringWriter();
        Assert.Equal(2, MonitorCommand.Run(config, null, errors, default, new MonitorRunOptions { PinThreads = false }));
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), errors.ToString(), StringComparison.Ordinal);
    }

    private static MonitorConfiguration Load(string json) => MonitorConfigurationLoader.Parse(json, "zmq-test.json");
}
