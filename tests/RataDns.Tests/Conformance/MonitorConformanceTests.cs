using System.Globalization;
using System.Text;
using System.Text.Json;
using RataDns.App.Commands;
using RataDns.DnsWire;
using RataDns.Configuration;
using RataDns.Tests.Support;
using Xunit.Abstractions;

namespace RataDns.Tests.Conformance;

/// <summary>
/// <c>ratadns monitor</c>'s exact reducers against counts made independently of RataDns: on every corpus capture
/// that <c>serialize</c> must decode message for message like tshark (<see cref="CorpusDifferences.AgreesMessageForMessage"/>),
/// and on a capture of dnsperf against a real knot server. One window spans the whole capture; RcodeCounter,
/// QtypeCounter and QueriesNameCounter (a capacity far above the distinct names, so exact) must give tshark's totals:
/// responses by (extended) RCODE, questions of queries by QTYPE, questions of queries by name. Live, dnsperf's own
/// "Response codes" line and the query file it was given are references too, and TopNQ must be tshark's top names.
/// No corpus capture of that class needs an exception: every total agrees.
/// </summary>
public class MonitorConformanceTests(ITestOutputHelper output)
{
    private const string Tshark = "/usr/bin/tshark";

    /// <summary>Names kept by the name counters: far above any capture here, so Space-Saving counts exactly.</summary>
    private const int NameCapacity = 1 << 16;

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        var corpus = RepoPaths.Corpus;
        if (corpus is null)
        {
            data.Add("(corpus absent)");
            return data;
        }

