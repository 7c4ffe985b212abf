using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using RataDns.App.Operations;
using RataDns.Capture;
using RataDns.Tests.Capture;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// <c>ratadns monitor --metrics</c> and <c>--status-interval</c>, run as a process replaying the sample in real time:
/// the endpoint serves the Prometheus text format 0.0.4, its counters grow during the run and end equal to tshark's
/// counts of the same file and to the results written; a port in use stops the run before capture; the status line
/// comes at its interval.
/// </summary>
public partial class MonitorMetricsTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    /// <summary>How long a test waits for something that must happen: a hang guard, not a measure of anything.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Metrics_grow_during_the_run_and_end_equal_to_independent_counts()
    {
        // The sample goes in through standard input in two halves, cut between records: the first scrape comes
        // while the monitor waits for the second half (its input still open, so it is surely running), the second
        // once that half is read. Each waits until the workers have taken every frame read (they count DNS
        // messages after the capture thread counts frames). Nothing depends on how fast the machine reads; every
        // wait is a hang guard.
        byte[] sample = File.ReadAllBytes(Sample);
        var (cut, firstHalfFrames, frames) = PcapRecords.Boundary(sample, sample.Length / 2);
        using var run = MonitorRun.StartOnStdin("--metrics", "0", "--metrics-linger", "120s");
        try
        {
            string url = await run.WaitForLine(l => l.Contains("metrics on http://", StringComparison.Ordinal), HangGuard) is { } line
                ? line[line.IndexOf("http://", StringComparison.Ordinal)..]
                : throw new Xunit.Sdk.XunitException("no 'metrics on' line: " + run.Errors);
            Assert.EndsWith("/metrics", url, StringComparison.Ordinal);
            using var http = new HttpClient { Timeout = HangGuard };

            await run.Input.WriteAsync(sample.AsMemory(0, cut));
            await run.Input.FlushAsync();
            var first = await ScrapeUntil(http, url, m => m.Value("ratadns_frames_read_total") == firstHalfFrames && m.Sum("ratadns_worker_frames_total") == firstHalfFrames, run);
            Assert.Equal(1, first.Value("ratadns_capture_running"));

            await run.Input.WriteAsync(sample.AsMemory(cut));
            await run.Input.FlushAsync();
            var second = await ScrapeUntil(http, url, m => m.Value("ratadns_frames_read_total") == frames && m.Sum("ratadns_worker_frames_total") == frames, run);
            Assert.Equal(1, second.Value("ratadns_capture_running"));
            Assert.True(second.Value("ratadns_dns_messages_total") > first.Value("ratadns_dns_messages_total"), "dns messages did not grow with the second half");

            // Another path is not found.
            using (var notFound = await http.GetAsync(new Uri(new Uri(url), "/other")))
            {
                Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
            }

            // The input ends; the endpoint lingers with the final values.
            run.Input.Close();
            var final = await ScrapeUntil(http, url, m => m.Value("ratadns_capture_running") == 0, run);
            int lines = run.OutputLines();
            Assert.InRange(lines, 5, 20); // 1 s windows over the sample's 10 s, one reducer
            Assert.Equal(lines, final.Value("ratadns_windows_emitted_total"));
            Assert.Equal(lines, final.Value("ratadns_window_emit_latency_seconds_count"));
            Assert.Equal(lines, final.Sum("ratadns_output_results_sent_total"));
            Assert.Equal(0, final.Sum("ratadns_output_results_dropped_total"));
            Assert.Equal(0, final.Sum("ratadns_dropped_frames_total"));

            // Every frame went to one worker; every DNS message came from one.
            Assert.Equal(final.Value("ratadns_frames_read_total"), final.Sum("ratadns_worker_frames_total"));
            Assert.Equal(final.Value("ratadns_dns_packets_total"), final.Sum("ratadns_worker_frames_total"));
            Assert.Equal(final.Value("ratadns_dns_messages_total"), final.Sum("ratadns_worker_dns_messages_total"));
            Assert.Equal(2, final.Series("ratadns_worker_frames_total").Count);
            Assert.All(final.Series("ratadns_worker_frames_total"), s => Assert.True(s.Value > 0, s.Key));

            // Runtime and process metrics, against the kernel's view of the same process.
            Assert.True(final.Value("ratadns_gc_allocated_bytes_total") > 0);
            Assert.Equal(3, final.Series("ratadns_gc_collections_total").Count);
            Assert.True(final.Value("ratadns_process_cpu_seconds_total") > 0);
            double rss = final.Value("ratadns_process_resident_memory_bytes");
            long kernelRss = ReadVmRssBytes(run.Process.Id);
            Assert.InRange(rss, kernelRss / 2.0, kernelRss * 2.0);
            double start = final.Value("ratadns_process_start_time_seconds");
            double kernelStart = (run.Process.StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
            Assert.InRange(start, kernelStart - 2, kernelStart + 2);
            Assert.Single(final.Series("ratadns_build_info"));

            // The independent counts of the same file.
            Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is not installed");
            Assert.Equal(TsharkCount(Sample), final.Value("ratadns_frames_read_total"));
            Assert.Equal(TsharkCount(Sample, "-Y", "dns"), final.Value("ratadns_dns_messages_total"));

            // SIGTERM ends the lingering (of 120 s: waited out, it would outlast the hang guard).
            ExternalTool.Run("/bin/kill", ["-TERM", run.Process.Id.ToString(CultureInfo.InvariantCulture)], out _, out _);
            Assert.True(run.Process.WaitForExit(HangGuard), "ratadns did not stop on SIGTERM");
            Assert.True(run.Process.ExitCode == 0, run.Errors);
        }
        finally
        {
            run.Kill();
        }
    }

    [SkippableFact]
    public async Task Malformed_messages_are_counted_by_reason_as_tshark_finds_them()
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is not installed");

        // 300 good queries, 100 announcing two questions but carrying one, 50 bare headers announcing a question.
        var pcap = new PcapBuilder(false, false, LinkType.Ethernet);
        for (int i = 0; i < 450; i++)
        {
            int[]? counts = i < 300 ? null : i < 400 ? [2, 0, 0, 0] : [1, 0, 0, 0];
            var message = new TestMessageBuilder { Id = (ushort)i, CountsOverride = counts };
            byte[] dns = i < 400 ? message.Question($"n{i}.example.com", 1).ToArray() : message.ToArray();
            byte[] frame = PacketBuilder.Ethernet(0x0800, PacketBuilder.Ipv4(17, PacketBuilder.Udp((ushort)(20000 + i), 53, dns)));
            pcap.Add(1_767_225_600 + (uint)(i / 100), (uint)(i % 100) * 10_000, frame);
        }

        string capture = CaptureTestIo.WriteTemp(pcap.ToArray());
        try
        {
            using var run = MonitorRun.StartOn(capture, speed: 0, "--metrics", "0", "--metrics-linger", "120s");
            string url = await run.WaitForLine(l => l.Contains("metrics on http://", StringComparison.Ordinal), TimeSpan.FromSeconds(30)) is { } line
                ? line[line.IndexOf("http://", StringComparison.Ordinal)..]
                : throw new Xunit.Sdk.XunitException("no 'metrics on' line: " + run.Errors);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var final = await Scrape(http, url);
            var clock = Stopwatch.StartNew();

            // capture_running is also 0 before the capture starts (the endpoint opens first): wait for frames too.
            while ((final.Value("ratadns_capture_running") != 0 || final.Value("ratadns_frames_read_total") == 0) && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(250);
                final = await Scrape(http, url);
            }

            Assert.True(final.Value("ratadns_capture_running") == 0, "the input did not end within 60 s: " + run.Errors);
            Assert.Equal(TsharkCount(capture, "-Y", "dns"), final.Value("ratadns_dns_messages_total"));
            Assert.Equal(TsharkCount(capture, "-Y", "_ws.malformed"), final.Sum("ratadns_malformed_messages_total"));
            Assert.Equal(150, final.Sum("ratadns_malformed_messages_total"));
            Assert.Equal(8, final.Series("ratadns_malformed_messages_total").Count); // every reason, zero or not
            run.Kill();
        }
        finally
        {
            File.Delete(capture);
        }
    }

    [Fact]
    public void A_metrics_port_in_use_is_a_usage_error_before_capture()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var run = MonitorRun.Start(speed: 1, "--metrics", $"127.0.0.1:{port}");
        Assert.True(run.Process.WaitForExit(30_000), "ratadns did not exit");
        run.Process.WaitForExit(); // the error lines are in
        Assert.Equal(2, run.Process.ExitCode);
        Assert.Contains($"ratadns monitor: --metrics 127.0.0.1:{port}: the address is already in use", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("worker", run.Errors, StringComparison.Ordinal); // the engine never started
        Assert.False(File.Exists(run.OutputPath), "the output was opened");
    }

    [Theory]
    [InlineData("--metrics", "example.com:9153", "ratadns monitor: --metrics example.com:9153: expected a port")]
    [InlineData("--status-interval", "soon", "ratadns monitor: --status-interval soon: expected a span")]
    [InlineData("--metrics-linger", "-1s", "ratadns monitor: --metrics-linger -1s: expected a span")]
    public void Bad_operations_options_are_usage_errors(string option, string value, string message)
    {
        using var run = MonitorRun.Start(speed: 1, option, value);
        Assert.True(run.Process.WaitForExit(30_000), "ratadns did not exit");
        run.Process.WaitForExit();
        Assert.Equal(2, run.Process.ExitCode);
        Assert.Contains(message, run.Errors, StringComparison.Ordinal);
        Assert.False(File.Exists(run.OutputPath), "the output was opened");
    }

    [Fact]
    public async Task The_status_line_comes_at_its_interval_with_growing_counts()
    {
        using var run = MonitorRun.Start(speed: 4, "--status-interval", "300ms");
        try
        {
            Assert.True(run.Process.WaitForExit(60_000), "ratadns did not finish the sample within 60 s");
            run.Process.WaitForExit();
            Assert.True(run.Process.ExitCode == 0, run.Errors);
            await Task.Yield();
            var status = run.ErrorLines.Where(l => l.Contains("status:", StringComparison.Ordinal)).ToList();

            // The sample lasts 10 s; at 4 times real time that is 2.5 s, several intervals of 0.3 s.
            Assert.True(status.Count >= 3, run.Errors);
            long previous = -1;
            for (int i = 0; i < status.Count; i++)
            {
                var m = StatusLine().Match(status[i]);
                Assert.True(m.Success, status[i]);
                Assert.Equal(i > 0, m.Groups["rate"].Success);
                long frames = ParseShort(m.Groups["frames"].Value);
                Assert.True(frames >= previous, $"frames went back: {status[i]}");
                Assert.InRange(frames, 0, 2000);
                Assert.InRange(long.Parse(m.Groups["rss"].Value, CultureInfo.InvariantCulture), 1, 4096);
                previous = frames;
            }

            Assert.True(previous > 0, run.Errors);
        }
        finally
        {
            run.Kill();
        }
    }

    [Theory]
    [InlineData("9153", "127.0.0.1:9153")]
    [InlineData("0.0.0.0:9153", "0.0.0.0:9153")]
    [InlineData("[::1]:9153", "[::1]:9153")]
    [InlineData("localhost:80", "127.0.0.1:80")]
    public void Metrics_addresses_parse(string text, string expected)
    {
        Assert.True(MetricsEndpoint.TryParseAddress(text, out var endpoint, out string reason), reason);
        Assert.Equal(expected, endpoint.ToString());
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("example.com:9153")]
    [InlineData("::1:9153")]
    [InlineData("127.0.0.1:")]
    [InlineData("")]
    public void Bad_metrics_addresses_are_refused(string text)
    {
        Assert.False(MetricsEndpoint.TryParseAddress(text, out _, out string reason));
        Assert.NotEmpty(reason);
    }

    [Theory]
    [InlineData(999, "999")]
    [InlineData(1234, "1.23k")]
    [InlineData(45_600, "45.6k")]
    [InlineData(1_230_000, "1.23M")]
    [InlineData(180_000_000, "180M")]
    [InlineData(2_500_000_000, "2.5G")]
    public void Status_counts_are_short(double value, string expected) => Assert.Equal(expected, StatusReporter.Short(value));

    [GeneratedRegex(@"^ratadns monitor: status: (?<frames>[0-9.]+[kMG]?) frames(?<rate> \(\+[0-9.]+[kMG]?/s\))?, [0-9.]+[kMG]? dns, [0-9.]+[kMG]? malformed, drops \d+/\d+/\d+, rings \d+%, windows \d+, rss (?<rss>\d+) MB$")]
    private static partial Regex StatusLine();

    // name{labels} value, with the label set optional (text format 0.0.4).
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{(?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\]|\\.)*"",?)*\})? (?<value>\S+)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<text>.*)$")]
    private static partial Regex CommentLine();

    private static long ParseShort(string text)
    {
        double scale = text[^1] switch { 'k' => 1e3, 'M' => 1e6, 'G' => 1e9, _ => 1 };
        return (long)(double.Parse(scale == 1 ? text : text[..^1], CultureInfo.InvariantCulture) * scale);
    }

    private static long ReadVmRssBytes(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static double TsharkCount(string file, params string[] filter)
    {
        Assert.Equal(0, ExternalTool.Run("/usr/bin/tshark", ["-r", file, .. filter], out string stdout, out string stderr));
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>GETs the metrics and checks the format: content type, HELP and TYPE before each family's samples.</summary>
    private static async Task<Metrics> Scrape(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var type = response.Content.Headers.ContentType!;
        Assert.Equal("text/plain", type.MediaType);
        Assert.Contains(type.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        string text = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);

        var help = new HashSet<string>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                var c = CommentLine().Match(line);
                Assert.True(c.Success, line);
                string family = c.Groups["name"].Value;
                Assert.StartsWith("ratadns_", family, StringComparison.Ordinal);
                if (c.Groups["kind"].Value == "HELP")
                {
                    Assert.True(help.Add(family), "HELP twice: " + family);
                }
                else
                {
                    Assert.Contains(c.Groups["text"].Value, new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                    Assert.True(help.Contains(family), "TYPE before HELP: " + family);
                    Assert.True(types.TryAdd(family, c.Groups["text"].Value), "TYPE twice: " + family);
                }

                continue;
            }

            var m = SampleLine().Match(line);
            Assert.True(m.Success, "not a sample line: " + line);
            string name = m.Groups["name"].Value;
            string owner = types.ContainsKey(name) ? name : Regex.Replace(name, "_(bucket|sum|count)$", string.Empty);
            Assert.True(types.TryGetValue(owner, out string? kind), "sample without TYPE: " + line);
            Assert.True(owner == name || kind is "histogram" or "summary", line);
            double value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            if (kind == "counter")
            {
                Assert.True(value >= 0, line);
                Assert.EndsWith("_total", name, StringComparison.Ordinal);
            }

            Assert.True(values.TryAdd(name + m.Groups["labels"].Value, value), "sample twice: " + line);
        }

        return new Metrics(values);
    }

    /// <summary>One scrape: every sample by its name and labels.</summary>
    private sealed record Metrics(Dictionary<string, double> Samples)
    {
        public double Value(string name) => Samples.TryGetValue(name, out double v) ? v : throw new Xunit.Sdk.XunitException($"no {name}");

        public List<KeyValuePair<string, double>> Series(string name) =>
            [.. Samples.Where(s => s.Key == name || s.Key.StartsWith(name + "{", StringComparison.Ordinal))];

        public double Sum(string name)
        {
            var series = Series(name);
            Assert.NotEmpty(series);
            return series.Sum(s => s.Value);
        }
    }

    /// <summary>Scrapes until <paramref name="done"/> holds (up to the hang guard) and returns that scrape.</summary>
    private static async Task<Metrics> ScrapeUntil(HttpClient http, string url, Func<Metrics, bool> done, MonitorRun run)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await Scrape(http, url);
            if (done(metrics))
            {
                return metrics;
            }

            Assert.True(clock.Elapsed < HangGuard, "the metrics never reached the expected state: " + run.Errors);
            await Task.Delay(100);
        }
    }

    /// <summary>A <c>ratadns monitor</c> process replaying the sample into a file, its standard error collected line by line.</summary>
    private sealed class MonitorRun : IDisposable
    {
        private readonly ConcurrentQueue<string> _errors = new();
        private readonly string _config;

        private MonitorRun(Process process, string config, string output)
        {
            Process = process;
            _config = config;
            OutputPath = output;
        }

        public Process Process { get; }

        public string OutputPath { get; }

        public IReadOnlyList<string> ErrorLines => [.. _errors];

        public string Errors => string.Join('\n', _errors);

        /// <summary>Standard input, for a run started with <see cref="StartOnStdin"/>.</summary>
        public Stream Input => Process.StandardInput.BaseStream;

        public static MonitorRun Start(double speed, params string[] extra) => StartOn(Sample, speed, extra);

        public static MonitorRun StartOn(string input, double speed, params string[] extra) =>
            Start($$"""
                "InputMethod": "capture_file", "InputSource": "{{input}}", "Speed": {{speed.ToString(CultureInfo.InvariantCulture)}}
                """, stdin: false, extra);

        /// <summary>A run that reads its capture from standard input (<see cref="Input"/>) as fast as it comes.</summary>
        public static MonitorRun StartOnStdin(params string[] extra) => Start("\"InputMethod\": \"stdin\"", stdin: true, extra);

        private static MonitorRun Start(string source, bool stdin, string[] extra)
        {
            string output = Path.Combine(Path.GetTempPath(), $"ratadns-metrics-{Guid.NewGuid():N}.out");
            string config = Path.GetTempFileName();
            File.WriteAllText(config, $$"""
                {"ServerId": "s", "WindowMilliseconds": 1000, "Workers": 2, {{source.Trim()}},
                 "PreliminarReducers": [{"Name": "PacketsPerSecond", "OutputMethod": "file", "OutputFile": "{{output}}"}]}
                """);
            var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardInput = stdin, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ratadns.dll"));
            foreach (var a in new[] { "monitor", "-c", config }.Concat(extra))
            {
                info.ArgumentList.Add(a);
            }

            var process = new Process { StartInfo = info };
            var run = new MonitorRun(process, config, output);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    run._errors.Enqueue(e.Data);
                }
            };
            process.Start();
            process.BeginErrorReadLine();
            return run;
        }

        public int OutputLines() => File.Exists(OutputPath) ? File.ReadAllLines(OutputPath).Length : 0;

        public async Task<string?> WaitForLine(Func<string, bool> match, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (_errors.FirstOrDefault(match) is { } line)
                {
                    return line;
                }

                if (Process.HasExited)
                {
                    return _errors.FirstOrDefault(match);
                }

                await Task.Delay(50);
            }

            return null;
        }

        public void Kill()
        {
            if (!Process.HasExited)
            {
                Process.Kill();
                Process.WaitForExit(10_000);
            }
        }

        public void Dispose()
        {
            Kill();
            Process.Dispose();
            File.Delete(_config);
            File.Delete(OutputPath);
        }
    }
}
