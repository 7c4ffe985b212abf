using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using RataDns.App.Commands;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The dashboard in chromium shows a count that is not exact as a bound: a TopNQ with a Capacity smaller than the
/// names it saw (Space-Saving) gives merged counts with an error term, which the page writes as "lo–hi" with the
/// bound explained on hover; and a panel merged from results that carried no state (views only) is marked
/// approximate. The true counts, known from the generated queries, lie within the bounds shown.
/// </summary>
[Collection(NetMqCollection.Name)]
public class DashboardBoundsBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task A_count_with_an_error_term_is_shown_as_a_bound_and_a_view_merge_as_approximate()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium; scripts/setup.sh installs it)");
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<AggregateRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Task.Run(() => AggregateCommand.Run(
            new AggregateSettings { Endpoints = [$"tcp://127.0.0.1:{RedisServer.FreePort()}"], Bind = true, HttpUrl = "http://127.0.0.1:0" },
            TextWriter.Null,
            stop.Token,
            run => started.SetResult(run)));
        var run = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        string url = run.HttpAddresses[0].ToString().TrimEnd('/');
        try
        {
            // Two 10 s windows of one monitor; names with skewed counts, more names than TopNQ's Capacity of 4.
            var truth = new Dictionary<string, long>();
            for (int window = 0; window < 2; window++)
            {
                var topNq = ReducerRegistry.Create(Entry("TopNQ", ("N", 4), ("Capacity", 4)));
                var rcodes = ReducerRegistry.Create(Entry("RcodeCounter"));
                var queries = new List<TestPacket>();
                for (int i = 0; i < 60; i++)
                {
                    // name k asked 12 - 2k times per window (k = 0..5), then 12 one-off names.
                    string name = i < 42 ? $"n{Rank(i)}.example." : $"once{window}-{i}.example.";
                    truth[name] = truth.GetValueOrDefault(name) + 1;
                    long time = (window * 10 * ReducerTestSupport.Second) + (i * ReducerTestSupport.Second / 10);
                    queries.Add(ReducerTestSupport.Query((ushort)i, "10.0.0.1", (ushort)(1000 + i), time, (name, 1)));
                    queries.Add(ReducerTestSupport.Response((ushort)i, "10.0.0.1", (ushort)(1000 + i), time + 1000, (name, 1)));
                }

                ReducerTestSupport.ObserveAll(topNq, queries);
                ReducerTestSupport.ObserveAll(rcodes, queries);
                Assert.True(run.Store.Add(Envelope(topNq, window, withState: true)));
                Assert.True(run.Store.Add(Envelope(rcodes, window, withState: false)));
            }

            using var http = new HttpClient();
            var merged = await http.GetFromJsonAsync<JsonElement>($"{url}/api/merged?types=TopNQ,RcodeCounter&scope=all&span=1m");
            var top = merged.GetProperty("TopNQ");
            Assert.Equal("state", top.GetProperty("merge").GetString());
            Assert.False(top.GetProperty("approximate").GetBoolean());
            Assert.True(merged.GetProperty("RcodeCounter").GetProperty("approximate").GetBoolean());
            var entries = top.GetProperty("data").EnumerateArray().Select(e => (Name: e[0].GetString()!, Count: e[1].GetInt64(), Error: e[2].GetInt64())).ToList();
            Assert.Contains(entries, e => e.Error > 0);
            Assert.All(entries, e => Assert.InRange(truth[e.Name], e.Count - e.Error, e.Count));

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
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
            await page.GotoAsync(url + "/");
            await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = 30_000 });
            await page.WaitForSelectorAsync("#top-names td.num", new PageWaitForSelectorOptions { Timeout = 30_000 });

            var rows = await page.EvaluateAsync<string[][]>(
                "() => [...document.querySelectorAll('#top-names tbody tr')].map(tr => [tr.querySelector('td.name').firstChild.textContent.trim(), tr.querySelector('td.num').textContent, tr.querySelector('td.num').title])");
            Assert.Equal(entries.Count, rows.Length);
            foreach (var (entry, row) in entries.Zip(rows))
            {
                Assert.Equal(entry.Name, row[0]);
                if (entry.Error > 0)
                {
                    // "lo–hi" (an en dash), and the hover says what it means.
                    Assert.Equal($"{entry.Count - entry.Error}–{entry.Count}", row[1]);
                    Assert.Contains($"between {entry.Count - entry.Error} and {entry.Count}", row[2], StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(entry.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), row[1]);
                    Assert.Equal("exact count", row[2]);
                }
            }

            // The rcode panel was merged from views: marked approximate, the reason on hover.
            var badge = await page.QuerySelectorAsync("#rcodes-panel h2 .approx");
            Assert.NotNull(badge);
            Assert.Contains("views", await badge.GetAttributeAsync("title") ?? "", StringComparison.Ordinal);
            Assert.Null(await page.QuerySelectorAsync("#top-names-panel h2 .approx"));

            string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
            Directory.CreateDirectory(artifacts);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "dashboard-bounds.png"), FullPage = true });
            Assert.True(problems.Count == 0, string.Join('\n', problems));
        }
        finally
        {
            await stop.CancelAsync();
            await aggregator.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Query i of a window asks name k for i in the k-th run of 12 - 2k queries (k = 0..5; 42 in all).</summary>
    private static int Rank(int i)
    {
        int k = 0;
        for (int run = 12; i >= run; run -= 2)
        {
            i -= run;
            k++;
        }

        return k;
    }

    private static ReducerConfiguration Entry(string name, params (string Key, int Value)[] options) => new()
    {
        Name = name,
        Options = options.ToDictionary(o => o.Key, o => JsonDocument.Parse(o.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement.Clone(), StringComparer.OrdinalIgnoreCase),
    };

    /// <summary>The envelope a monitor sends on ZeroMQ in JSON, with the state as base64 text when asked.</summary>
    private static byte[] Envelope(Reducer reducer, int window, bool withState)
    {
        long start = window * 10 * ReducerTestSupport.Second;
        string data = ReducerTestSupport.Data(reducer, new ReducerWindow(start, start + (10 * ReducerTestSupport.Second), 120));
        string state = withState ? $",\"state\":\"{Convert.ToBase64String(ReducerState.ToArray(reducer, OptionsOf(reducer)))}\"" : "";
        return Encoding.UTF8.GetBytes(
            $"{{\"type\":\"{reducer.Type}\",\"serverId\":\"ns1\",\"timeStamp\":{(window + 1) * 10},\"data\":{data},"
            + $"\"window\":{{\"start\":{window * 10},\"end\":{(window + 1) * 10},\"packets\":120,\"messages\":120,\"drops\":0,\"sequence\":{window},\"partial\":false}}{state}}}");
    }

    private static Dictionary<string, JsonElement> OptionsOf(Reducer reducer) =>
        reducer.Type == "TopNQ" ? Entry("TopNQ", ("N", 4), ("Capacity", 4)).Options.ToDictionary() : [];
}
