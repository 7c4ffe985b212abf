using System.Globalization;
using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Configuration;
using RataDns.Tests.Support;
using Xunit.Abstractions;

namespace RataDns.Tests.Conformance;

/// <summary>
/// dnstap from real servers into the monitor (issue 17): Unbound and Knot DNS, started here on loopback, log their
/// traffic to the monitor's dnstap socket while dnsperf sends a known mix over UDP and TCP and tcpdump captures the
/// same traffic. The monitor's totals (messages, responses by RCODE, queries by QTYPE, messages by transport) must
/// be what tshark reads in tcpdump's capture, and what dnsperf says it sent and received. DNS over TLS and over HTTPS
/// (kdig +tls and +https to dnsdist's frontends) must count as DoT and DoH, which a packet capture cannot see;
/// Unbound 1.17's TLS port is counted as Unbound reports it.
/// </summary>
[Collection(LiveServerCollection.Name)]
public sealed class DnstapServerTests(ITestOutputHelper output) : IDisposable
{
    private const string Tshark = "/usr/bin/tshark";
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);
    private readonly string _folder = Directory.CreateTempSubdirectory("ratadns-dnstap-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public void Unbound_logging_to_the_monitor_counts_what_a_simultaneous_tcpdump_captured()
    {
        SkipUnlessTools("/usr/sbin/unbound");
        int port = RedisServer.FreePort();
        string socket = Path.Combine(_folder, "dnstap.sock");
        using var monitor = MonitorOn(socket);
        using var unbound = UnboundServer.Start(_folder, port, socket, tlsPort: null);
        var before = Settled(monitor);
        using var tcpdump = TcpdumpCapture.Start("lo", $"port {port}", Path.Combine(_folder, "live.pcap"));
        var dnsperf = SendMix(port, UnboundServer.QueryFile(_folder));
        AssertSameAsCapture(monitor, before, tcpdump, port, dnsperf);
    }

    [SkippableFact]
    public void Knot_mod_dnstap_to_the_monitor_counts_what_a_simultaneous_tcpdump_captured()
    {
        SkipUnlessTools("/usr/sbin/knotd");
        Skip.IfNot(Directory.EnumerateFiles("/usr/lib", "dnstap.so", SearchOption.AllDirectories).Any(p => p.Contains("knot", StringComparison.Ordinal)), "knot-module-dnstap is not installed (scripts/setup.sh installs it)");
        string socket = Path.Combine(_folder, "dnstap.sock");
        using var monitor = MonitorOn(socket);
        int port = RedisServer.FreePort();
        using var knot = KnotServer.Start(port, dnstapSocket: socket);
        var before = Settled(monitor);
        using var tcpdump = TcpdumpCapture.Start("lo", $"port {port}", Path.Combine(_folder, "live.pcap"));
        var dnsperf = SendMix(port, knot.WriteQueryFile());
        AssertSameAsCapture(monitor, before, tcpdump, port, dnsperf);
    }

    [SkippableFact]
    public void Dns_over_tls_to_unbound_counts_as_dot()
    {
        SkipUnlessTools("/usr/sbin/unbound");
        Skip.IfNot(File.Exists("/usr/bin/openssl"), "openssl makes the test's certificate");
        int port = RedisServer.FreePort();
        int tlsPort = RedisServer.FreePort();
        string socket = Path.Combine(_folder, "dnstap.sock");
        using var monitor = MonitorOn(socket);
        using var unbound = UnboundServer.Start(_folder, port, socket, tlsPort);
        const int Queries = 6;
        for (int i = 0; i < Queries; i++)
        {
            int code = ExternalTool.Run("/usr/bin/kdig", ["+tls", "@127.0.0.1", "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "a.test", "A", "+retry=0", "+timeout=5"], out string answer, out string errors);
            Assert.True(code == 0 && answer.Contains("192.0.2.10", StringComparison.Ordinal), $"kdig +tls: {answer} {errors} {unbound.Log}");
        }

        // Each exchange is a query and a response, both over TLS. Unbound names the transport in socket_protocol:
        // Debian 12's Unbound 1.17 writes TCP for its TLS port (a newer one may write DOT). The monitor
        // counts what the server says: all of them as DoT, or (an older Unbound) all as TCP, never split.
        var totals = monitor.WaitFor(t => t.Transports.GetValueOrDefault("dot4") + t.Transports.GetValueOrDefault("tcp4") >= 2 * Queries, HangGuard);
        output.WriteLine(totals.ToString());
        Assert.Contains(2 * Queries, new[] { totals.Transports.GetValueOrDefault("dot4"), totals.Transports.GetValueOrDefault("tcp4") });
        Assert.Equal(2 * Queries, totals.Transports.GetValueOrDefault("dot4") + totals.Transports.GetValueOrDefault("tcp4"));
    }

    [SkippableFact]
    public void Dns_over_tls_and_https_through_dnsdist_count_as_dot_and_doh()
    {
        // dnsdist names the transport of each frontend in socket_protocol (DOT, DOH): encrypted traffic that a packet
        // capture sees only as TCP to ports 853 and 443.
        SkipUnlessTools(DnsdistServer.Executable);
        Skip.IfNot(File.Exists("/usr/sbin/unbound") && File.Exists("/usr/bin/openssl"), "unbound (the backend) and openssl are needed");
        string socket = Path.Combine(_folder, "dnstap.sock");
        using var monitor = MonitorOn(socket);
        int backend = RedisServer.FreePort();
        using var unbound = UnboundServer.Start(_folder, backend, dnstapSocket: null, tlsPort: null);
        using var dnsdist = DnsdistServer.Start(_folder, backend, "a.test.", socket);
        const int Each = 3;
        foreach (var (option, port) in new[] { ("+tls", dnsdist.TlsPort), ("+https", dnsdist.HttpsPort), ("+notcp", dnsdist.Port) })
        {
            for (int i = 0; i < Each; i++)
            {
                int code = ExternalTool.Run("/usr/bin/kdig", [option, "@127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "a.test", "A", "+retry=0", "+timeout=5"], out string answer, out string errors);
                Assert.True(code == 0 && answer.Contains("192.0.2.10", StringComparison.Ordinal), $"kdig {option}: {answer} {errors} {dnsdist.Log}");
            }
        }

        // Each exchange is a query and its response, logged by dnsdist with the frontend's transport.
        var totals = monitor.WaitFor(t => t.Messages >= 6 * Each, HangGuard);
        output.WriteLine(totals.ToString());
        Assert.Equal(6 * Each, totals.Messages);
        Assert.Equal(2 * Each, totals.Transports.GetValueOrDefault("dot4"));
        Assert.Equal(2 * Each, totals.Transports.GetValueOrDefault("doh4"));
        Assert.Equal(2 * Each, totals.Transports.GetValueOrDefault("udp4"));
        Assert.Equal(0, totals.Transports.GetValueOrDefault("tcp4"));
        Assert.Equal(3 * Each, totals.Rcodes.GetValueOrDefault("NOERROR"));
    }

    private static void SkipUnlessTools(string server)
    {
        Skip.IfNot(Environment.UserName == "root", "tcpdump on lo needs root");
        foreach (string tool in new[] { server, "/usr/bin/kdig", DnsperfStatistics.Executable, TcpdumpCapture.Executable, Tshark })
        {
            Skip.IfNot(File.Exists(tool), $"{tool} is missing (scripts/setup.sh installs it)");
        }
    }

    private MonitorRun MonitorOn(string socket) => MonitorRun.Start(_folder, $"unix:{socket}");

    /// <summary>
    /// The monitor's totals once the server's start-up probe (a query and its response, before tcpdump starts) has
    /// come through and three seconds passed without more: what the capture's comparison leaves out.
    /// </summary>
    private static Totals Settled(MonitorRun monitor)
    {
        var totals = monitor.WaitFor(t => t.Messages >= 2, HangGuard);
        while (true)
        {
            Thread.Sleep(3000);
            var later = monitor.WaitFor(_ => true, HangGuard);
            if (later.Messages == totals.Messages)
            {
                return later;
            }

            totals = later;
        }
    }

    /// <summary>dnsperf over UDP then TCP, the query file five times each, at a modest rate.</summary>
    private List<DnsperfStatistics> SendMix(int port, string queryFile)
    {
        var runs = new List<DnsperfStatistics>();
        foreach (string mode in new[] { "udp", "tcp" })
        {
            int code = ExternalTool.Run(DnsperfStatistics.Executable, ["-s", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-m", mode, "-d", queryFile, "-n", "5", "-Q", "300", "-t", "3"], out string perf, out string errors);
            Assert.True(code == 0, errors + perf);
            var statistics = DnsperfStatistics.Parse(perf);
            Assert.Equal(statistics.Sent, statistics.Completed);
            runs.Add(statistics);
        }

        return runs;
    }

    private void AssertSameAsCapture(MonitorRun monitor, Totals before, TcpdumpCapture tcpdump, int port, List<DnsperfStatistics> dnsperf)
    {
        Thread.Sleep(300); // the last responses reach tcpdump's file
        Assert.Equal(0, tcpdump.Stop());
        string pcap = Path.Combine(_folder, "live.pcap");
        var udp = ReadTshark(pcap, port, "udp");
        var tcp = ReadTshark(pcap, port, "tcp");
        var all = udp.Concat(tcp).ToList();
        long exchanged = dnsperf.Sum(d => d.Sent + d.Completed);
        Assert.True(all.Count >= exchanged, $"tcpdump captured {all.Count} messages; dnsperf exchanged {exchanged}");

        // The server hands its messages to its dnstap thread as they come, which writes them in batches: wait for
        // as many as the capture holds (a hang guard bounds the wait), then compare everything.
        output.WriteLine($"tcpdump: {all.Count} messages ({udp.Count} UDP, {tcp.Count} TCP); dnsperf: {exchanged}");
        var totals = monitor.WaitFor(t => t.Messages - before.Messages >= all.Count, HangGuard).Minus(before);
        output.WriteLine($"tcpdump: {all.Count} messages ({udp.Count} UDP, {tcp.Count} TCP); dnsperf: {exchanged}; monitor: {totals.Messages}");
        Assert.Equal(all.Count, totals.Messages);
        AssertSame("responses by RCODE", all.Where(m => m.IsResponse).GroupBy(m => MonitorConformanceTests.RcodeName(m.Flags & 0xF)).ToDictionary(g => g.Key, g => (long)g.Count()), totals.Rcodes);
        AssertSame("queries by QTYPE", all.Where(m => !m.IsResponse).SelectMany(m => m.Questions).GroupBy(q => Qtype(q.Type)).ToDictionary(g => g.Key, g => (long)g.Count()), totals.Qtypes);
        AssertSame("messages by transport", new Dictionary<string, long> { ["udp4"] = udp.Count, ["udp6"] = 0, ["tcp4"] = tcp.Count, ["tcp6"] = 0 }, totals.Transports);

        // And dnsperf's own count: every message it exchanged, the response codes it received.
        Assert.Equal(exchanged, totals.Messages);
        AssertSame("responses by RCODE, against dnsperf", dnsperf.SelectMany(d => d.ResponseCodes).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Sum(c => c.Value)), totals.Rcodes);
    }

    private static List<TsharkConformance.TsharkMessage> ReadTshark(string pcap, int port, string transport)
    {
        var arguments = new List<string> { "-r", pcap, "-d", $"udp.port=={port},dns", "-d", $"tcp.port=={port},dns" };
        arguments.AddRange(TsharkConformance.TsharkFieldArguments.Replace("-Y dns", $"-Y {transport}&&dns", StringComparison.Ordinal).Split(' '));
        arguments.AddRange(TsharkConformance.TsharkExtraFieldArguments.Split(' '));
        Assert.Equal(0, ExternalTool.Run(Tshark, arguments, out string tsv, out string errors));
        _ = errors;
        return TsharkConformance.ParseTsharkMessages(tsv);
    }

    private static void AssertSame(string what, Dictionary<string, long> expected, Dictionary<string, long> actual)
    {
        var differences = expected.Keys.Union(actual.Keys)
            .Where(k => expected.GetValueOrDefault(k) != actual.GetValueOrDefault(k))
            .Select(k => $"{k}: capture {expected.GetValueOrDefault(k)}, monitor {actual.GetValueOrDefault(k)}")
            .ToList();
        Assert.True(differences.Count == 0, $"{what}: {string.Join("; ", differences)}");
    }

    /// <summary>The QTYPE mnemonics of the mixes sent here (RFC 1035 3.2.2, RFC 3596, RFC 2782).</summary>
    private static string Qtype(string type) => type switch
    {
        "1" => "A",
        "2" => "NS",
        "5" => "CNAME",
        "6" => "SOA",
        "15" => "MX",
        "16" => "TXT",
        "28" => "AAAA",
        "33" => "SRV",
        _ => "TYPE" + type,
    };

    /// <summary>The monitor, in this process, on the dnstap socket: one-second windows written to a file, summed.</summary>
    private sealed class MonitorRun : IDisposable
    {
        private readonly string _results;
        private readonly CancellationTokenSource _stop;
        private readonly Task<int> _run;
        private readonly LockedLog _errors;

        private MonitorRun(string results, Task<int> run, CancellationTokenSource stop, LockedLog errors)
        {
            _results = results;
            _run = run;
            _stop = stop;
            _errors = errors;
        }

        public static MonitorRun Start(string folder, string endpoint)
        {
            string results = Path.Combine(folder, "results.ndjson");
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ServerId"] = "dnstap-test",
                ["WindowMilliseconds"] = 1000,
                ["InputMethod"] = "dnstap",
                ["InputSource"] = endpoint,
                ["Reducers"] = new[] { "RcodeCounter", "QtypeCounter", "TransportCounter" }
                    .Select(n => new Dictionary<string, string> { ["Name"] = n, ["OutputMethod"] = "file", ["OutputFile"] = results }).ToArray(),
            });
            var configuration = MonitorConfigurationLoader.Parse(json, "dnstap-test.json");
            var errors = new LockedLog();
            var stop = new CancellationTokenSource();
            var task = Task.Run(() => MonitorCommand.Run(configuration, null, errors, stop.Token, new MonitorRunOptions { PinThreads = false }));
            var run = new MonitorRun(results, task, stop, errors);
            Assert.True(SpinWait.SpinUntil(() => File.Exists(endpoint["unix:".Length..]) || task.IsCompleted, TimeSpan.FromSeconds(30)), $"the monitor did not listen: {errors.Text}");
            Assert.False(task.IsCompleted, $"the monitor ended: {errors.Text}");
            return run;
        }

        /// <summary>
        /// Reads the results every 200 ms until <paramref name="condition"/> holds; a hang guard by count (as many
        /// reads as <paramref name="guard"/> holds at that pace), never a check of the time taken.
        /// </summary>
        public Totals WaitFor(Func<Totals, bool> condition, TimeSpan guard)
        {
            int reads = (int)(guard / TimeSpan.FromMilliseconds(200));
            for (int read = 0; ; read++)
            {
                var totals = Read();
                if (condition(totals))
                {
                    return totals;
                }

                Assert.True(read < reads, $"the monitor's results did not get there after {read} reads: {totals}; {_errors.Text}");
                Assert.False(_run.IsCompleted, $"the monitor ended: {_errors.Text}");
                Thread.Sleep(200);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _run.Wait(TimeSpan.FromSeconds(30));
            _stop.Dispose();
        }

        private Totals Read()
        {
            var totals = new Totals();
            if (!File.Exists(_results))
            {
                return totals;
            }

            string[] lines;
            using (var file = new FileStream(_results, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(file))
            {
                lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }

            foreach (string line in lines)
            {
                JsonElement envelope;
                try
                {
                    envelope = JsonDocument.Parse(line).RootElement;
                }
                catch (JsonException)
                {
                    continue; // a line still being written
                }

                var into = envelope.GetProperty("type").GetString() switch
                {
                    "RcodeCounter" => totals.Rcodes,
                    "QtypeCounter" => totals.Qtypes,
                    _ => totals.Transports,
                };
                if (into == totals.Transports)
                {
                    totals.Messages += envelope.GetProperty("window").GetProperty("messages").GetInt64();
                }

                foreach (var p in envelope.GetProperty("data").EnumerateObject())
                {
                    into[p.Name] = into.GetValueOrDefault(p.Name) + p.Value.GetInt64();
                }
            }

            return totals;
        }
    }

    private sealed class Totals
    {
        /// <summary>What came after <paramref name="earlier"/> (counts of the same monitor's run).</summary>
        public Totals Minus(Totals earlier)
        {
            var result = new Totals { Messages = Messages - earlier.Messages };
            foreach (var (into, now, then) in new[] { (result.Rcodes, Rcodes, earlier.Rcodes), (result.Qtypes, Qtypes, earlier.Qtypes), (result.Transports, Transports, earlier.Transports) })
            {
                foreach (var (key, count) in now)
                {
                    if (count - then.GetValueOrDefault(key) != 0 || into == result.Transports)
                    {
                        into[key] = count - then.GetValueOrDefault(key);
                    }
                }
            }

            return result;
        }

        public override string ToString() =>
            $"{Messages} messages; rcodes {string.Join(", ", Rcodes.Select(p => $"{p.Key} {p.Value}"))}; qtypes {string.Join(", ", Qtypes.Select(p => $"{p.Key} {p.Value}"))}; transports {string.Join(", ", Transports.Select(p => $"{p.Key} {p.Value}"))}";

        public long Messages { get; set; }

        public Dictionary<string, long> Rcodes { get; } = [];

        public Dictionary<string, long> Qtypes { get; } = [];

        public Dictionary<string, long> Transports { get; } = [];
    }
}
