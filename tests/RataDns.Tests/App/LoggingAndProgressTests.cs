using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RataDns.App.Gen;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// The real <c>ratadns</c> program, run as a process: <c>--log-format json</c>, <c>--log-level</c>, the progress
/// bar forced on with <c>RATADNS_PROGRESS=1</c>, <c>--quiet</c>, and the end-of-run summary against tshark's counts.
/// </summary>
public sealed partial class LoggingAndProgressTests : IDisposable
{
    private const long Packets = 200_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("ratadns-logging-").FullName;
    private readonly string _capture;
    private readonly string _damaged;

    public LoggingAndProgressTests()
    {
        _capture = Path.Combine(_directory, "capture.pcap");
        SyntheticCapture.Write(_capture, Packets, 3, 10_000);

        // The same capture cut in the middle of a record: the frames before are processed, a warning says where.
        _damaged = Path.Combine(_directory, "damaged.pcap");
        var bytes = File.ReadAllBytes(_capture);
        File.WriteAllBytes(_damaged, bytes.AsSpan(0, (bytes.Length / 2) + 7).ToArray());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Json_format_makes_every_stderr_line_an_object_and_keeps_the_warnings()
    {
        string config = WriteMonitorConfig(_damaged);
        int exit = Run(["monitor", "-c", config, "--log-format", "json"], null, out _, out string stderr);

        Assert.Equal(1, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var entries = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList(); // throws on a line that is not JSON
        Assert.All(entries, e =>
        {
            Assert.Equal(JsonValueKind.Object, e.ValueKind);
            Assert.False(string.IsNullOrEmpty(e.GetProperty("level").GetString()));
            Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
            Assert.Equal("ratadns monitor", e.GetProperty("category").GetString());
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("timestamp").GetString(), CultureInfo.InvariantCulture, out _));
        });

        // The damaged-input warning, with its fields; the engine's placement line at information.
        var warning = Assert.Single(entries, e => e.GetProperty("level").GetString() == "warning");
        Assert.Contains("frames before it were processed", warning.GetProperty("message").GetString());
        Assert.Equal(_damaged, warning.GetProperty("Source").GetString());
        Assert.Matches("truncated", warning.GetProperty("Reason").GetString());
        Assert.InRange(warning.GetProperty("Frames").GetInt64(), (Packets / 2) - 2000, (Packets / 2) + 2000);
        Assert.Contains(entries, e => e.GetProperty("level").GetString() == "information" && e.GetProperty("message").GetString()!.Contains("CPUs", StringComparison.Ordinal));
    }

    [Fact]
    public void Text_format_keeps_the_lines_as_they_were()
    {
        int exit = Run(["inspect", _damaged], null, out _, out string stderr);
        Assert.Equal(1, exit);
        Assert.Matches(@"(?m)^ratadns inspect: .*damaged\.pcap: truncated record.* at offset [0-9]+.*; the [0-9]+ frames before it were processed\.$", stderr);
        Assert.Matches(@"(?m)^ratadns inspect: done: [0-9,]+ frames, [0-9,]+ DNS messages \([0-9,]+ malformed\) in [0-9.]+ s, [0-9.]+[kM]? frames/s$", stderr);
    }

    [Fact]
    public void Log_level_error_hides_information_and_warning_lines()
    {
        Assert.Equal(0, Run(["inspect", _capture], null, out _, out string normal));
        Assert.Contains("ratadns inspect: done:", normal);

        Assert.Equal(0, Run(["inspect", "--log-level", "error", _capture], null, out _, out string errorsOnly));
        Assert.Equal(string.Empty, errorsOnly);

        Assert.Equal(1, Run(["inspect", "--log-level", "warning", _damaged], null, out _, out string warnings));
        Assert.Contains("frames before it were processed", warnings);
        Assert.DoesNotContain("done:", warnings);

        // An error still shows at --log-level error (a missing file: usage).
        Assert.Equal(2, Run(["inspect", "--log-level", "error", Path.Combine(_directory, "missing.pcap")], null, out _, out string missing));
        Assert.StartsWith("ratadns inspect: ", missing);
    }

