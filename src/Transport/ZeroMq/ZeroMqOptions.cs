namespace RataDns.Transport.ZeroMq;

/// <summary>How a result's payload frame is encoded.</summary>
public enum ZeroMqEncoding
{
    /// <summary>The JSON envelope transcoded to MessagePack (same string-keyed structure).</summary>
    MessagePack,

    /// <summary>The JSON envelope bytes as they are (UTF-8, no newline).</summary>
    Json,
}

/// <summary>Settings of a <see cref="ZeroMqPublisher"/> or a <see cref="NativeZeroMqPublisher"/>.</summary>
public sealed record ZeroMqOptions
{
    public const string DefaultEndpoint = "tcp://127.0.0.1:5556";

    /// <summary>ZeroMQ endpoints (<c>tcp://host:port</c>, <c>ipc://path</c>); all bound, or all connected.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [DefaultEndpoint];

    /// <summary>True: bind (subscribers connect to the monitor); false: connect (the aggregator binds).</summary>
    public bool Bind { get; init; } = true;

    public ZeroMqEncoding Encoding { get; init; } = ZeroMqEncoding.MessagePack;

    /// <summary>
    /// Each result carries its reducer's mergeable state as the envelope's <c>"state"</c> member (MessagePack bin, or
    /// base64 text in JSON), so aggregators merge windows and monitors exactly (docs/wire-format.md). False: exactly the
    /// Fievel envelope.
    /// </summary>
    public bool State { get; init; } = true;

    /// <summary>
    /// Messages queued per subscriber before the socket drops further messages to that subscriber (ZeroMQ's SNDHWM;
    /// the library's default of 1000 silently drops bursts of window results).
    /// </summary>
    public int SendHighWatermark { get; init; } = 10_000;

    /// <summary>Results waiting for the socket thread (a power of two); a full queue drops and counts. Each slot holds 2 kB inline; larger envelopes borrow pooled buffers until sent.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>How long messages still queued in the socket may take to leave when the publisher is disposed.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where problems on the way are reported (a connect endpoint whose name does not resolve yet), one line each.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>CurveZMQ: the monitor's secret key, Z85 text (40 characters) as <c>ratadns keygen</c> writes it.</summary>
    public string? CurveServerSecretKeyFile { get; init; }

    /// <summary>CurveZMQ: the monitor's public key (Z85); optional, checked against the secret key when given.</summary>
    public string? CurveServerPublicKeyFile { get; init; }

    /// <summary>
    /// CurveZMQ client public keys allowed to subscribe (Z85, one a line, <c>#</c> comment lines; needs the server's
    /// secret key). NetMQ 4.0.4.5 (the latest release) has no ZAP (ZeroMQ's authentication protocol, RFC 27), so
    /// <see cref="ZeroMqPublisher"/> refuses this; <see cref="ZeroMqPublisher.Open"/> then opens a <see
    /// cref="NativeZeroMqPublisher"/> over the system libzmq, whose ZAP handler admits only the listed keys.
    /// </summary>
    public string? AllowedClientKeysFile { get; init; }

    /// <summary>
    /// Tests only (not configurable): runs on the socket thread before each queued result is sent. A test holds the
    /// thread here to show, without measuring time, that <c>Publish</c> never waits for it (a full queue drops).
    /// </summary>
    internal Action? BeforeSend { get; init; }
}
