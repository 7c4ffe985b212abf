using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RataDns.Tests.Support;

/// <summary>
/// A real Prometheus for tests: Debian's <c>prometheus</c> in the foreground on 127.0.0.1 and a free port, with its
/// own configuration and storage in a temporary directory, scraping the given targets every second; stopped by pid.
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    public const string Executable = "/usr/bin/prometheus";

    public const string Promtool = "/usr/bin/promtool";

    public const string MissingReason = "prometheus is not installed (/usr/bin/prometheus); scripts/setup.sh installs it";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private PrometheusServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static bool IsAvailable => File.Exists(Executable) && File.Exists(Promtool);

    /// <summary>Starts Prometheus scraping each job's target (host:port, path /metrics) every second; returns once it is ready.</summary>
    public static PrometheusServer Start(IReadOnlyDictionary<string, string> jobs)
    {
        string directory = Directory.CreateTempSubdirectory("ratadns-prometheus-").FullName;
        var config = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n");
        foreach (var (job, target) in jobs)
        {
            config.Append(CultureInfo.InvariantCulture, $"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n");
        }

        File.WriteAllText(Path.Combine(directory, "prometheus.yml"), config.ToString());
        int port = RedisServer.FreePort();
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--config.file=" + Path.Combine(directory, "prometheus.yml"),
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            "--web.console.templates=" + directory,
            "--web.console.libraries=" + directory,
        })
        {
            info.ArgumentList.Add(a);
        }

        var server = new PrometheusServer(Process.Start(info)!, directory, port);
        server._process.OutputDataReceived += server.Collect;
        server._process.ErrorDataReceived += server.Collect;
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        // A hang guard, not a timing: a loaded machine may take a while to start it; one that never gets ready fails.
        long deadline = Environment.TickCount64 + 60_000;
        while (Environment.TickCount64 < deadline && !server._process.HasExited)
        {
            try
            {
                if (Http.GetAsync(server.Url + "/-/ready").GetAwaiter().GetResult().IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            Thread.Sleep(100);
        }

        string output = server.Output;
        server.Dispose();
        throw new InvalidOperationException($"prometheus did not get ready on {server.Url} within 60 s: {output}");
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>An instant query through the HTTP API (<c>/api/v1/query</c>) at <paramref name="time"/>: the result vector's samples.</summary>
    public IReadOnlyList<(Dictionary<string, string> Labels, double Value)> Query(string promql, DateTimeOffset? time = null)
    {
        string url = $"{Url}/api/v1/query?query={Uri.EscapeDataString(promql)}";
        if (time is { } t)
        {
            url += "&time=" + (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
        }

        using var response = Http.GetAsync(url).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query {promql} failed: {body}");
        }

        var data = root.GetProperty("data");
        var samples = new List<(Dictionary<string, string>, double)>();
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            samples.Add(([], ParseValue(data.GetProperty("result")[1].GetString()!)));
            return samples;
        }

        foreach (var item in data.GetProperty("result").EnumerateArray())
        {
            var labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            samples.Add((labels, ParseValue(item.GetProperty("value")[1].GetString()!)));
        }

        return samples;
    }

    /// <summary>The values of a label over the series matching <paramref name="match"/> (<c>/api/v1/label/NAME/values</c>).</summary>
    public IReadOnlyList<string> LabelValues(string label, string match)
    {
        string url = $"{Url}/api/v1/label/{label}/values?match[]={Uri.EscapeDataString(match)}";
        string body = Http.GetStringAsync(url).GetAwaiter().GetResult();
        using var document = JsonDocument.Parse(body);
        return [.. document.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!)];
    }

    /// <summary>The state of each scrape target (<c>/api/v1/targets</c>): job, health, last error.</summary>
    public IReadOnlyList<(string Job, string Health, string LastError)> Targets()
    {
        string body = Http.GetStringAsync(Url + "/api/v1/targets").GetAwaiter().GetResult();
        using var document = JsonDocument.Parse(body);
        return
        [
            .. document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(t =>
                (t.GetProperty("labels").GetProperty("job").GetString()!, t.GetProperty("health").GetString()!, t.GetProperty("lastError").GetString()!)),
        ];
    }

    public void Dispose()
    {
        _process.KillAndDispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by the dying process: the temporary directory is left
        }
    }

    private static double ParseValue(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        lock (_output)
        {
            _output.AppendLine(e.Data);
        }
    }
}
