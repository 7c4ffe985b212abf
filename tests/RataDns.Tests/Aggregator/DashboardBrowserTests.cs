using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using RataDns.App.Commands;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The dashboard in a real browser (Debian's chromium, headless, driven by Playwright for .NET): an aggregator
/// in this process, two `ratadns monitor` processes replaying the sample into it; the page loads with live data,
/// its rate chart changes as windows arrive, its top names are the API's, and the browser logs no error. A
/// screenshot is saved as a test artifact (bin/.../artifacts/dashboard.png).
/// </summary>
public class DashboardBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>How long the test waits for something that must happen: a hang guard, not a measure of anything.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task The_dashboard_shows_live_data_that_matches_the_api_without_console_errors()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium; scripts/setup.sh installs it)");
        int zmqPort = RedisServer.FreePort();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<AggregateRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringWriter();
        var aggregator = Task.Run(() => AggregateCommand.Run(
            new AggregateSettings { Endpoints = [$"tcp://127.0.0.1:{zmqPort}"], Bind = true, HttpUrl = "http://127.0.0.1:0" },
            TextWriter.Synchronized(log),
            stop.Token,
            run => started.SetResult(run)));
        var run = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        string url = run.HttpAddresses[0].ToString().TrimEnd('/');
        var monitors = new List<Process>();
        var configs = new List<string>();
        try
        {
            // Two monitors, the sample at the capture's own pace (10 s), 1 s windows, the default reducers. The
            // second starts only once the page has drawn the first one's data (below), so windows surely arrive
            // while the page is open, however long loading it takes.
            void StartMonitor(string server)
            {
                string config = Path.GetTempFileName();
                string sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");
                configs.Add(config);
                File.WriteAllText(config, $$$"""
                    {"ServerId": "{{{server}}}", "WindowMilliseconds": 1000, "InputMethod": "capture_file",
                     "InputSource": "{{{sample}}}", "Speed": 1,
                     "ZeroMq": {"Connect": "tcp://127.0.0.1:{{{zmqPort}}}"}, "Output": {"OutputMethod": "zmq"}}
                    """);
                var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true };
                foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "-c", config })
                {
                    info.ArgumentList.Add(a);
                }

                monitors.Add(Process.Start(info)!);
            }

            StartMonitor("ns1");

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = ["--no-sandbox"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
            var problems = new List<string>();
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    problems.Add($"console: {message.Text}");
                }
            };
            page.PageError += (_, error) => problems.Add($"page error: {error}");

            // Wait for the first results, then load the page; then start the second monitor. (All waits here are
            // hang guards of a minute: they end as soon as what they wait for has happened.)
            var clock = Stopwatch.StartNew();
            while (run.Store.Types().Count == 0 && clock.Elapsed < HangGuard)
            {
                await Task.Delay(100);
            }

            await page.GotoAsync(url + "/");
            await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = (float)HangGuard.TotalMilliseconds });
            string firstChart = await page.InnerHTMLAsync("#qps-chart");
            StartMonitor("ns2");

            // The charts follow the live data: the rate chart changes as windows arrive.
            string chart = firstChart;
            clock.Restart();
            while (chart == firstChart && clock.Elapsed < HangGuard)
            {
                await Task.Delay(500);
                chart = await page.InnerHTMLAsync("#qps-chart");
            }

            Assert.NotEqual(firstChart, chart);

            foreach (var monitor in monitors)
            {
                Assert.True(monitor.WaitForExit(HangGuard), "a monitor did not finish");
                Assert.Equal(0, monitor.ExitCode);
            }

            // The page's top names are the API's (same scope and span as the page shows). The monitors have exited,
            // but their last windows may still be reaching the store: the comparison counts once the API gives the
            // same names before and after the page loads (retried up to the hang guard), not after a pause.
            using var http = new HttpClient();
            async Task<List<string>> ApiNames() =>
                [.. (await http.GetFromJsonAsync<JsonElement>($"{url}/api/merged/TopNQ?scope=all&span=1m")).GetProperty("data").EnumerateArray().Select(e => e[0].GetString()!).Take(5)];
            clock.Restart();
            while (true)
            {
                var apiNames = await ApiNames();
                await page.ReloadAsync();
                await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = (float)HangGuard.TotalMilliseconds });
                var pageNames = await page.EvaluateAsync<string[]>(
                    "() => [...document.querySelectorAll('#top-names td.name')].map(td => td.firstChild.textContent.trim())");
                if (apiNames.SequenceEqual(await ApiNames()))
                {
                    Assert.NotEmpty(apiNames);
                    Assert.Equal(apiNames, pageNames.Take(apiNames.Count));
                    break;
                }

                Assert.True(clock.Elapsed < HangGuard, "the API's top names kept changing after the monitors had exited");
            }

            var health = await page.InnerTextAsync("#health");
            Assert.Contains("ns1", health, StringComparison.Ordinal);
            Assert.Contains("ns2", health, StringComparison.Ordinal);

            string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
            Directory.CreateDirectory(artifacts);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "dashboard.png"), FullPage = true });
            Assert.True(problems.Count == 0, string.Join('\n', problems));
        }
        finally
        {
            foreach (var monitor in monitors.Where(m => !m.HasExited))
            {
                monitor.Kill(entireProcessTree: true);
            }

            foreach (string config in configs)
            {
                File.Delete(config);
            }

            await stop.CancelAsync();
            await aggregator.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
