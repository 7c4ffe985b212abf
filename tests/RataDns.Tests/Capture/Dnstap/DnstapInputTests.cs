using System.Text.Json;
using System.Text.RegularExpressions;
using RataDns.App.Commands;
using RataDns.Capture;
using RataDns.Capture.Dnstap;
using RataDns.Configuration;
using RataDns.Tests.Capture.Replay;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;

namespace RataDns.Tests.Capture.Dnstap;

/// <summary>
/// dnstap files as an input of every command (issue 17): a Frame Streams file of exchanges over each transport dnstap
/// names (UDP, TCP, DoT, DoH, DoQ, DNSCrypt), written by the test's own protobuf writer from dnstap.proto: the
/// monitor's TransportCounter must count per transport what the file says, ResponseLatency the server's own times, serialize every message, and inspect at --speed must take the
/// file's own time to replay.
/// </summary>
public sealed class DnstapInputTests : IDisposable
{
    private const long Start = 1_700_000_000L * 1_000_000_000;
    private const long Gap = 250_000_000; // between exchanges
    private const long Latency = 300_000; // 300 µs from query to response, by the server's clock

    // dnstap.proto SocketProtocol: UDP 1, TCP 2, DOT 3, DOH 4, DNSCryptUDP 5, DNSCryptTCP 6, DOQ 7.
    private static readonly int[] Protocols = [1, 2, 3, 4, 7, 5, 3, 6];
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void The_monitor_counts_each_transport_dnstap_proto_names_and_latency_by_the_servers_times()
    {
        // The reference is dnstap.proto's SocketProtocol table (written here, not taken from RataDns): Debian 12's
        // decoders know only UDP and TCP (dnstap-ldns fails on a DOT message; BIND 9.18's dnstap-read prints it as
        // UDP), so they cannot tell the encrypted transports apart.
        string file = WriteFile();
        var expected = new Dictionary<string, long> { ["udp4"] = 0, ["udp6"] = 0, ["tcp4"] = 0, ["tcp6"] = 0 };
        foreach (int protocol in Protocols)
        {
            string key = protocol switch { 1 => "udp", 2 => "tcp", 3 => "dot", 4 => "doh", 5 or 6 => "dnscrypt", 7 => "doq", _ => "?" };
            expected[key + "4"] = expected.GetValueOrDefault(key + "4") + 2; // the query and its response
            expected[key + "6"] = 0;
        }

        var monitor = RunMonitor(file);
        var transports = monitor["TransportCounter"].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), transports.OrderBy(p => p.Key, StringComparer.Ordinal));

        // Every exchange matched, each 300 µs by the server's query and response times.
        var latency = monitor["ResponseLatency"];
        Assert.Equal(Protocols.Length, latency.GetProperty("matched").GetInt64());
        Assert.Equal(0, latency.GetProperty("unsolicited").GetInt64());
        Assert.Equal(Latency / 1000, latency.GetProperty("latencyUs").GetProperty("max").GetInt64());
    }

    [Fact]
    public void Serialize_and_inspect_read_a_dnstap_file_and_inspect_replays_it_at_its_own_pace()
    {
        string file = WriteFile();
        Assert.Equal(0, RataDnsProcess.RunToEnd(["serialize", "-r", file, "--ndjson", "-q"], out string ndjson, out string errors));
        var messages = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(messages.Count == 2 * Protocols.Length, errors);
        Assert.All(messages, m => Assert.Equal("x.test.", m.GetProperty("queries")[0].GetProperty("qname").GetString()));

        // The file spans 7 gaps and a latency of its own time; paced on a clock that moves only when the pacer waits.
        double span = ((Protocols.Length - 1) * Gap + Latency) / 1e9;
        var fast = Inspect(file, 0, new FakeReplayClock());
        Assert.Contains($"dns messages: {2 * Protocols.Length}", fast, StringComparison.Ordinal);
        foreach (double speed in new[] { 1.0, 4.0 })
        {
            var clock = new FakeReplayClock();
            Assert.Equal(fast, Inspect(file, speed, clock));
            Assert.InRange(clock.Now, (long)((span - 0.0005) / speed * 1e9), (long)((span + 0.0005) / speed * 1e9) + FakeReplayClock.SpinStep);
        }
    }

    [SkippableFact]
    public void Inspect_and_serialize_listen_for_writers_on_tcp_and_unix_sockets()
    {
        Skip.IfNot(File.Exists("/usr/bin/fstrm_replay"), "fstrm_replay, the reference writer, is missing (scripts/setup.sh installs fstrm-bin)");
        string file = WriteFile();
        int port = RedisServer.FreePort();
        string inspected = ListenAndReplay(["inspect", "--dnstap", $"tcp://127.0.0.1:{port}"], ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], file, writers: 2, out string errors);
        Assert.Contains($"dns messages: {4 * Protocols.Length}", inspected, StringComparison.Ordinal);
        Assert.Contains($"dnstap: {4 * Protocols.Length} messages from 2 writers", errors, StringComparison.Ordinal);

        string socket = Path.Combine(_directory.Path, "dnstap.sock");
        string ndjson = ListenAndReplay(["serialize", "--dnstap", $"unix:{socket}", "--ndjson"], ["-u", socket], file, writers: 1, out errors, socket);
        Assert.True(ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 2 * Protocols.Length, errors);
        Assert.False(File.Exists(socket), "the socket file is removed at the end");
    }

    [SkippableFact]
    public async Task The_monitor_reports_its_dnstap_input_in_its_metrics()
    {
        Skip.IfNot(File.Exists("/usr/bin/fstrm_replay"), "fstrm_replay, the reference writer, is missing (scripts/setup.sh installs fstrm-bin)");
        string file = WriteFile();
        string socket = Path.Combine(_directory.Path, "metrics.sock");
        using var monitor = RataDnsProcess.Start(["monitor", "--dnstap", $"unix:{socket}", "--metrics", "0"]);
        Assert.True(SpinWait.SpinUntil(() => monitor.Error.Contains("listening for dnstap on", StringComparison.Ordinal) && monitor.Error.Contains("metrics on http://", StringComparison.Ordinal) || monitor.HasExited, TimeSpan.FromSeconds(60)), monitor.Describe());
        string url = Regex.Match(monitor.Error, @"metrics on (http://\S+)").Groups[1].Value;
        Assert.True(ExternalTool.Run("/usr/bin/fstrm_replay", ["-t", FrameStreamReader.DnstapContentType, "-u", socket, "-r", file], out _, out string replayErrors) == 0, replayErrors);

        // fstrm_replay has ended: the receiver read every frame. The counters, as Prometheus's own checker reads them.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string metrics = await http.GetStringAsync(new Uri(url));
        Assert.Matches($@"(?m)^ratadns_dnstap_messages_total {2 * Protocols.Length}$", metrics);
        Assert.Matches($@"(?m)^ratadns_dnstap_frames_total {2 * Protocols.Length}$", metrics);
        Assert.Matches(@"(?m)^ratadns_dnstap_writers_total 1$", metrics);
        Assert.Matches(@"(?m)^ratadns_dnstap_skipped_total\{reason=""undecodable""\} 0$", metrics);
        if (File.Exists("/usr/bin/promtool"))
        {
            Assert.True(ExternalTool.Run("/usr/bin/promtool", ["check", "metrics"], out string lint, out string lintErrors, stdin: metrics) == 0, lint + lintErrors);
        }

        monitor.Signal("TERM");
        Assert.True(monitor.WaitForExit(TimeSpan.FromSeconds(60)), monitor.Describe());
        Assert.Contains($"dnstap: {2 * Protocols.Length} messages from 1 writer", monitor.Error, StringComparison.Ordinal);
    }

    /// <summary>Starts ratadns, waits until it listens, replays the file with fstrm_replay, stops it (SIGTERM): its output.</summary>
    private static string ListenAndReplay(string[] arguments, string[] target, string file, int writers, out string errors, string? socket = null)
    {
        using var ratadns = RataDnsProcess.Start(arguments);
        Assert.True(SpinWait.SpinUntil(() => ratadns.Error.Contains("listening for dnstap on", StringComparison.Ordinal) || ratadns.HasExited, TimeSpan.FromSeconds(60)), ratadns.Describe());
        if (socket is not null && !OperatingSystem.IsWindows())
        {
            // Servers write as their own users: the socket is writable by all (the directory says who may reach it).
            Assert.True(File.GetUnixFileMode(socket).HasFlag(UnixFileMode.OtherWrite), File.GetUnixFileMode(socket).ToString());
        }

        for (int i = 0; i < writers; i++)
        {
            Assert.True(ExternalTool.Run("/usr/bin/fstrm_replay", ["-t", FrameStreamReader.DnstapContentType, .. target, "-r", file], out _, out string replayErrors) == 0, replayErrors);
        }

        // fstrm_replay ends once the receiver answered its STOP with FINISH: every frame was read by then.
        ratadns.Signal("TERM");
        Assert.True(ratadns.WaitForExit(TimeSpan.FromSeconds(60)), ratadns.Describe());
        Assert.True(ratadns.ExitCode == 0, ratadns.Describe());
        errors = ratadns.Error;
        return ratadns.Output;
    }

    [Fact]
    public void A_damaged_file_keeps_the_messages_before_the_damage_and_says_where()
    {
        string file = WriteFile();
        byte[] bytes = File.ReadAllBytes(file);
        string cut = Path.Combine(_directory.Path, "cut.fstrm");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 30)]); // inside the last data frame; no STOP
        var errors = new StringWriter();
        var report = new StringWriter();
        int exit = InspectCommand.Run(new CaptureSourceSettings { Input = cut }, DnsPortSet.Default, null, report, errors);
        Assert.Equal(ExitCodes.InputDamaged, exit);
        Assert.Contains($"dns messages: {(2 * Protocols.Length) - 1}", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("damaged Frame Streams data: the stream ends inside a frame", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_dnstap_options_refuse_what_is_not_a_socket_and_a_second_input()
    {
        Assert.Equal(ExitCodes.Usage, RataDnsProcess.RunToEnd(["monitor", "--dnstap", "/run/dnstap.sock"], out _, out string errors));
        Assert.Contains("--dnstap /run/dnstap.sock: expected unix:PATH or tcp://ADDRESS:PORT", errors, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, RataDnsProcess.RunToEnd(["monitor", "--dnstap", "unix:/tmp/x.sock", "-r", "x.pcap"], out _, out errors));
        Assert.Contains("give one input", errors, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, RataDnsProcess.RunToEnd(["serialize", "--dnstap", "udp://127.0.0.1:6000"], out _, out errors));
        Assert.Contains("expected unix:PATH or tcp://ADDRESS:PORT", errors, StringComparison.Ordinal);

        var configuration = MonitorConfigurationLoader.Parse("""{"InputMethod": "dnstap", "InputSource": "tcp://127.0.0.1:6000"}""", "t.json");
        Assert.Equal("tcp://127.0.0.1:6000", configuration.Capture.DnstapSocket);
        Assert.Null(configuration.Capture.Input);
        var fromFile = MonitorConfigurationLoader.Parse("""{"InputMethod": "dnstap", "InputSource": "/var/log/dnstap.fstrm"}""", "t.json");
        Assert.Equal("/var/log/dnstap.fstrm", fromFile.Capture.Input);
        var missing = Assert.Throws<RataDns.Reducers.Configuration.ConfigurationException>(() => MonitorConfigurationLoader.Parse("""{"InputMethod": "dnstap"}""", "t.json"));
        Assert.Contains("unix:PATH or tcp://ADDRESS:PORT", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>START, a query and its response per protocol, STOP: a Frame Streams file as fstrm_capture writes one.</summary>
    private string WriteFile()
    {
        string path = Path.Combine(_directory.Path, "mix.fstrm");
        using var file = File.Create(path);
        file.Write(FrameStreamReader.ControlFrame(FrameStreamReader.ControlStart, FrameStreamReader.DnstapContentType));
        for (int i = 0; i < Protocols.Length; i++)
        {
            long asked = Start + (i * Gap);
            ushort id = (ushort)(0x100 + i);
            byte[] query = new TestMessageBuilder { Id = id, Flags = 0x0100 }.Question("x.test", 1).ToArray();
            byte[] answer = new TestMessageBuilder { Id = id, Flags = 0x8180 }.Question("x.test", 1).ToArray();
            Data(file, Payload(5, Protocols[i], (ushort)(40000 + i), asked, null, query));
            Data(file, Payload(6, Protocols[i], (ushort)(40000 + i), asked, asked + Latency, answer));
        }

        file.Write(FrameStreamReader.ControlFrame(FrameStreamReader.ControlStop, null));
        return path;
    }

    private static void Data(Stream file, byte[] payload)
    {
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(length, (uint)payload.Length);
        file.Write(length);
        file.Write(payload);
    }

    /// <summary>A dnstap.Dnstap MESSAGE, field numbers from dnstap.proto: a client query (5) or response (6).</summary>
    private static byte[] Payload(int type, int protocol, ushort clientPort, long queryTime, long? responseTime, byte[] dns)
    {
        var m = new List<byte>();
        Varint(m, 1, (ulong)type);
        Varint(m, 2, 1); // INET
        Varint(m, 3, (ulong)protocol);
        Bytes(m, 4, [192, 0, 2, 7]);
        Bytes(m, 5, [192, 0, 2, 53]);
        Varint(m, 6, clientPort);
        Varint(m, 7, 853);
        Varint(m, 8, (ulong)(queryTime / 1_000_000_000));
        Fixed32(m, 9, (uint)(queryTime % 1_000_000_000));
        if (responseTime is long answered)
        {
            Varint(m, 12, (ulong)(answered / 1_000_000_000));
            Fixed32(m, 13, (uint)(answered % 1_000_000_000));
            Bytes(m, 14, dns);
        }
        else
        {
            Bytes(m, 10, dns);
        }

        var d = new List<byte>();
        Bytes(d, 1, "test-server"u8.ToArray());
        Bytes(d, 14, [.. m]);
        Varint(d, 15, 1); // MESSAGE
        return [.. d];
    }

    private static void Tag(List<byte> to, int field, int wire) => Raw(to, (ulong)((field << 3) | wire));

    private static void Raw(List<byte> to, ulong value)
    {
        while (value >= 0x80)
        {
            to.Add((byte)(value | 0x80));
            value >>= 7;
        }

        to.Add((byte)value);
    }

    private static void Varint(List<byte> to, int field, ulong value)
    {
        Tag(to, field, 0);
        Raw(to, value);
    }

    private static void Fixed32(List<byte> to, int field, uint value)
    {
        Tag(to, field, 5);
        to.AddRange(BitConverter.GetBytes(value)); // little-endian here, as protobuf's fixed32
    }

    private static void Bytes(List<byte> to, int field, byte[] value)
    {
        Tag(to, field, 2);
        Raw(to, (ulong)value.Length);
        to.AddRange(value);
    }

    private Dictionary<string, JsonElement> RunMonitor(string file)
    {
        string results = Path.Combine(_directory.Path, "results.ndjson");
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ServerId"] = "dnstap-file",
            ["WindowSize"] = int.MaxValue,
            ["InputMethod"] = "dnstap",
            ["InputSource"] = file,
            ["Reducers"] = new[] { "TransportCounter", "ResponseLatency" }
                .Select(n => new Dictionary<string, string> { ["Name"] = n, ["OutputMethod"] = "file", ["OutputFile"] = results }).ToArray(),
        });
        var errors = new StringWriter();
        int exit = MonitorCommand.Run(MonitorConfigurationLoader.Parse(json, "dnstap-file.json"), null, errors, CancellationToken.None, new MonitorRunOptions { PinThreads = false });
        Assert.True(exit == ExitCodes.Ok, errors.ToString());
        return File.ReadAllLines(results).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .ToDictionary(e => e.GetProperty("type").GetString()!, e => e.GetProperty("data"));
    }

    private static string Inspect(string path, double speed, FakeReplayClock clock)
    {
        var report = new StringWriter();
        var errors = new StringWriter();
        int exit = InspectCommand.Run(new CaptureSourceSettings { Input = path, Speed = speed, ReplayClock = clock }, DnsPortSet.Default, null, report, errors);
        Assert.True(exit == 0, errors.ToString());
        return report.ToString();
    }
}