        foreach (var row in CorpusIndex.Read(corpus))
        {
            if (row.HasTsharkMessages(corpus) && CorpusDifferences.AgreesMessageForMessage(row))
            {
                data.Add(row.File);
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Monitor_totals_agree_with_tshark_on_a_corpus_capture(string file) => AssertCorpusCaptureAgrees(file, workers: 2, FileReader.CaptureThread);

    /// <summary>The same, with the file read by the one worker itself (no capture thread, no ring).</summary>
    [SkippableTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Monitor_totals_agree_with_tshark_on_a_corpus_capture_read_by_the_worker(string file) => AssertCorpusCaptureAgrees(file, workers: 1, FileReader.Worker);

    private void AssertCorpusCaptureAgrees(string file, int workers, FileReader reader)
    {
        var corpus = RepoPaths.Corpus;
        Skip.If(corpus is null, RepoPaths.CorpusMissing);
        Skip.IfNot(File.Exists(Tshark), "tshark is needed as the independent reference (scripts/setup.sh installs it)");
        var row = CorpusIndex.Read(corpus!).Single(r => r.File == file);
        var capture = Path.Combine(corpus!, file);
        var stored = File.ReadAllText(row.TsharkDumpPath(corpus!));

        var theirs = RunTshark(capture, []);
        // The classification comes from the stored dump: this tshark must read the file the same way (the dump has
        // no zone counts, so UPDATE messages show no questions there).
        Assert.Equal(
            TsharkConformance.ParseTsharkRows(stored),
            theirs.Select(m => (m.Opcode == 5 ? m with { Qd = 0, Questions = [] } : m).ToKey()).ToList());

        var ours = RunMonitor(capture, row.PortsAsTsharkDissects(stored), workers, reader: reader);
        output.WriteLine(ours.Errors);
        Assert.True(ours.ExitCode is ExitCodes.Ok or ExitCodes.InputDamaged, $"exit {ours.ExitCode}: {ours.Errors}");
        AssertTotalsAgree(ours, theirs);
    }

    [SkippableFact]
    public void Monitor_totals_agree_with_dnsperf_and_tshark_on_a_live_knot_capture()
    {
        Skip.IfNot(Environment.UserName == "root", "live capture needs root (CAP_NET_RAW)");
        Skip.IfNot(KnotServer.IsAvailable && DnsperfStatistics.IsAvailable, "knot and dnsperf are needed (scripts/setup.sh installs them)");
        Skip.IfNot(TcpdumpCapture.IsAvailable && File.Exists(Tshark), "tcpdump and tshark are needed (scripts/setup.sh installs them)");
        const int Repetitions = 20;
        string[] modes = ["udp", "tcp"];

        using var knot = KnotServer.Start();
        string port = knot.Port.ToString(CultureInfo.InvariantCulture);
        string queryFile = knot.WriteQueryFile();
        var queries = File.ReadAllLines(queryFile)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 2)
            .Select(f => (Name: f[0].ToLowerInvariant() + ".", Type: f[1]))
            .ToList();
        Assert.Contains(queries, q => q.Name.StartsWith("nothere.", StringComparison.Ordinal)); // NXDOMAIN
        Assert.Contains(queries, q => q.Name.EndsWith(".other.zone.", StringComparison.Ordinal)); // REFUSED: not served
        Assert.True(new[] { "A", "AAAA", "MX", "TXT" }.All(t => queries.Any(q => q.Type == t)), "the query file lacks a qtype of the mix");

        var folder = Directory.CreateTempSubdirectory("ratadns-monitor-live-").FullName;
        try
        {
            var pcap = Path.Combine(folder, "live.pcap");
            var dnsperf = new List<DnsperfStatistics>();
            using (var tcpdump = TcpdumpCapture.Start("lo", $"port {port}", pcap))
            {
                foreach (var mode in modes)
                {
                    // -n: the query file exactly Repetitions times; a modest rate so nothing is lost on lo.
                    int code = ExternalTool.Run(
                        DnsperfStatistics.Executable,
                        ["-s", "127.0.0.1", "-p", port, "-m", mode, "-d", queryFile, "-n", Repetitions.ToString(CultureInfo.InvariantCulture), "-Q", "500", "-t", "3"],
                        out var perf,
                        out var perfErrors);
                    Assert.True(code == 0, perfErrors);
                    output.WriteLine($"dnsperf -m {mode}:\n{perf}");
                    var statistics = DnsperfStatistics.Parse(perf);
                    Assert.Equal(queries.Count * Repetitions, statistics.Sent);
                    Assert.Equal(statistics.Sent, statistics.Completed);
                    dnsperf.Add(statistics);
                }

                Thread.Sleep(300); // the last responses reach tcpdump's file
                Assert.Equal(0, tcpdump.Stop());
            }

            var theirs = RunTshark(pcap, ["-d", $"udp.port=={port},dns", "-d", $"tcp.port=={port},dns"]);
            var ours = RunMonitor(pcap, [(ushort)knot.Port], workers: 2, topN: 5);
            output.WriteLine(ours.Errors);
            Assert.Equal(ExitCodes.Ok, ours.ExitCode);

            // Against what dnsperf sent and received, by its own count: first that the capture holds all of it.
            long exchanged = dnsperf.Sum(d => d.Sent + d.Completed);
            output.WriteLine($"dnsperf: {exchanged} messages; tshark: {theirs.Count}; monitor: {ours.Messages}");
            Assert.Equal(exchanged, theirs.Count);
            Assert.Equal(exchanged, ours.Messages);
            var dnsperfRcodes = dnsperf.SelectMany(d => d.ResponseCodes)
                .GroupBy(c => c.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Sum(c => c.Value), StringComparer.Ordinal);
            Assert.True(dnsperfRcodes.ContainsKey("NXDOMAIN") && dnsperfRcodes.ContainsKey("REFUSED"), "dnsperf saw no NXDOMAIN or REFUSED: " + Describe(dnsperfRcodes));
            AssertSameCounts("responses by RCODE, against dnsperf's statistics", dnsperfRcodes, ours.Rcodes);

            // Against the query file, times the repetitions and the transports.
            int runs = Repetitions * modes.Length;
            AssertSameCounts(
                "queries by QTYPE, against the query file",
                queries.GroupBy(q => q.Type, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count() * runs, StringComparer.Ordinal),
                ours.Qtypes);
            AssertSameCounts(
                "queries by name, against the query file",
                queries.GroupBy(q => q.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count() * runs, StringComparer.Ordinal),
                ours.Names);

            // And against tshark's reading of the same capture, top names included.
            AssertTotalsAgree(ours, theirs);
            var expectedTop = NamesByDisplay(theirs)
                .Select(p => (Name: p.Key + ".", Count: p.Value))
                .OrderByDescending(p => p.Count).ThenBy(p => p.Name, StringComparer.Ordinal)
                .Take(5)
                .ToList();
            Assert.Equal(expectedTop, ours.Top);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What one monitor window over a whole capture says.</summary>
    private sealed record MonitorTotals(
        int ExitCode,
        string Errors,
        long Messages,
        Dictionary<string, long> Rcodes,
        Dictionary<string, long> Qtypes,
        Dictionary<string, long> Names,
        List<(string Name, long Count)> Top);

    /// <summary>
    /// The monitor in-process on <paramref name="capture"/> with a window larger than the file, so every reducer
    /// writes exactly one (partial) window: its totals over the whole capture.
    /// </summary>
    private static MonitorTotals RunMonitor(string capture, IReadOnlyList<ushort> ports, int workers, int topN = 0, FileReader reader = FileReader.Auto)
    {
        var results = Path.GetTempFileName();
        try
        {
            var reducers = new List<Dictionary<string, object>>
            {
                new() { ["Name"] = "RcodeCounter" },
                new() { ["Name"] = "QtypeCounter" },
                new() { ["Name"] = "QueriesNameCounter", ["Capacity"] = NameCapacity },
            };
            if (topN > 0)
            {
                reducers.Add(new() { ["Name"] = "TopNQ", ["N"] = topN, ["Capacity"] = NameCapacity });
            }

            foreach (var reducer in reducers)
            {
                reducer["OutputMethod"] = "file";
                reducer["OutputFile"] = results;
            }

            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ServerId"] = "conformance",
                ["WindowSize"] = int.MaxValue,
                ["InputMethod"] = "capture_file",
                ["InputSource"] = capture,
                ["Ports"] = ports.Select(p => (int)p).ToArray(),
                ["Workers"] = workers,
                ["PreliminarReducers"] = reducers,
            });
            var configuration = MonitorConfigurationLoader.Parse(json, "conformance.json");
            var errors = new StringWriter();
            int exit = MonitorCommand.Run(configuration, null, errors, CancellationToken.None, new MonitorRunOptions { PinThreads = false, FileReader = reader });

            var lines = File.ReadAllLines(results).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            Assert.True(lines.Count == reducers.Count, $"expected one window per reducer, got {lines.Count} lines: {errors}");
            JsonElement Data(string type) => lines.Single(l => l.GetProperty("type").GetString() == type).GetProperty("data");
            Dictionary<string, long> Object(string type) =>
                Data(type).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);

            var names = Object("QueriesNameCounter");
            Assert.True(names.Count < NameCapacity, $"{names.Count} distinct names: Space-Saving is no longer exact at capacity {NameCapacity}");
            return new MonitorTotals(
                exit,
                errors.ToString(),
                lines[0].GetProperty("window").GetProperty("messages").GetInt64(),
                Object("RcodeCounter"),
                Object("QtypeCounter"),
                names,
                topN > 0 ? [.. Data("TopNQ").EnumerateArray().Select(e => (e[0].GetString()!, e[1].GetInt64()))] : []);
        }
        finally
        {
            File.Delete(results);
        }
    }

    /// <summary>tshark's messages, with the UPDATE zone counts and OPT extended-RCODE bits it shows.</summary>
    private static List<TsharkConformance.TsharkMessage> RunTshark(string capture, IEnumerable<string> decodeAs)
    {
        var arguments = new List<string> { "-r", capture };
        arguments.AddRange(decodeAs);
        arguments.AddRange(TsharkConformance.TsharkFieldArguments.Split(' '));
        arguments.AddRange(TsharkConformance.TsharkExtraFieldArguments.Split(' '));
        int exit = ExternalTool.Run(Tshark, arguments, out var tsv, out var errors);
        Assert.True(exit == 0, $"tshark exit {exit}: {errors}");
        return TsharkConformance.ParseTsharkMessages(tsv);
    }

    /// <summary>Responses by RCODE, queries' questions by QTYPE and by name: ours against tshark's, and message totals.</summary>
    private void AssertTotalsAgree(MonitorTotals ours, List<TsharkConformance.TsharkMessage> theirs)
    {
        Assert.Equal(theirs.Count, ours.Messages);

        var rcodes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var m in theirs.Where(m => m.IsResponse))
        {
            Assert.True(m.ExtendedRcodeHigh is not null, $"tshark's extended RCODE of {m.ToKey()} cannot be told apart from another message's in its frame");
            Increment(rcodes, RcodeName((m.ExtendedRcodeHigh!.Value << 4) | (m.Flags & 0xF)));
        }

        var qtypes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var q in theirs.Where(m => !m.IsResponse).SelectMany(m => m.Questions))
        {
            Increment(qtypes, TypeName(ushort.Parse(q.Type, CultureInfo.InvariantCulture)));
        }

