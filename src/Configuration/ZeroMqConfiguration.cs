namespace RataDns.Configuration;

/// <summary>
/// The <c>ZeroMq</c> section: the monitor's PUB socket for reducers whose output is <c>zmq</c>. Endpoints are bound
/// (<c>"Bind": "tcp://127.0.0.1:5556"</c>, the default) or connected to an aggregator that binds
/// (<c>"Connect": ["tcp://agg:5557"]</c>); each a string or a list.
/// </summary>
public sealed record ZeroMqConfiguration
{
    public const string DefaultEndpoint = "tcp://127.0.0.1:5556";

    public IReadOnlyList<string> Endpoints { get; init; } = [DefaultEndpoint];

    /// <summary>True: bind the endpoints; false: connect to them.</summary>
    public bool Bind { get; init; } = true;

    /// <summary><c>Encoding</c>: <c>msgpack</c> (default) or <c>json</c>.</summary>
    public bool Json { get; init; }

    /// <summary>
    /// <c>State</c> (default true): each result carries its reducer's mergeable state, for aggregators to merge
    /// exactly; false sends exactly the Fievel envelope.
    /// </summary>
    public bool State { get; init; } = true;

    /// <summary><c>SendHighWatermark</c>: messages queued per subscriber before ZeroMQ drops (null: the publisher's default).</summary>
    public int? SendHighWatermark { get; init; }

    /// <summary><c>QueueCapacity</c>: results waiting for the socket's thread (a power of two; null: default).</summary>
    public int? QueueCapacity { get; init; }

    /// <summary><c>CurveSecretKeyFile</c> / <c>CurvePublicKeyFile</c>: the monitor's CurveZMQ key pair (<c>ratadns keygen</c>).</summary>
    public string? CurveSecretKeyFile { get; init; }

    public string? CurvePublicKeyFile { get; init; }

    /// <summary>
    /// <c>AllowedClientKeysFile</c>: client public keys allowed to subscribe (Z85, one a line); needs the CURVE key
    /// pair. With it the monitor publishes through the system libzmq, whose ZAP handler checks each client's key.
    /// </summary>
    public string? AllowedClientKeysFile { get; init; }
}
