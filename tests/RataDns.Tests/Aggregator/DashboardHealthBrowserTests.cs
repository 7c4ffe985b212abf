using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using RataDns.Aggregator;
using RataDns.Aggregator.Web;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// Health surfaced (issue 16): <c>/api/health</c> says waiting, ok, degraded or down (503) as monitors go stale, and
/// the dashboard's header says the same next to the connection badge, with the monitors table near the top (in
/// chromium).
/// </summary>
public class DashboardHealthBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task Health_follows_stale_monitors_in_the_api_and_at_the_top_of_the_dashboard()
    {
        var now = DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var store = new AggregatorStore(new AggregatorOptions { Clock = () => now, StaleAfter = TimeSpan.FromSeconds(30) });
        await using var app = AggregatorWeb.Build(store, AggregatorWebOptions.EphemeralLoopback());
        await app.StartAsync();
        string url = AggregatorWeb.BoundAddresses(app)[0].ToString().TrimEnd('/');
        using var http = new HttpClient();

        async Task<(HttpStatusCode Code, string Status)> Health()
        {
            using var response = await http.GetAsync($"{url}/api/health");
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (response.StatusCode, body.GetProperty("status").GetString()!);
        }

        Assert.Equal((HttpStatusCode.OK, "waiting"), await Health());
        store.Add(Envelope("ns1", 0));
        store.Add(Envelope("ns2", 0));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Health());
        now = now.AddMinutes(1);
        store.Add(Envelope("ns1", 1));
        Assert.Equal((HttpStatusCode.OK, "degraded"), await Health());
        now = now.AddMinutes(1);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "down"), await Health());

        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium; scripts/setup.sh installs it)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        await page.GotoAsync(url + "/");
        await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = 60_000 });
        Assert.Equal("down", await page.GetAttributeAsync("#health-badge", "data-status"));
        Assert.Equal("all 2 monitors stale", await page.InnerTextAsync("#health-badge"));
        Assert.Contains("down", await page.GetAttributeAsync("#health-badge", "class") ?? string.Empty, StringComparison.Ordinal);

        // The monitors table is the first panel after the rates: on the first screen of a 900 px high window.
        var table = await page.Locator("#health-panel").BoundingBoxAsync();
        Assert.NotNull(table);
        Assert.True(table.Y < 900, $"the monitors table starts at {table.Y} px");

        now = now.AddMinutes(1);
        store.Add(Envelope("ns2", 1));
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = 60_000 });
        Assert.Equal("degraded", await page.GetAttributeAsync("#health-badge", "data-status"));
        Assert.Equal("1 of 2 monitors stale", await page.InnerTextAsync("#health-badge"));
        await app.StopAsync();
    }

    private static byte[] Envelope(string server, int window) => Encoding.UTF8.GetBytes(
        $"{{\"type\":\"RcodeCounter\",\"serverId\":\"{server}\",\"timeStamp\":{(window + 1) * 10},\"data\":{{\"NOERROR\":3}},"
        + $"\"window\":{{\"start\":{window * 10},\"end\":{(window + 1) * 10},\"packets\":6,\"sequence\":{window}}}}}");
}
