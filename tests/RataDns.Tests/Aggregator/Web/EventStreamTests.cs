using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using RataDns.Aggregator.Web;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator.Web;

/// <summary>
/// <c>GET /api/events</c>: the state at once, coalesced updates, keep-alives, and a clean end. The update interval
/// and the keep-alive run on a <see cref="ManualTimeProvider"/> that only the test moves, so what falls within an
/// interval does not depend on how fast this machine runs the test; every other wait is a hang guard.
/// </summary>
public sealed class EventStreamTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan UpdateInterval = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromMilliseconds(400);
    private readonly ManualTimeProvider _time = new();
    private readonly FakeAggregatorView _view = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var options = new AggregatorWebOptions
        {
            Urls = ["http://127.0.0.1:0"],
            UpdateInterval = UpdateInterval,
            KeepAliveInterval = KeepAliveInterval,
            TimeProvider = _time,
        };
        _app = AggregatorWeb.Build(_view, options);
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = AggregatorWeb.BoundAddresses(_app).Single(), Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_state_comes_first_and_at_once()
    {
        using var stream = await EventReader.Open(_http);
        Assert.Equal("text/event-stream", stream.MediaType);
        // Nothing is received by the view meanwhile: the state is sent on connecting, not with a first update.
        var first = await stream.NextEvent(Patience);
        Assert.Equal("state", first.Name);
        Assert.Equal(2, first.Data.GetProperty("servers").GetArrayLength());
        Assert.Contains("TopNQ", first.Data.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(3, first.Data.GetProperty("spans").GetArrayLength());
    }

    [Fact]
    public async Task A_stored_result_becomes_an_update_event()
    {
        using var stream = await EventReader.Open(_http);
        Assert.Equal("state", (await stream.NextEvent(Patience)).Name);

        _view.Receive("TopNQ", "ns3");
        var update = await stream.NextEvent(Patience);
        Assert.Equal("update", update.Name);
        Assert.Equal(["TopNQ"], update.Data.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["ns3"], update.Data.GetProperty("servers").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(1, update.Data.GetProperty("results").GetInt64());
        Assert.Equal(FakeAggregatorView.Newest, update.Data.GetProperty("timeStamp").GetDateTimeOffset());
    }

    [Fact]
    public async Task Updates_within_the_interval_are_coalesced_into_one_event()
    {
        using var stream = await EventReader.Open(_http);
        Assert.Equal("state", (await stream.NextEvent(Patience)).Name);

        _view.Receive("TopNQ", "ns1");
        Assert.Equal("update", (await stream.NextEvent(Patience)).Name);

        // The stream now holds back for the update interval, which ends when the test moves its clock: everything
        // raised meanwhile comes as one event, however long raising it takes.
        await WaitUntilArmed(UpdateInterval);
        for (int i = 0; i < 50; i++)
        {
            _view.Receive(i % 2 == 0 ? "RcodeCounter" : "QtypeCounter", i % 3 == 0 ? "ns1" : "ns2");
        }

        _time.Advance(UpdateInterval);
        var coalesced = await stream.NextEvent(Patience);
        Assert.Equal("update", coalesced.Name);
        Assert.Equal(["QtypeCounter", "RcodeCounter"], coalesced.Data.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["ns1", "ns2"], coalesced.Data.GetProperty("servers").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(50, coalesced.Data.GetProperty("results").GetInt64());
    }

    [Fact]
    public async Task An_idle_stream_gets_keep_alive_comments()
    {
        using var stream = await EventReader.Open(_http);
        Assert.Equal("state", (await stream.NextEvent(Patience)).Name);
        await WaitUntilArmed(KeepAliveInterval);
        _time.Advance(KeepAliveInterval);
        Assert.Equal(":keep-alive", await stream.NextComment(Patience));
    }

    [Fact]
    public async Task A_client_that_goes_away_unsubscribes()
    {
        using (var stream = await EventReader.Open(_http))
        {
            Assert.Equal("state", (await stream.NextEvent(Patience)).Name);
            Assert.Equal(1, _view.Subscribers);
        }

        var clock = Stopwatch.StartNew();
        while (_view.Subscribers != 0 && clock.Elapsed < Patience)
        {
            // The server notices at its next write (an update, written once the update interval has passed).
            _view.Receive("TopNQ", "ns1");
            _time.Advance(UpdateInterval);
            await Task.Delay(50);
        }

        Assert.Equal(0, _view.Subscribers);
    }

    [Fact]
    public async Task Stopping_the_host_ends_open_streams_before_its_shutdown_timeout()
    {
        using var stream = await EventReader.Open(_http);
        Assert.Equal("state", (await stream.NextEvent(Patience)).Name);
        // The host would wait for an open stream until its shutdown timeout (30 s) before aborting it; ending the
        // streams itself, it stops well before. A deadline below that timeout, not a measured time.
        var stopping = _app.StopAsync();
        Assert.Same(stopping, await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(25))));
        Assert.Equal(0, _view.Subscribers);
    }

    /// <summary>Waits (up to the hang guard) until the stream has armed a timer for <paramref name="interval"/>.</summary>
    private async Task WaitUntilArmed(TimeSpan interval)
    {
        var clock = Stopwatch.StartNew();
        while (!_time.IsArmed(interval))
        {
            Assert.True(clock.Elapsed < Patience, $"the stream never waited {interval.TotalMilliseconds} ms");
            await Task.Delay(10);
        }
    }

    /// <summary>A minimal text/event-stream reader: events (<c>event:</c>, <c>data:</c>, blank line) and comments.</summary>
    private sealed class EventReader : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventReader(HttpResponseMessage response, Stream body)
        {
            _response = response;
            _reader = new StreamReader(body);
        }

        public string? MediaType => _response.Content.Headers.ContentType?.MediaType;

        public static async Task<EventReader> Open(HttpClient http)
        {
            var response = await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            return new EventReader(response, await response.Content.ReadAsStreamAsync());
        }

        public async Task<(string Name, JsonElement Data)> NextEvent(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            string? name = null;
            string? data = null;
            while (true)
            {
                var line = await _reader.ReadLineAsync(cancel.Token) ?? throw new EndOfStreamException();
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line["data: ".Length..];
                }
                else if (line.Length == 0 && name is not null && data is not null)
                {
                    using var document = JsonDocument.Parse(data);
                    return (name, document.RootElement.Clone());
                }
            }
        }

        public async Task<string> NextComment(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            while (true)
            {
                var line = await _reader.ReadLineAsync(cancel.Token) ?? throw new EndOfStreamException();
                if (line.StartsWith(':'))
                {
                    return line;
                }
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
        }
    }
}
