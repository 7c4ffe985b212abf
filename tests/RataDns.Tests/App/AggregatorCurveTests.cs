using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using RataDns.App.Commands;
using RataDns.Tests.Aggregator;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;

namespace RataDns.Tests.App;

/// <summary>
/// The aggregator reads CurveZMQ monitors (issue 16): its own key pair (<c>--curve-secret-key</c>) and each
/// monitor's public key (<c>--curve-server-key ENDPOINT=FILE</c>, or FILE for all). A handshake that fails — no key,
/// another key, a client key the monitor does not list — is one line on each side, where it used to be silence.
/// pyzmq's own socket monitor is the reference that the failure the monitor names is the one libzmq saw.
/// </summary>
[Collection(NetMqCollection.Name)]
public sealed class AggregatorCurveTests : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly TemporaryDirectory _keys = new();

    private static bool LibZmqAvailable => NativeLibrary.TryLoad("libzmq.so.5", out _);

    private const string LibZmqUnavailable = "the system libzmq (libzmq.so.5, apt-get install libzmq5) is needed";

    public void Dispose() => _keys.Dispose();

    [SkippableFact]
    public async Task An_aggregator_reads_monitors_each_by_its_own_key_beside_a_plain_one()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        using var ns1 = Monitor("ns1");
        using var ns2 = Monitor("ns2");
        using var plain = ZeroMqPublisher.Open(new ZeroMqOptions { Endpoints = ["tcp://127.0.0.1:*"], Encoding = ZeroMqEncoding.Json });
        string plainEndpoint = ((ZeroMqPublisher)plain).Endpoints[0];
        await using var aggregator = await Aggregator.Start(new AggregateSettings
        {
            Endpoints = [ns1.Endpoint, ns2.Endpoint, plainEndpoint],
            HttpUrl = "http://127.0.0.1:0",
            Curve = AggregateCommand.CurveKeys(
                Key("aggregator").Secret,
                [$"{ns1.Endpoint}={ns1.PublicKeyFile}", $"{ns2.Endpoint}={ns2.PublicKeyFile}"],
                [ns1.Endpoint, ns2.Endpoint, plainEndpoint],
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
        });

        PublishUntil(() => aggregator.Servers().Count == 3, aggregator, (ns1.Channel, "ns1"), (ns2.Channel, "ns2"), (plain, "plain"));
        Assert.Equal(["ns1", "ns2", "plain"], aggregator.Servers().Order(StringComparer.Ordinal));
        Assert.Contains($"zmq {ns1.Endpoint}: connected (CurveZMQ)", aggregator.Log, StringComparison.Ordinal);
        Assert.Contains($"zmq {plainEndpoint}: connected", aggregator.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("refused", aggregator.Log + ns1.Warnings + ns2.Warnings, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_aggregator_without_the_monitors_key_is_told_so_and_so_is_the_monitor()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        using var ns1 = Monitor("ns1");
        await using var aggregator = await Aggregator.Start(new AggregateSettings { Endpoints = [ns1.Endpoint], HttpUrl = "http://127.0.0.1:0" });

        // libzmq reports the monitor's side as a mechanism mismatch, or without detail when the subscriber closes
        // first; either line names the key the subscriber lacks.
        string key = File.ReadAllText(ns1.PublicKeyFile).Trim();
        WaitFor(() => aggregator.Log.Contains("uses CurveZMQ", StringComparison.Ordinal) && ns1.Warnings.Contains(key, StringComparison.Ordinal), aggregator.Log + ns1.Warnings);
        Assert.Contains($"zmq {ns1.Endpoint}: the monitor there uses CurveZMQ: give its public key (its CurvePublicKeyFile) with --curve-server-key {ns1.Endpoint}=FILE", aggregator.Log, StringComparison.Ordinal);
        Assert.Matches($@"zmq {System.Text.RegularExpressions.Regex.Escape(ns1.Endpoint)}: a subscriber( without CurveZMQ was refused|'s handshake failed and it was dropped .*without CurveZMQ)", ns1.Warnings);
        Assert.Empty(aggregator.Servers());
    }

    [SkippableFact]
    public async Task Another_key_for_the_monitor_is_logged_by_both_sides_once_however_often_it_retries()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        using var ns1 = Monitor("ns1");
        var wrong = Key("not-ns1");
        await using var aggregator = await Aggregator.Start(new AggregateSettings
        {
            Endpoints = [ns1.Endpoint],
            HttpUrl = "http://127.0.0.1:0",
            Curve = AggregateCommand.CurveKeys(null, [wrong.Public], [ns1.Endpoint], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
        });

        WaitFor(() => aggregator.Log.Contains("refused the CurveZMQ handshake", StringComparison.Ordinal) && ns1.Warnings.Contains("holds another public key", StringComparison.Ordinal), aggregator.Log + ns1.Warnings);

        // libzmq tries again (after 0.1 s, then longer); the log holds one line a minute, whatever the rate.
        PublishFor(TimeSpan.FromSeconds(3), (ns1.Channel, "ns1"));
        Assert.Single(Lines(aggregator.Log), l => l.Contains("refused the CurveZMQ handshake: the key --curve-server-key gives for it is most likely not its public key", StringComparison.Ordinal));
        Assert.Single(Lines(ns1.Warnings), l => l.Contains("a subscriber's CurveZMQ handshake failed: it holds another public key for this monitor", StringComparison.Ordinal));
        Assert.Empty(aggregator.Servers());
    }

    [SkippableFact]
    public async Task A_client_key_the_monitor_does_not_list_is_named_on_both_sides()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        var listed = Key("listed");
        var stranger = Key("stranger");
        string allowed = Path.Combine(_keys.Path, "allowed.txt");
        File.WriteAllText(allowed, File.ReadAllText(listed.Public));
        using var ns1 = Monitor("ns1", allowed);
        await using var refused = await Aggregator.Start(new AggregateSettings
        {
            Endpoints = [ns1.Endpoint],
            HttpUrl = "http://127.0.0.1:0",
            Curve = AggregateCommand.CurveKeys(stranger.Secret, [ns1.PublicKeyFile], [ns1.Endpoint], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
        });

        string strangerKey = File.ReadAllText(stranger.Public).Trim();
        WaitFor(() => refused.Log.Contains("refused this aggregator's", StringComparison.Ordinal) && ns1.Warnings.Contains("was refused", StringComparison.Ordinal), refused.Log + ns1.Warnings);
        Assert.Contains($"zmq {ns1.Endpoint}: the monitor refused this aggregator's CurveZMQ client key {strangerKey} (status 400): add it to the monitor's AllowedClientKeysFile", refused.Log, StringComparison.Ordinal);
        Assert.Contains($"zmq: a subscriber at 127.0.0.1 was refused: its CurveZMQ key {strangerKey} is not in AllowedClientKeysFile {allowed}", ns1.Warnings, StringComparison.Ordinal);

        // The listed key is let in, by the same monitor.
        await using var admitted = await Aggregator.Start(new AggregateSettings
        {
            Endpoints = [ns1.Endpoint],
            HttpUrl = "http://127.0.0.1:0",
            Curve = AggregateCommand.CurveKeys(listed.Secret, [ns1.PublicKeyFile], [ns1.Endpoint], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
        });
        PublishUntil(() => admitted.Servers().Count == 1, admitted, (ns1.Channel, "ns1"));
        Assert.Empty(refused.Servers());
    }

    [SkippableTheory]
    [InlineData("none", "without CurveZMQ")]
    [InlineData("wrong", "another public key for this monitor")]
    public void A_pyzmq_subscriber_the_monitor_refuses_sees_its_handshake_fail_and_the_monitor_names_why(string clientKey, string monitorLine)
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        using var ns1 = Monitor("ns1");
        string serverKey = clientKey == "none" ? "-" : File.ReadAllText(Key("other").Public).Trim();

        // pyzmq's socket monitor reports what libzmq saw on the client's side, independently of this code: the
        // handshake failed (libzmq reports a mechanism mismatch, or no detail, depending on who closes first).
        const string script = """
            import sys, zmq
            from zmq.utils.monitor import recv_monitor_message
            endpoint, server_key = sys.argv[1:3]
            names = {getattr(zmq, n): n for n in dir(zmq) if n.startswith("EVENT_")}
            s = zmq.Context().socket(zmq.SUB)
            if server_key != "-":
                s.curve_serverkey = server_key.encode()
                s.curve_publickey, s.curve_secretkey = zmq.curve_keypair()
            m = s.get_monitor_socket()
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(endpoint)
            m.setsockopt(zmq.RCVTIMEO, 30000)
            while True:
                e = recv_monitor_message(m)
                name = names.get(e["event"], str(e["event"]))
                if "HANDSHAKE" in name:
                    print(f"{name} {e['value']:#x}" if "PROTOCOL" in name else name, flush=True)
                    break
            """;
        int exit = ExternalTool.Run(ExternalTool.SystemPython, ["-c", script, ns1.Endpoint, serverKey], out string stdout, out string stderr, timeoutMs: 60_000);
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("EVENT_HANDSHAKE_FAILED", stdout.Trim(), StringComparison.Ordinal);
        WaitFor(() => ns1.Warnings.Contains(monitorLine, StringComparison.Ordinal), ns1.Warnings);
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:1=KEY", "--curve-server-key tcp://127.0.0.1:1=KEY: tcp://127.0.0.1:1 is not one of the endpoints given (--connect tcp://127.0.0.1:5556).")]
    [InlineData("/nonexistent/ns1.pub", "--curve-server-key /nonexistent/ns1.pub: no such file.")]
    public void A_curve_option_that_cannot_be_used_is_one_line_and_exit_2(string serverKey, string message)
    {
        serverKey = serverKey.Replace("KEY", Key("ns1").Public, StringComparison.Ordinal);
        message = message.Replace("KEY", Key("ns1").Public, StringComparison.Ordinal);
        int exit = ExternalTool.Run(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "aggregate", "--connect", "tcp://127.0.0.1:5556", "--curve-server-key", serverKey, "--http", "http://127.0.0.1:0", "--history", "none"],
            out _,
            out string stderr,
            timeoutMs: 120_000);
        Assert.Equal(2, exit);
        Assert.Equal($"ratadns aggregate: {message}", stderr.Trim());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private (string Secret, string Public) Key(string name)
    {
        string prefix = Path.Combine(_keys.Path, name);
        if (!File.Exists(prefix + ".key"))
        {
            CurveKeyFiles.Generate(prefix + ".key", prefix + ".pub");
        }

        return (prefix + ".key", prefix + ".pub");
    }

    private CurveMonitor Monitor(string name, string? allowedClients = null)
    {
        var (secret, pub) = Key(name);
        var warnings = new StringBuilder();
        var channel = ZeroMqPublisher.Open(new ZeroMqOptions
        {
            Endpoints = ["tcp://127.0.0.1:*"],
            Encoding = ZeroMqEncoding.Json,
            CurveServerSecretKeyFile = secret,
            CurveServerPublicKeyFile = pub,
            AllowedClientKeysFile = allowedClients,
            Linger = TimeSpan.Zero,
            Warn = w =>
            {
                lock (warnings)
                {
                    warnings.AppendLine(w);
                }
            },
        });
        var native = Assert.IsType<NativeZeroMqPublisher>(channel);
        return new CurveMonitor(channel, native.Endpoints[0], pub, warnings);
    }

    private static void PublishUntil(Func<bool> done, Aggregator aggregator, params (IResultChannel Channel, string Server)[] monitors)
    {
        var clock = Stopwatch.StartNew();
        for (int window = 0; !done(); window++)
        {
            Assert.True(clock.Elapsed < HangGuard, $"not every monitor arrived: {aggregator.Log}");
            foreach (var (channel, server) in monitors)
            {
                Publish(channel, server, window);
            }

            Thread.Sleep(100);
        }
    }

    private static void PublishFor(TimeSpan span, params (IResultChannel Channel, string Server)[] monitors)
    {
        var clock = Stopwatch.StartNew();
        for (int window = 0; clock.Elapsed < span; window++)
        {
            foreach (var (channel, server) in monitors)
            {
                Publish(channel, server, window);
            }

            Thread.Sleep(100);
        }
    }

    private static void Publish(IResultChannel channel, string server, int window)
    {
        string envelope = $$$"""{"type":"RcodeCounter","serverId":"{{{server}}}","timeStamp":{{{window + 1}}},"data":{"NOERROR":1},"window":{"start":{{{window}}},"end":{{{window + 1}}},"sequence":{{{window}}}}}""";
        channel.Publish(new ResultEnvelope("RcodeCounter", server, "", Encoding.UTF8.GetBytes(envelope)));
    }

    private static void WaitFor(Func<bool> condition, string context)
    {
        Assert.True(SpinWait.SpinUntil(condition, HangGuard), context);
    }

    private sealed record CurveMonitor(IResultChannel Channel, string Endpoint, string PublicKeyFile, StringBuilder Log) : IDisposable
    {
        public string Warnings
        {
            get
            {
                lock (Log)
                {
                    return Log.ToString();
                }
            }
        }

        public void Dispose() => Channel.Dispose();
    }

    /// <summary><c>ratadns aggregate</c> run in this process (AggregateCommand.Run), its log collected.</summary>
    private sealed class Aggregator : IAsyncDisposable
    {
        private readonly LockedLog _log = new();
        private readonly CancellationTokenSource _stop = new();
        private Task<int>? _run;
        private AggregateRun? _started;

        public string Log => _log.Text;

        public IReadOnlyList<string> Servers() => [.. _started!.Store.Monitors().Select(m => m.ServerId)];

        public static async Task<Aggregator> Start(AggregateSettings settings)
        {
            var aggregator = new Aggregator();
            var started = new TaskCompletionSource<AggregateRun>(TaskCreationOptions.RunContinuationsAsynchronously);
            aggregator._run = Task.Run(() => AggregateCommand.Run(settings with { History = null }, aggregator._log, aggregator._stop.Token, r => started.SetResult(r)));
            aggregator._started = await started.Task.WaitAsync(HangGuard);
            return aggregator;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            Assert.Equal(0, await _run!.WaitAsync(HangGuard));
            _stop.Dispose();
        }
    }
}
