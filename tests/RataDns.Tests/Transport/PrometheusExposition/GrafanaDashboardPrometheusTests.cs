using System.Diagnostics;
using System.Text.Json;
using RataDns.Tests.Aggregator;
using RataDns.Reducers;
using RataDns.Tests.Support;

namespace RataDns.Tests.Transport.PrometheusExposition;

/// <summary>
/// The Grafana dashboard (packaging/grafana/ratadns-dns.json) against a real Prometheus: a monitor replays the bundled
/// sample with <c>--metrics</c> and publishes to an aggregator; Prometheus scrapes both every second; every panel's
/// PromQL (the dashboard's variables filled as Grafana would) returns data for each job, the variables' label queries
/// find both jobs and the server, both expositions pass <c>promtool check metrics</c>, and the responses by RCODE
/// that Prometheus holds equal tshark's count of the capture's responses by RCODE.
/// </summary>
[Collection(NetMqCollection.Name)]
public class GrafanaDashboardPrometheusTests
{
    private const string Server = "prom-sample";

    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    private static readonly string Dashboard = Path.Combine(RepoPaths.Root, "packaging", "grafana", "ratadns-dns.json");

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [SkippableFact]
    public void Every_panel_query_returns_data_from_a_monitor_and_an_aggregator_and_rcodes_agree_with_tshark()
    {
        Skip.IfNot(PrometheusServer.IsAvailable, PrometheusServer.MissingReason);
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is not installed; scripts/setup.sh installs it");

        // Three distinct free ports (a port just released can be handed out again).
        int metricsPort = RedisServer.FreePort();
        int httpPort = RedisServer.FreePort();
        while (httpPort == metricsPort)
        {
            httpPort = RedisServer.FreePort();
        }

        int zmqPort = RedisServer.FreePort();
        while (zmqPort == metricsPort || zmqPort == httpPort)
        {
            zmqPort = RedisServer.FreePort();
        }
        string config = Path.Combine(Path.GetTempPath(), $"ratadns-prom-{Environment.ProcessId}.json");
        string reducers = string.Join(", ", ReducerRegistry.DefaultSet.Concat(["MessageSizeHistogram"]).Select(n => $$"""{"Name": "{{n}}"}"""));
        File.WriteAllText(config, $$"""
            {"ServerId": "{{Server}}", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Speed": 1,
             "ZeroMq": {"Connect": "tcp://127.0.0.1:{{zmqPort}}", "State": true}, "Output": {"OutputMethod": "zmq"},
             "PreliminarReducers": [{{reducers}}] }
            """);

        using var aggregator = RataDnsProcess.Start(["aggregate", "--bind", $"tcp://127.0.0.1:{zmqPort}", "--http", $"http://127.0.0.1:{httpPort}", "--history", "none"]);
        WaitFor(() => Answers($"http://127.0.0.1:{httpPort}/api/health"), "the aggregator's HTTP API", aggregator);
        // The monitor binds its metrics port before Prometheus picks a free port of its own (CI once saw Prometheus
        // take the port chosen for the monitor); Prometheus then scrapes the final values the monitor keeps serving.
        using var monitor = RataDnsProcess.Start(["monitor", "-c", config, "--metrics", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--metrics-linger", "10m"]);
        WaitFor(() => Answers($"http://127.0.0.1:{metricsPort}/metrics") || monitor.Error.Contains("already in use", StringComparison.Ordinal), "the monitor's metrics endpoint", monitor);
        using var prometheus = PrometheusServer.Start(new Dictionary<string, string>
        {
            ["monitor"] = $"127.0.0.1:{metricsPort}",
            ["aggregator"] = $"127.0.0.1:{httpPort}",
        });
        try
        {
            // The replay takes the capture's 10 s; then both expositions hold their final counts. Wait until Prometheus
            // has scraped those (every window of the monitor counted in both jobs): a hang guard, not a timing.
            WaitFor(() => monitor.Error.Contains("serving the final metrics", StringComparison.Ordinal), "the monitor's end", monitor);
            long windows = FinalWindows(metricsPort);
            WaitFor(
                () => new[] { "monitor", "aggregator" }.All(job =>
                    prometheus.Query($"ratadns_dns_windows_total{{job=\"{job}\",type=\"RcodeCounter\"}}") is [var s] && s.Value == windows),
                $"Prometheus to scrape {windows} windows from both jobs",
                aggregator);
            var at = DateTimeOffset.UtcNow;

            // The dashboard's variables: the job and server label queries find both jobs and the monitor's serverId.
            Assert.Equal(["aggregator", "monitor"], prometheus.LabelValues("job", "ratadns_dns_windows_total").Order(StringComparer.Ordinal));
            Assert.Contains(Server, prometheus.LabelValues("server", "ratadns_dns_windows_total{job=~\"aggregator\"}"));

            // Every panel's every query, with the variables as Grafana fills them ($server "All" is its allValue .*),
            // returns at least one finite sample for each job. The rate interval covers the replay.
            var problems = new List<string>();
            var panels = DashboardQueries();
            Assert.True(panels.Count >= 15, $"the dashboard has {panels.Count} queries");
            foreach (string job in new[] { "monitor", "aggregator" })
            {
                foreach (var (title, expr) in panels)
                {
                    string promql = expr.Replace("$job", job, StringComparison.Ordinal).Replace("$server", ".*", StringComparison.Ordinal)
                        .Replace("$__rate_interval", "2m", StringComparison.Ordinal);
                    var samples = prometheus.Query(promql, at);
                    if (samples.Count == 0 || samples.Any(s => !double.IsFinite(s.Value)))
                    {
                        problems.Add($"{job}: panel '{title}': {promql} -> {(samples.Count == 0 ? "no data" : string.Join(", ", samples.Select(s => s.Value)))}");
                    }
                }
            }

            Assert.True(problems.Count == 0, string.Join("\n", problems));

            // Responses by RCODE, as Prometheus holds them for each job, against tshark's count of the capture's responses.
            var expected = TsharkRcodes();
            foreach (string job in new[] { "monitor", "aggregator" })
            {
                var held = prometheus.Query($"sum by (rcode) (ratadns_dns_responses_total{{job=\"{job}\",server=\"{Server}\"}})", at)
                    .ToDictionary(s => s.Labels["rcode"], s => (long)s.Value);
                Assert.Equal(expected.OrderBy(p => p.Key), held.OrderBy(p => p.Key));
            }

            // Both expositions pass Prometheus's own linter.
            foreach (string url in new[] { $"http://127.0.0.1:{metricsPort}/metrics", $"http://127.0.0.1:{httpPort}/metrics" })
            {
                string text = Http.GetStringAsync(url).GetAwaiter().GetResult();
                int exit = ExternalTool.Run(PrometheusServer.Promtool, ["check", "metrics"], out string stdout, out string stderr, stdin: text);
                Assert.True(exit == 0, $"promtool check metrics {url}: {stdout}{stderr}");
            }

            Assert.All(prometheus.Targets(), t => Assert.True(t.Health == "up", $"{t.Job}: {t.Health} {t.LastError}"));
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>Every target's expression of every panel: (panel title, PromQL with the dashboard's variables).</summary>
    private static List<(string Title, string Expr)> DashboardQueries()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var queries = new List<(string, string)>();
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                queries.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }

        return queries;
    }

    /// <summary>tshark's responses by RCODE in the sample, by mnemonic (the codes the sample holds).</summary>
    private static Dictionary<string, long> TsharkRcodes()
    {
        int exit = ExternalTool.Run("/usr/bin/tshark", ["-r", Sample, "-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.flags.rcode"], out string stdout, out string stderr);
        Assert.True(exit == 0, stderr);
        var names = new Dictionary<string, string> { ["0"] = "NOERROR", ["1"] = "FORMERR", ["2"] = "SERVFAIL", ["3"] = "NXDOMAIN", ["4"] = "NOTIMP", ["5"] = "REFUSED" };
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .GroupBy(code => names[code])
            .ToDictionary(g => g.Key, g => (long)g.Count());
    }

    /// <summary>The monitor's final count of RcodeCounter windows, read from its own exposition.</summary>
    private static long FinalWindows(int port)
    {
        string text = Http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
        string line = text.Split('\n').Single(l => l.StartsWith("ratadns_dns_windows_total{", StringComparison.Ordinal) && l.Contains("type=\"RcodeCounter\"", StringComparison.Ordinal));
        return long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool Answers(string url)
    {
        try
        {
            return Http.GetAsync(url).GetAwaiter().GetResult().IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static void WaitFor(Func<bool> condition, string what, RataDnsProcess process)
    {
        // A hang guard, not a timing: on a loaded machine each step may take seconds.
        var patience = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(patience.Elapsed < TimeSpan.FromSeconds(120), $"waited 120 s for {what}; {process.Describe()}");
            Thread.Sleep(200);
        }
    }
}
