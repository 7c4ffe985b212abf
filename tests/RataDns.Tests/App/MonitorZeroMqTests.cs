using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Reducers.Configuration;
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

        // The same run published on ZeroMQ (MessagePack), replayed at twice the capture's pace so the subscriber,
        // started first, is connected well before the first window closes.
        int port = RedisServer.FreePort();
        string endpoint = $"tcp://127.0.0.1:{port}";
        using var subscriber = new PythonSubscriber(endpoint, "msgpack", expected: expected.Count);
        Assert.Equal("connected", subscriber.NextLine(TimeSpan.FromSeconds(30)));
        var zmqRun = Load($$"""
            {"ServerId": "zmq-test", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Speed": 2,
             "ZeroMq": {"Bind": "{{endpoint}}", "Encoding": "msgpack"},
             "Output": {"OutputMethod": "zmq"}, "PreliminarReducers": {{Reducers}} }
            """);
        var errors = new StringWriter();
        Assert.True(
            MonitorCommand.Run(zmqRun, null, errors, default, new MonitorRunOptions { PinThreads = false, Statistics = true }) == 0,
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
            JsonSemanticAssert.Same(expected[i], message.GetProperty("data"), $"result {i} ({type})");
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
