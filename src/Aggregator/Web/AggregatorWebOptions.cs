using Microsoft.Extensions.Logging;

namespace RataDns.Aggregator.Web;

/// <summary>How <see cref="AggregatorWeb.Build"/> sets up the HTTP API and the dashboard.</summary>
public sealed class AggregatorWebOptions
{
    /// <summary>The address the API listens on when none is given: loopback only, as the API has no authentication.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8053";

    /// <summary>Kestrel's listen addresses. A port of 0 takes a free port; read it with <see cref="AggregatorWeb.BoundAddresses"/>.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>The shortest time between two <c>update</c> events to one client: updates in between are coalesced.</summary>
    public TimeSpan UpdateInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>An idle event stream gets a comment line this often, so proxies and browsers keep it open.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>What <c>/api/history</c> returns when the request names no <c>from</c>.</summary>
    public TimeSpan DefaultHistory { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>ASP.NET Core's own log lines below this level are not written.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;

    /// <summary>
    /// The clock behind <c>/api/history</c>'s default range when no window has been received, and behind the event
    /// stream's <see cref="UpdateInterval"/> and <see cref="KeepAliveInterval"/> (tests give one they move by hand).
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where ASP.NET Core's own log lines (at <see cref="MinimumLogLevel"/> and above) go, one line each; nowhere when null.</summary>
    public Action<LogLevel, string>? Log { get; init; }

    /// <summary>What <c>GET /metrics</c> serves (Prometheus text format); no such path when null.</summary>
    public Prometheus.CollectorRegistry? Metrics { get; init; }

    /// <summary>Loopback on a free port: for tests and for tools that read the address back.</summary>
    public static AggregatorWebOptions EphemeralLoopback() => new() { Urls = ["http://127.0.0.1:0"] };
}
