using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// tcpdump habits on <c>monitor</c> (issue 16): <c>-r FILE</c>, <c>-r -</c> and <c>-i IFACE</c> without a
/// configuration file (the default reducers to standard output), a trailing BPF expression, <c>--port</c>; and a live
/// capture that sees frames but no DNS for 10 s says why that may be, once. Counts are checked against tshark and
/// against the queries the test itself sent.
/// </summary>
public class TcpdumpHabitsTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [Fact]
    public void Read_a_file_or_standard_input_without_a_configuration_and_count_what_tshark_counts()
    {
        Assert.True(Run(["monitor", "-r", Sample, "-q"], null, out string fromFile, out string stderr) == 0, stderr);
        Assert.True(Run(["monitor", "-r", "-", "-q"], File.ReadAllBytes(Sample), out string fromStdin, out stderr) == 0, stderr);
        foreach (string output in new[] { fromFile, fromStdin })
        {
            var rcodes = Results(output, "RcodeCounter").SelectMany(d => d.EnumerateObject()).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Sum(p => p.Value.GetInt64()));
            Assert.Equal(TsharkRcodes(), rcodes);
        }
    }

    [Fact]
    public void Inspect_and_serialize_read_with_r_as_tshark_counts_and_p_is_not_a_port()
    {
        Assert.Equal(0, ExternalTool.Run("/usr/bin/tshark", ["-r", Sample, "-Y", "dns", "-T", "fields", "-e", "frame.number"], out string frames, out _));
        int dnsMessages = frames.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

        Assert.True(Run(["serialize", "-r", "-", "--ndjson", "-q"], File.ReadAllBytes(Sample), out string ndjson, out string stderr) == 0, stderr);
        Assert.Equal(dnsMessages, ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(Run(["inspect", "-r", Sample, "-q"], null, out string inspected, out stderr) == 0, stderr);
        Assert.Contains($"dns messages: {dnsMessages}", inspected, StringComparison.Ordinal);

        // tcpdump's -p means "not promiscuous"; here it is no longer a port, and says so.
        Assert.Equal(2, Run(["inspect", "-p", "53", Sample], null, out _, out stderr));
        Assert.Contains("'-p'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void C_with_a_number_stops_after_that_many_packets_as_tcpdump_does()
    {
        // tcpdump -c 100 is the reference for which packets: the monitor over its 100 must say what -c 100 says.
        string first = Path.Combine(Path.GetTempPath(), $"ratadns-c100-{Environment.ProcessId}.pcap");
        try
        {
            Assert.Equal(0, ExternalTool.Run("/bin/sh", ["-c", "tcpdump -r \"$0\" -c 100 -w - 2>/dev/null > \"$1\"", Sample, first], out _, out string cut));
            Assert.True(Run(["monitor", "-r", Sample, "-c", "100", "-q"], null, out string counted, out string stderr) == 0, stderr);
            Assert.True(Run(["monitor", "-r", first, "-q"], null, out string reference, out stderr) == 0, stderr);
            Assert.Equal(100, Packets(reference));
            Assert.Equal(Packets(reference), Packets(counted));
            Assert.Equal(Results(reference, "RcodeCounter").Select(d => d.GetRawText()), Results(counted, "RcodeCounter").Select(d => d.GetRawText()));
            Assert.True(Run(["monitor", "-r", Sample, "--count", "100", "-q"], null, out string longForm, out stderr) == 0, stderr);
            Assert.Equal(counted, longForm);
        }
        finally
        {
            File.Delete(first);
        }
    }

    [Fact]
    public void W_is_not_the_window_and_says_what_is()
    {
        Assert.Equal(2, Run(["monitor", "-r", Sample, "-w", "5s"], null, out _, out string stderr));
        Assert.Contains("-w: tcpdump writes packets to a file with -w; ratadns writes results", stderr, StringComparison.Ordinal);
        Assert.Contains("The window is --window", stderr, StringComparison.Ordinal);
        Assert.Equal(2, Run(["aggregate", "-c", "tcp://127.0.0.1:5556"], null, out _, out stderr));
        Assert.Contains("'-c'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "monitor" }, "give -c CONFIG, or -i INTERFACE, -r FILE or --dnstap SOCKET")]
    [InlineData(new[] { "monitor", "-r", "x.pcap", "-c", "5", "--count", "5" }, "give the packet count once: -c N or --count N.")]
    [InlineData(new[] { "monitor", "-r", "x.pcap", "--count", "0" }, "--count 0: at least 1 packet.")]
    [InlineData(new[] { "monitor", "-i", "lo", "-r", "x.pcap" }, "give -i INTERFACE (live) or -r FILE (a capture), not both.")]
    [InlineData(new[] { "monitor", "-r", "x.pcap", "--filter", "port 53", "port", "54" }, "give the filter as --filter or after the options, not both.")]
    [InlineData(new[] { "monitor", "-r", "x.pcap", "--port", "70000" }, "--port")]
    public void Contradictions_are_one_line_and_exit_2(string[] arguments, string message)
    {
        Assert.Equal(2, Run(arguments, null, out _, out string stderr));
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Live_on_another_port_with_a_trailing_filter_warns_once_without_port_and_counts_every_query_with_it()
    {
        Skip.IfNot(Environment.UserName == "root", "live capture needs root (CAP_NET_RAW)");
        int port = RedisServer.FreePort();

        // Without --port: frames pass the filter but none is DNS on port 53; the monitor says so once.
        using (var sender = new QuerySender(port))
        using (var monitor = RataDnsProcess.Start(["monitor", "-i", "lo", "-q", "udp", "port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            Wait(() => monitor.Error.Contains("and no DNS message on port 53", StringComparison.Ordinal), monitor);
            Assert.Contains("--port", monitor.Error, StringComparison.Ordinal);
            Assert.Single(monitor.Error.Split('\n'), l => l.Contains("no DNS message", StringComparison.Ordinal));
        }

        // With --port (the filter follows it): every query sent is counted, by QTYPE. The queries start once the
        // capture runs (the engine's line) and the run ends once the status line has seen them all (hang guards).
        using var counted = RataDnsProcess.Start(["monitor", "-i", "lo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--status-interval", "500ms"]);
        Wait(() => counted.Error.Contains("worker 0", StringComparison.Ordinal), counted);
        int sent;
        using (var sender = new QuerySender(port, count: 200))
        {
            Assert.True(sender.Done.Wait(TimeSpan.FromSeconds(60)));
            sent = sender.Sent;
        }

        Wait(() => StatusFrames(counted.Error) >= sent, counted);
        Assert.Equal(0, Kill(counted.Id, "INT"));
        Assert.True(counted.WaitForExit(TimeSpan.FromSeconds(60)), "the monitor did not stop on SIGINT");
        long queries = Results(counted.Output, "QtypeCounter").Sum(d => d.TryGetProperty("A", out var a) ? a.GetInt64() : 0);
        Assert.True(queries == sent, $"{queries} A queries counted of {sent} sent; {counted.Describe()}");

        // -c 5 live: the monitor ends by itself after five packets (queries keep coming), exit 0, five counted.
        using var five = RataDnsProcess.Start(["monitor", "-i", "lo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "5"]);
        Wait(() => five.Error.Contains("worker 0", StringComparison.Ordinal), five);
        using (new QuerySender(port))
        {
            Assert.True(five.WaitForExit(TimeSpan.FromSeconds(90)), $"-c 5 did not end the capture; {five.Describe()}");
        }

        Assert.Equal(0, five.ExitCode);
        Assert.Equal(5, Packets(five.Output));
    }

    /// <summary>The packets of every window (each window's envelope counts them; one result type per window).</summary>
    private static long Packets(string ndjson) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.GetProperty("type").GetString() == "PacketsQueriesAndAnswersPerSecond")
            .Sum(r => r.GetProperty("window").GetProperty("packets").GetInt64());

    /// <summary>The frames of the last status line ("status: 200 frames (+40/s), ..."), 0 before the first.</summary>
    private static long StatusFrames(string stderr)
    {
        string? line = stderr.Split('\n').LastOrDefault(l => l.Contains("status: ", StringComparison.Ordinal));
        if (line is null)
        {
            return 0;
        }

        string number = line[(line.IndexOf("status: ", StringComparison.Ordinal) + 8)..].Split(' ')[0];
        return long.TryParse(number, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture, out long frames) ? frames : 0;
    }

    private static int Kill(int pid, string signal) => ExternalTool.Run("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], out _, out _);

    private static IEnumerable<JsonElement> Results(string ndjson, string type) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.GetProperty("type").GetString() == type)
            .Select(r => r.GetProperty("data").Clone());

    private static Dictionary<string, long> TsharkRcodes()
    {
        Assert.Equal(0, ExternalTool.Run("/usr/bin/tshark", ["-r", Sample, "-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.flags.rcode"], out string stdout, out string stderr));
        var names = new Dictionary<string, string> { ["0"] = "NOERROR", ["2"] = "SERVFAIL", ["3"] = "NXDOMAIN", ["5"] = "REFUSED" };
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).GroupBy(c => names[c]).ToDictionary(g => g.Key, g => (long)g.Count());
    }

    private static int Run(string[] arguments, byte[]? stdin, out string stdout, out string stderr)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ratadns.dll"));
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        }

        Assert.True(process.WaitForExit(120_000), "ratadns did not finish");
        stdout = output.GetAwaiter().GetResult();
        stderr = errors.GetAwaiter().GetResult();
        return process.ExitCode;
    }

    private static void Wait(Func<bool> condition, RataDnsProcess process)
    {
        // A hang guard, not a timing: the warning comes 10 s after the start.
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), process.Describe());
            Thread.Sleep(200);
        }
    }

    /// <summary>Sends A queries over UDP to 127.0.0.1:PORT, one every 20 ms, until disposed or <c>count</c> are sent.</summary>
    private sealed class QuerySender : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private int _sent;

        public QuerySender(int port, int count = int.MaxValue)
        {
            Done = Task.Run(() =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                var target = new IPEndPoint(IPAddress.Loopback, port);
                for (int i = 0; i < count && !_stop.IsCancellationRequested; i++)
                {
                    byte[] query = new TestMessageBuilder { Id = (ushort)i, Flags = 0x0100 }.Question($"q{i}.example", 1).ToArray();
                    socket.SendTo(query, target);
                    Interlocked.Increment(ref _sent);
                    Thread.Sleep(20);
                }
            });
        }

        public Task Done { get; }

        public int Sent => Volatile.Read(ref _sent);

        public void Dispose()
        {
            _stop.Cancel();
            Done.Wait(TimeSpan.FromSeconds(10));
            _stop.Dispose();
        }
    }
}