    [Fact]
    public void Forced_progress_climbs_to_100_percent_then_the_summary_follows()
    {
        string output = Path.Combine(_directory, "messages.json");
        int exit = Run(["serialize", "--ndjson", "-o", output, _capture], "1", out _, out string stderr);

        Assert.Equal(0, exit);
        var percents = PercentPattern().Matches(stderr).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(percents.Count >= 2, "progress updates: " + stderr);
        Assert.True(percents.Zip(percents.Skip(1)).All(p => p.First <= p.Second), "percent went down: " + string.Join(", ", percents));
        Assert.True(percents[0] < 100, "the first update is before the end");
        Assert.Equal(100.0, percents[^1]);

        // The bar is erased (carriage returns), and the summary line comes after it on a line of its own.
        int lastBar = stderr.LastIndexOf('%');
        int summary = stderr.IndexOf("ratadns serialize: done: ", StringComparison.Ordinal);
        Assert.True(summary > lastBar, stderr);
        Assert.Equal('\r', stderr[summary - 1]);
        Assert.Equal(Packets, File.ReadLines(output).LongCount());
    }

    [Fact]
    public void Quiet_writes_neither_progress_nor_summary_and_a_pipe_gets_no_bar()
    {
        Assert.Equal(0, Run(["inspect", "--quiet", _capture], "1", out string report, out string quiet));
        Assert.Equal(string.Empty, quiet);
        Assert.Contains("frames: 200000", report); // the results are not the logger's business: still there

        // Standard error is a pipe here: without RATADNS_PROGRESS no bar, but the summary.
        Assert.Equal(0, Run(["inspect", _capture], null, out _, out string piped));
        Assert.DoesNotContain("%", piped);
        Assert.DoesNotContain("\r", piped);
        Assert.Contains("ratadns inspect: done: 200,000 frames", piped);
    }

    [SkippableFact]
    public void Summary_counts_equal_tsharks()
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "/usr/bin/tshark is not installed");
        var captures = new[] { _capture, Path.Combine(_directory, "names-flood.pcap") };
        SyntheticCapture.Write(captures[1], 20_000, 5, 10_000, flood: SyntheticFlood.Names);
        foreach (string capture in captures)
        {
            Assert.Equal(0, Run(["monitor", "-c", WriteMonitorConfig(capture), "--log-format", "json"], null, out _, out string stderr));
            var done = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Single(e => e.GetProperty("message").GetString()!.StartsWith("done: ", StringComparison.Ordinal));

            Assert.Equal(TsharkLines(capture, null), done.GetProperty("Frames").GetInt64());
            Assert.Equal(TsharkLines(capture, "dns"), done.GetProperty("DnsMessages").GetInt64());
            Assert.Equal(0, done.GetProperty("Malformed").GetInt64());
        }
    }

    private static long TsharkLines(string capture, string? filter)
    {
        var arguments = new List<string> { "-n", "-r", capture };
        if (filter is not null)
        {
            arguments.AddRange(["-Y", filter]);
        }

        Assert.Equal(0, ExternalTool.Run("/usr/bin/tshark", arguments, out string stdout, out _));
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LongLength;
    }

    private string WriteMonitorConfig(string input)
    {
        string config = Path.Combine(_directory, Path.GetFileNameWithoutExtension(input) + ".json");
        string results = Path.Combine(_directory, Path.GetFileNameWithoutExtension(input) + ".results");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ServerId"] = "s",
            ["WindowMilliseconds"] = 1000,
            ["Workers"] = 1,
            ["InputMethod"] = "capture_file",
            ["InputSource"] = input,
            ["PreliminarReducers"] = new[] { new Dictionary<string, string> { ["Name"] = "PacketsPerSecond", ["OutputMethod"] = "file", ["OutputFile"] = results } },
        }));
        return config;
    }

    /// <summary>Runs ratadns; <paramref name="progress"/> sets RATADNS_PROGRESS (null: unset).</summary>
    private static int Run(string[] arguments, string? progress, out string stdout, out string stderr)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ratadns.dll"));
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("RATADNS_PROGRESS");
        if (progress is not null)
        {
            info.Environment["RATADNS_PROGRESS"] = progress;
        }

        using var process = Process.Start(info)!;
        var outTask = process.StandardOutput.ReadToEndAsync();
        var errTask = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("ratadns did not finish in 120 s");
        }

        stdout = outTask.GetAwaiter().GetResult();
        stderr = errTask.GetAwaiter().GetResult();
        return process.ExitCode;
    }

    [GeneratedRegex(@"([0-9]+\.[0-9])%")]
    private static partial Regex PercentPattern();
}
