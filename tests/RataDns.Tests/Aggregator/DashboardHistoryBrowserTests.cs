using System.Net;
using System.Text;
using Microsoft.Playwright;
using RataDns.Aggregator;
using RataDns.Aggregator.History;
using RataDns.Aggregator.Web;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The dashboard over stored history, in chromium: two hours of 10 s windows of two servers (real reducers' views and
/// states, made from generated queries whose counts are known), of which memory holds only the last 10 minutes and an
/// SQLite archive the rest. The page opened with a server, span and range in its URL shows them; its time series
/// (RCODE, QTYPE, latency percentiles, transport) follow the known per-window rates; its timeline reaches back to
/// the first window (in the archive only); rewinding there puts the time in the URL and fills the panels from the
/// archive with that window's counts; reloading that URL comes back to the same time; TopClients, EDNS, Transport and
/// DistinctCounter are drawn; and the browser logs no error.
/// </summary>
public class DashboardHistoryBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    private const double Start = 1_767_225_600; // 2026-01-01T00:00:00Z

    private const int Windows = 720;

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static readonly string[] Types = ["RcodeCounter", "QtypeCounter", "ResponseLatency", "TransportCounter", "TopClients", "EdnsCounter", "DistinctCounter", "TopNQ"];

    [SkippableFact]
    public async Task Series_timeline_rewind_and_url_state_reach_back_over_the_archived_history()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium; scripts/setup.sh installs it)");
        string path = Path.Combine(Path.GetTempPath(), $"ratadns-dashboard-history-{Environment.ProcessId}-{Guid.NewGuid():N}.sqlite");
        try
        {
            using var archive = SqliteResultArchive.Open(path);
            var store = new AggregatorStore(new AggregatorOptions { Archive = archive, HistoryLength = TimeSpan.FromMinutes(10) });
            foreach (string server in new[] { "ns1", "ns2" })
            {
                for (int w = 0; w < Windows; w++)
                {
                    foreach (var envelope in Envelopes(server, w))
                    {
                        Assert.True(store.Add(envelope));
                    }
                }
            }

            archive.Flush(TimeSpan.FromMinutes(2));

            await using var app = AggregatorWeb.Build(store, AggregatorWebOptions.EphemeralLoopback());
            await app.StartAsync();
            string url = AggregatorWeb.BoundAddresses(app)[0].ToString().TrimEnd('/');

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

            // The URL's state is what the page shows.
            await page.GotoAsync($"{url}/?server=ns1&span=5m&range=6h");
            await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = (float)HangGuard.TotalMilliseconds });
            Assert.Equal("ns1", await page.InputValueAsync("#scope-select"));
            Assert.Equal("5m", await page.InputValueAsync("#span-select"));
            Assert.Equal("6h", await page.InputValueAsync("#range-select"));

            // The time series: one line per key, and the legend's newest rate is the last window's known rate.
            foreach (string chart in new[] { "#rcode-series", "#qtype-series", "#latency-series", "#transport-series" })
            {
                Assert.True(await page.Locator($"{chart} svg path").CountAsync() >= 1, $"{chart} draws no line");
            }

            var last = Counts(Windows - 1);
            string rcodeLegend = await page.InnerTextAsync("#rcode-series-legend");
            Assert.Contains($"NOERROR: {Rate(last.NoError)}", rcodeLegend, StringComparison.Ordinal);
            Assert.Contains($"NXDOMAIN: {Rate(last.NxDomain)}", rcodeLegend, StringComparison.Ordinal);
            Assert.Contains($"AAAA: {Rate(last.Aaaa)}", await page.InnerTextAsync("#qtype-series-legend"), StringComparison.Ordinal);
            Assert.Contains("p99 ms", await page.InnerTextAsync("#latency-series-legend"), StringComparison.Ordinal);
            Assert.Contains($"udp4: {Rate(last.Queries + last.Queries)}", await page.InnerTextAsync("#transport-series-legend"), StringComparison.Ordinal);

            // The snapshot panels the issue names are drawn (TopClients, EDNS, Transport, DistinctCounter).
            Assert.True(await page.Locator("#top-clients tbody tr").CountAsync() >= 3);
            Assert.Contains("with EDNS", await page.InnerTextAsync("#edns"), StringComparison.Ordinal);
            Assert.True(await page.Locator("#transport svg rect").CountAsync() >= 1);
            Assert.Contains("distinct clients", await page.InnerTextAsync("#distinct"), StringComparison.Ordinal);

            // The timeline reaches the first window, which only the archive holds; rewinding there puts it in the URL.
            await page.ClickAsync("#pause-button");
            await page.Locator("#rewind-slider").FillAsync("0");
            string first = DateTimeOffset.UnixEpoch.AddSeconds(Start + 10).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            await page.WaitForFunctionAsync($"() => new URLSearchParams(location.search).get('at') === '{first}'", null, new PageWaitForFunctionOptions { Timeout = (float)HangGuard.TotalMilliseconds });

            // The panels then show the 5 minutes up to that time: the first window alone, from the archive.
            var firstCounts = Counts(0);
            await page.WaitForFunctionAsync(
                $"() => document.querySelector('#rcodes').textContent.includes('{firstCounts.NoError}')", null, new PageWaitForFunctionOptions { Timeout = (float)HangGuard.TotalMilliseconds });
            Assert.Contains(firstCounts.NxDomain.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#rcodes"), StringComparison.Ordinal);

            // The URL brings the page back to the same rewound time.
            string rewound = page.Url;
            await page.GotoAsync(rewound);
            await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = (float)HangGuard.TotalMilliseconds });
            await page.WaitForFunctionAsync(
                $"() => document.querySelector('#rcodes').textContent.includes('{firstCounts.NoError}') && document.querySelector('#pause-button').textContent === 'Resume'",
                null,
                new PageWaitForFunctionOptions { Timeout = (float)HangGuard.TotalMilliseconds });
            Assert.Equal(first, await page.EvaluateAsync<string>("() => new URLSearchParams(location.search).get('at')"));

            Assert.True(problems.Count == 0, string.Join("\n", problems));
            await app.StopAsync();
        }
        finally
        {
            foreach (string suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(path + suffix);
            }
        }
    }

    private static string Rate(long count) => (count / 10.0).ToString("#,0.##", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Window <paramref name="w"/>'s known counts: queries, NOERROR and NXDOMAIN responses, AAAA questions.</summary>
    private static (long Queries, long NoError, long NxDomain, long Aaaa) Counts(int w)
    {
        int queries = 20 + (w % 17);
        int nx = 1 + (w % 4);
        int aaaa = queries / 3;
        return (queries, queries - nx, nx, aaaa);
    }

    /// <summary>Window <paramref name="w"/> of <paramref name="server"/> for every type: real reducers, views and states.</summary>
    private static IEnumerable<byte[]> Envelopes(string server, int w)
    {
        var (queries, _, nx, aaaa) = Counts(w);
        var packets = new List<TestPacket>();
        long start = (long)((Start + (w * 10)) * ReducerTestSupport.Second);
        for (int q = 0; q < queries; q++)
        {
            ushort id = (ushort)(q + 1);
            string client = $"10.0.{q % 3}.{(q % 7) + 1}";
            ushort type = q < aaaa ? (ushort)28 : (ushort)1;
            string name = $"n{q % 5}.example";
            var query = new TestMessageBuilder { Id = id, Flags = 0x0100 }.Question(name, type);
            if (q % 2 == 0)
            {
                query.Section(3).Record(".", 41, 1232, 0, _ => { }); // OPT: EDNS with a 1232-byte UDP size
            }

            long time = start + (q * (ReducerTestSupport.Second / 10));
            packets.Add(new TestPacket(query.ToArray(), time, IPAddress.Parse(client), (ushort)(2000 + q), ReducerTestSupport.Server, 53));
            var response = new TestMessageBuilder { Id = id, Flags = (ushort)(q < nx ? 0x8183 : 0x8180) }.Question(name, type);
            packets.Add(new TestPacket(response.ToArray(), time + 2_000_000, ReducerTestSupport.Server, 53, IPAddress.Parse(client), (ushort)(2000 + q)));
        }

        foreach (string type in Types)
        {
            var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
            ReducerTestSupport.ObserveAll(reducer, packets);
            string data = ReducerTestSupport.Data(reducer, new ReducerWindow(start, start + (10 * ReducerTestSupport.Second), packets.Count));
            string state = Convert.ToBase64String(ReducerState.ToArray(reducer));
            double end = Start + ((w + 1) * 10);
            yield return Encoding.UTF8.GetBytes(
                $"{{\"type\":\"{type}\",\"serverId\":\"{server}\",\"timeStamp\":{end},\"data\":{data},"
                + $"\"window\":{{\"start\":{end - 10},\"end\":{end},\"packets\":{packets.Count},\"drops\":0,\"sequence\":{w}}},\"state\":\"{state}\"}}");
        }
    }
}