        // Our names are presentation form (escapes, trailing dot); bring them to tshark's display, as serialize's
        // comparison does, and add up the names that display the same.
        var names = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, count) in ours.Names)
        {
            Increment(names, TsharkConformance.ToTsharkDisplay(name), count);
        }

        output.WriteLine($"rcodes {Describe(ours.Rcodes)}; qtypes {Describe(ours.Qtypes)}; {ours.Names.Count} names");
        AssertSameCounts("responses by RCODE, against tshark", rcodes, ours.Rcodes);
        AssertSameCounts("queries by QTYPE, against tshark", qtypes, ours.Qtypes);
        AssertSameCounts("queries by name, against tshark", NamesByDisplay(theirs), names);
    }

    /// <summary>tshark's question names of queries, ASCII-lowercased as the name counters count them (RFC 4343).</summary>
    private static Dictionary<string, long> NamesByDisplay(List<TsharkConformance.TsharkMessage> theirs)
    {
        var names = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var q in theirs.Where(m => !m.IsResponse).SelectMany(m => m.Questions))
        {
            Increment(names, q.Name == "<Root>" ? q.Name : AsciiLower(q.Name));
        }

        return names;
    }

    private static void AssertSameCounts(string what, Dictionary<string, long> expected, Dictionary<string, long> actual)
    {
        var keys = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal);
        var differences = keys
            .Where(k => expected.GetValueOrDefault(k) != actual.GetValueOrDefault(k))
            .Select(k => $"  {k}: expected {expected.GetValueOrDefault(k)}, monitor {actual.GetValueOrDefault(k)}")
            .ToList();
        Assert.True(differences.Count == 0, $"{what}: {differences.Count} differ\n{string.Join('\n', differences.Take(10))}");
    }

    private static void Increment(Dictionary<string, long> counts, string key, long by = 1) =>
        counts[key] = counts.GetValueOrDefault(key) + by;

    private static string Describe(Dictionary<string, long> counts) =>
        string.Join(", ", counts.Select(p => $"{p.Key} {p.Value}"));

    /// <summary>A-Z to a-z only: DNS names compare case-insensitively in ASCII alone (RFC 4343 3).</summary>
    private static string AsciiLower(string text)
    {
        var result = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            result.Append(char.IsAsciiLetterUpper(c) ? (char)(c + 32) : c);
        }

        return result.ToString();
    }

    /// <summary>IANA DNS RCODE mnemonics (RFC 6895 2.3), the decimal value otherwise; written here, not taken from RataDns.</summary>
    internal static string RcodeName(int rcode) => rcode switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        23 => "BADCOOKIE",
        _ => rcode.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The mnemonic the counters use for tshark's numeric QTYPE (DnsRecordType's table, RFC 3597 TYPEnnn otherwise).</summary>
    private static string TypeName(ushort type)
    {
        Span<byte> text = stackalloc byte[32];
        DnsRecordType.TryFormat(type, text, out int n);
        return Encoding.ASCII.GetString(text[..n]);
    }
}
