using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using RataDns.Aggregator.Web;

namespace RataDns.Tests.Aggregator.Web;

/// <summary>The HTTP API and the dashboard files, over <see cref="FakeAggregatorView"/>, on a free loopback port.</summary>
public sealed class AggregatorWebTests : IAsyncLifetime
{
    private readonly FakeAggregatorView _view = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = AggregatorWeb.Build(_view, AggregatorWebOptions.EphemeralLoopback());
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = AggregatorWeb.BoundAddresses(_app).Single(), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public void The_bound_address_is_loopback_with_the_port_taken()
    {
        var address = AggregatorWeb.BoundAddresses(_app).Single();
        Assert.Equal("127.0.0.1", address.Host);
        Assert.NotEqual(0, address.Port);
    }

    [Fact]
    public async Task Health_counts_monitors_and_stale_ones()
    {
        var health = await GetJson("/api/health");
        Assert.Equal("degraded", health.GetProperty("status").GetString()); // ns2 is stale
        Assert.Equal(2, health.GetProperty("monitors").GetInt32());
        Assert.Equal(1, health.GetProperty("stale").GetInt32());
    }

    [Fact]
    public async Task Servers_lists_every_monitor_status_in_camel_case()
    {
        var servers = await GetJson("/api/servers");
        Assert.Equal(2, servers.GetArrayLength());
        var ns2 = servers.EnumerateArray().Single(s => s.GetProperty("serverId").GetString() == "ns2");
        Assert.True(ns2.GetProperty("stale").GetBoolean());
        Assert.Equal(3, ns2.GetProperty("sequenceGaps").GetInt64());
        Assert.Equal(17, ns2.GetProperty("drops").GetInt64());
        Assert.Equal(40, ns2.GetProperty("windows").GetInt64());
        Assert.Equal(FakeAggregatorView.Newest.AddMinutes(-30), ns2.GetProperty("lastSeen").GetDateTimeOffset());
        Assert.Equal(["PacketsQueriesAndAnswersPerSecond"], ns2.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Spans_and_types_are_the_views_lists()
    {
        Assert.Equal(["1m", "5m", "15m"], (await GetJson("/api/spans")).EnumerateArray().Select(s => s.GetString()));
        var types = (await GetJson("/api/types")).EnumerateArray().Select(s => s.GetString()).ToList();
        Assert.Contains("TopNQ", types);
        Assert.Contains("ResponseLatency", types);
    }

    [Fact]
    public async Task Merged_passes_the_reducer_data_through_unchanged()
    {
        var merged = await GetJson("/api/merged/TopNQ?scope=ns1&span=5m");
        Assert.Equal("TopNQ", merged.GetProperty("type").GetString());
        Assert.Equal("ns1", merged.GetProperty("scope").GetString());
        Assert.Equal("5m", merged.GetProperty("span").GetString());
        Assert.Equal(5, merged.GetProperty("windows").GetInt64());
        Assert.Equal("""[["www.yoze391.de.",26],["tozu228.test.",13]]""", merged.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Merged_defaults_to_all_servers_and_the_first_span()
    {
        var merged = await GetJson("/api/merged/RcodeCounter");
        Assert.Equal("all", merged.GetProperty("scope").GetString());
        Assert.Equal("1m", merged.GetProperty("span").GetString());
        Assert.Equal(32, merged.GetProperty("data").GetProperty("NXDOMAIN").GetInt32());
    }

    [Fact]
    public async Task Merged_of_several_types_maps_each_to_its_result_or_null()
    {
        var merged = await GetJson("/api/merged?types=TopNQ,RcodeCounter,NoSuchReducer&scope=ns1&span=15m");
        Assert.Equal("TopNQ", merged.GetProperty("TopNQ").GetProperty("type").GetString());
        Assert.Equal("15m", merged.GetProperty("RcodeCounter").GetProperty("span").GetString());
        Assert.Equal(218, merged.GetProperty("RcodeCounter").GetProperty("data").GetProperty("NOERROR").GetInt32());
        Assert.Equal(JsonValueKind.Null, merged.GetProperty("NoSuchReducer").ValueKind);
    }

    [Theory]
    [InlineData("/api/merged?types=", HttpStatusCode.BadRequest, "comma-separated")]
    [InlineData("/api/merged?types=TopNQ&scope=ns9", HttpStatusCode.NotFound, "unknown server")]
    [InlineData("/api/merged/NoSuchReducer", HttpStatusCode.NotFound, "unknown type")]
    [InlineData("/api/merged/TopNQ?scope=ns9", HttpStatusCode.NotFound, "unknown server")]
    [InlineData("/api/merged/TopNQ?scope=ns2", HttpStatusCode.NotFound, "no TopNQ results")]
    [InlineData("/api/merged/TopNQ?span=2h", HttpStatusCode.BadRequest, "unknown span")]
    [InlineData("/api/history/NoSuchReducer", HttpStatusCode.NotFound, "unknown type")]
    [InlineData("/api/history/TopNQ?from=yesterday", HttpStatusCode.BadRequest, "ISO 8601")]
    [InlineData("/api/history/TopNQ?from=1767225600&to=1767225000", HttpStatusCode.BadRequest, "after")]
    [InlineData("/api/no/such/thing", HttpStatusCode.NotFound, "no such API endpoint")]
    public async Task Errors_are_json_with_a_reason(string path, HttpStatusCode status, string reason)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(reason, body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_defaults_to_the_fifteen_minutes_before_the_newest_window()
    {
        // The fake's windows end at 2026-01-01T00:00Z, before the wall clock: the default follows the data.
        var history = await GetJson("/api/history/PacketsQueriesAndAnswersPerSecond");
        Assert.Equal(10, history.GetArrayLength());
        var ends = history.EnumerateArray().Select(h => h.GetProperty("to").GetDateTimeOffset()).ToList();
        Assert.Equal(ends.Order(), ends);
        Assert.Equal(FakeAggregatorView.Newest, ends[^1]);
        Assert.Equal(99.7, history[0].GetProperty("data").GetProperty("qps").GetDouble());
    }

    [Theory]
    [InlineData("from=1767225420&to=1767225540")]
    [InlineData("from=2025-12-31T23:57:00Z&to=2025-12-31T23:59:00Z")]
    [InlineData("from=2025-12-31T23:57:00&to=1767225540.5")]
    public async Task History_takes_seconds_or_iso_times(string range)
    {
        var history = await GetJson("/api/history/TopNQ?scope=ns1&" + range);
        var ends = history.EnumerateArray().Select(h => h.GetProperty("to").GetDateTimeOffset()).ToList();
        Assert.Equal([FakeAggregatorView.Newest.AddMinutes(-3), FakeAggregatorView.Newest.AddMinutes(-2), FakeAggregatorView.Newest.AddMinutes(-1)], ends);
        Assert.All(history.EnumerateArray(), h => Assert.Equal("ns1", h.GetProperty("scope").GetString()));
    }

    [Theory]
    [InlineData("/", "text/html", "id=\"qps-chart\"")]
    [InlineData("/index.html", "text/html", "app.js")]
    [InlineData("/app.js", "text/javascript", "dataset.ready")]
    [InlineData("/app.css", "text/css", "body")]
    public async Task The_dashboard_is_served_from_the_assembly(string path, string mediaType, string contains)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(contains, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["app.css", "app.js", "index.html"], AggregatorWeb.DashboardFiles().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_file_that_is_not_there_is_404()
    {
        using var response = await _http.GetAsync("/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<JsonElement> GetJson(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }
}
