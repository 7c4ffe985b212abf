using System.Net;
using System.Net.Sockets;
using RataDns.Capture.Live;
using RataDns.Engine;

namespace RataDns.App.Operations;

/// <summary>What <c>ratadns monitor</c> offers to whoever operates it, beyond its results.</summary>
internal sealed record OperationsOptions
{
    /// <summary><c>--metrics</c>: where to serve <c>/metrics</c>; null: no endpoint.</summary>
    public IPEndPoint? MetricsEndpoint { get; init; }

    /// <summary><c>--metrics-linger</c>: how long the endpoint stays up once the input has ended.</summary>
    public TimeSpan MetricsLinger { get; init; }

    /// <summary><c>--status-interval</c>: null for the default (off for files, <see cref="DefaultLiveStatusInterval"/> live); zero: off.</summary>
    public TimeSpan? StatusInterval { get; init; }

    /// <summary>The status interval of a live capture when none is given.</summary>
    public static TimeSpan DefaultLiveStatusInterval => TimeSpan.FromSeconds(60);

    /// <summary>Reads <c>--metrics</c>, <c>--metrics-linger</c> and <c>--status-interval</c>; throws <see cref="ArgumentException"/> with the reason.</summary>
    public static OperationsOptions Parse(string? metrics, string? linger, string? status)
    {
        IPEndPoint? endpoint = null;
        string reason;
        if (metrics is not null && !Operations.MetricsEndpoint.TryParseAddress(metrics, out endpoint, out reason))
        {
            throw new ArgumentException($"--metrics {metrics}: {reason}");
        }

        TimeSpan lingerSpan = TimeSpan.Zero;
        if (linger is not null && !OperationSpan.TryParse(linger, out lingerSpan, out reason))
        {
            throw new ArgumentException($"--metrics-linger {linger}: {reason}");
        }

        TimeSpan? statusSpan = null;
        if (status is not null)
        {
            if (!OperationSpan.TryParse(status, out var span, out reason))
            {
                throw new ArgumentException($"--status-interval {status}: {reason}");
            }

            statusSpan = span;
        }

        return new OperationsOptions { MetricsEndpoint = endpoint, MetricsLinger = lingerSpan, StatusInterval = statusSpan };
    }
}

/// <summary>
/// The monitor's operations side for one run: the metrics endpoint (bound before anything else starts, so an
/// address in use stops the run before capture) and the status line (started with the engine).
/// </summary>
internal sealed class MonitorOperations : IDisposable
{
    private readonly OperationsOptions _options;
    private readonly TextWriter _log;
    private readonly MetricsEndpoint? _endpoint;
    private StatusReporter? _status;
    private Timer? _noDnsCheck;
    private TextWriter? _warnings;

    private MonitorOperations(OperationsOptions options, TextWriter log, MonitorMetrics metrics, MetricsEndpoint? endpoint)
    {
        _options = options;
        Metrics = metrics;
        _log = log;
        _endpoint = endpoint;
    }

    /// <summary>The metrics every part reports into.</summary>
    public MonitorMetrics Metrics { get; }

    /// <summary>
    /// Binds the metrics endpoint when one is asked for; returns null and says why in <paramref name="error"/> when
    /// it cannot be bound.
    /// </summary>
    public static MonitorOperations? Start(OperationsOptions options, TextWriter log, out string? error, TextWriter? warnings = null)
    {
        var operations = StartCore(options, log, out error);
        if (operations is not null)
        {
            operations._warnings = warnings ?? log;
        }

        return operations;
    }

    private static MonitorOperations? StartCore(OperationsOptions options, TextWriter log, out string? error)
    {
        error = null;

        var metrics = new MonitorMetrics();
        if (options.MetricsEndpoint is not { } address)
        {
            return new MonitorOperations(options, log, metrics, null);
        }

        try
        {
            var endpoint = MetricsEndpoint.Start(address, metrics.Render);
            log.WriteLine($"metrics on {endpoint.Url}");
            return new MonitorOperations(options, log, metrics, endpoint);
        }
        catch (SocketException e)
        {
            error = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"--metrics {address}: the address is already in use (another ratadns or exporter?)."
                : $"--metrics {address}: cannot listen there: {e.Message}";
            return null;
        }
    }

    /// <summary>Whether a metrics endpoint serves (and so DNS statistics are worth making).</summary>
    public bool ServesMetrics => _endpoint is not null;

    /// <summary>Whether anything reads the malformed counters (the engine then walks every message).</summary>
    public bool CountsMalformed => _endpoint is not null || _options.StatusInterval is { } s && s > TimeSpan.Zero;

    /// <summary>How long a live capture may see frames and no DNS message before the monitor says why that may be.</summary>
    public static TimeSpan NoDnsWarningAfter { get; } = TimeSpan.FromSeconds(10);

    /// <summary>The engine has started: metrics follow it; the status line starts. <paramref name="dnsPorts"/> (live
    /// capture): the ports named in the warning given once if frames arrive and none is DNS. <paramref name="liveSource"/>:
    /// a source that runs until stopped without libpcap's counters (a dnstap socket) gets the live status line too.</summary>
    public void Started(MonitorEngine engine, Func<LiveCaptureStatistics>? live, IReadOnlyList<int>? dnsPorts = null, bool liveSource = false)
    {
        Metrics.Attach(engine, live);
        if (live is not null && dnsPorts is not null)
        {
            _noDnsCheck = new Timer(_ => WarnIfNoDns(dnsPorts), null, NoDnsWarningAfter, Timeout.InfiniteTimeSpan);
        }

        var interval = _options.StatusInterval ?? (live is not null || liveSource ? OperationsOptions.DefaultLiveStatusInterval : TimeSpan.Zero);
        if (interval > TimeSpan.Zero)
        {
            _status = new StatusReporter(Metrics, _log, interval);
        }
    }

    private void WarnIfNoDns(IReadOnlyList<int> ports)
    {
        var sample = Metrics.Sample();
        if (sample.Frames > 0 && sample.DnsMessages == 0)
        {
            (_warnings ?? _log).WriteLine(
                $"{sample.Frames} frames captured in {NoDnsWarningAfter.TotalSeconds:0} s and no DNS message on port{(ports.Count == 1 ? "" : "s")} {string.Join(", ", ports)}: "
                + "if the server answers on another port, name it with --port (Ports in the configuration); the capture filter lets those frames through.");
        }
    }

    /// <summary>The input has ended and every window is written.</summary>
    public void InputEnded()
    {
        _noDnsCheck?.Dispose();
        _status?.Dispose();
        _status = null;
        Metrics.InputEnded();
    }

    /// <summary>With <c>--metrics-linger</c>: keeps serving the final metrics until the span has passed or the run is interrupted.</summary>
    public void Linger(CancellationToken cancellation)
    {
        if (_endpoint is null || _options.MetricsLinger <= TimeSpan.Zero || cancellation.IsCancellationRequested)
        {
            return;
        }

        _log.WriteLine($"input ended; serving the final metrics on {_endpoint.Url} for {_options.MetricsLinger.TotalSeconds:0.###} s (SIGTERM ends it)");
        cancellation.WaitHandle.WaitOne(_options.MetricsLinger);
    }

    public void Dispose()
    {
        _noDnsCheck?.Dispose();
        _status?.Dispose();
        _endpoint?.Dispose();
    }
}
