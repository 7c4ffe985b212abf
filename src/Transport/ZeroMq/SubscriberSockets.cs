using System.Runtime.InteropServices;
using NetMQ;
using NetMQ.Sockets;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// The CurveZMQ keys of a subscriber, the client side of CurveZMQ: its own key pair, and the public key of each
/// monitor (server) it connects to, or one for all.
/// </summary>
public sealed record CurveClientKeys
{
    /// <summary>This client's secret key (32 bytes).</summary>
    public required byte[] SecretKey { get; init; }

    /// <summary>This client's public key (32 bytes), what a monitor's AllowedClientKeysFile lists.</summary>
    public required byte[] PublicKey { get; init; }

    /// <summary>The server public key of each endpoint given one (as the endpoint is written).</summary>
    public IReadOnlyDictionary<string, byte[]> ServerKeys { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>The server public key of every other endpoint; null: those endpoints use no CurveZMQ.</summary>
    public byte[]? DefaultServerKey { get; init; }

    /// <summary>The public key as its .pub file holds it (Z85).</summary>
    public string PublicKeyZ85 => CurveKeyFiles.EncodeZ85(PublicKey);

    /// <summary>The server key for <paramref name="endpoint"/>, or null: no CurveZMQ there.</summary>
    public byte[]? ServerKeyFor(string endpoint) => ServerKeys.TryGetValue(endpoint, out byte[]? key) ? key : DefaultServerKey;

    /// <summary>A key pair from its secret key file (<c>ratadns keygen</c>), or a new one for this run when the path is null.</summary>
    public static (byte[] Secret, byte[] Public) LoadOrCreateKeyPair(string? secretKeyFile, string option)
    {
        var certificate = secretKeyFile is null
            ? new NetMQCertificate()
            : NetMQCertificate.CreateFromSecretKey(CurveKeyFiles.ReadKey(secretKeyFile, option));
        return (certificate.SecretKey!, certificate.PublicKey);
    }
}

/// <summary>Where a subscriber connects (or binds), what it subscribes to and how it reports.</summary>
public sealed record SubscriberSocketOptions
{
    public IReadOnlyList<string> Endpoints { get; init; } = [ZeroMqOptions.DefaultEndpoint];

    /// <summary>True: bind the endpoints (monitors connect); false: connect to each.</summary>
    public bool Bind { get; init; }

    /// <summary>Topic prefixes; <c>""</c> is everything.</summary>
    public IReadOnlyList<string> Topics { get; init; } = [""];

    public int ReceiveHighWatermark { get; init; } = 100_000;

    /// <summary>CurveZMQ client keys, or null (no CurveZMQ).</summary>
    public CurveClientKeys? Curve { get; init; }

    /// <summary>Problems: a name that does not resolve, a handshake a monitor refused, a connection lost.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>News worth a line: a monitor connected.</summary>
    public Action<string>? Info { get; init; }
}

/// <summary>A SUB socket of either library, used by the one thread that created it.</summary>
public interface ISubscriberSocket : IDisposable
{
    /// <summary>The endpoints bound (a <c>tcp://host:*</c> shows its port) or connected, and those waiting for their name.</summary>
    IReadOnlyList<string> Endpoints { get; }

    /// <summary>Which library carries the socket, for the log.</summary>
    string Library { get; }

    /// <summary>One frame, or false when none came within <paramref name="timeout"/>.</summary>
    /// <exception cref="TerminatingException">The NetMQ context ended (NetMQConfig.Cleanup in this process).</exception>
    bool TryReceiveFrame(TimeSpan timeout, out byte[] frame, out bool more);

    /// <summary>Connects the endpoints whose host names resolve now (each is tried after 1 s, then up to every minute).</summary>
    void Retry();
}

/// <summary>Opens the subscriber socket these options need.</summary>
public static class SubscriberSockets
{
    /// <summary>
    /// Over the system libzmq when it loads, because libzmq reports handshakes (a monitor that refused this
    /// subscriber's CurveZMQ key, or wants one) where NetMQ stays silent; over NetMQ otherwise. CurveZMQ keys need libzmq.
    /// </summary>
    /// <exception cref="ArgumentException">An endpoint is not of the form <c>tcp://HOST:PORT</c>.</exception>
    /// <exception cref="IOException">An endpoint cannot be bound, or CurveZMQ keys are given and libzmq is absent.</exception>
    public static ISubscriberSocket Open(SubscriberSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (string endpoint in options.Endpoints)
        {
            if (ZeroMqEndpoints.Problem(endpoint, options.Bind) is { } problem)
            {
                throw new ArgumentException(problem);
            }
        }

        if (LibZmq.TryLoad(out string? reason))
        {
            return new NativeSubscriberSocket(options);
        }

        if (options.Curve is not null)
        {
            throw new IOException($"zmq: CurveZMQ keys on the subscriber need the system libzmq (apt-get install libzmq5): {reason}.");
        }

        return new NetMqSubscriberSocket(options);
    }
}

/// <summary>The subscriber over NetMQ (no handshake reports: NetMQ has none).</summary>
internal sealed class NetMqSubscriberSocket : ISubscriberSocket
{
    private readonly SubscriberSocket _socket = new();
    private readonly List<string> _endpoints = [];
    private readonly ZeroMqReconnector _unresolved;

    public NetMqSubscriberSocket(SubscriberSocketOptions options)
    {
        _unresolved = new ZeroMqReconnector(options.Warn);
        try
        {
            _socket.Options.Linger = TimeSpan.Zero;
            _socket.Options.ReceiveHighWatermark = options.ReceiveHighWatermark;
            foreach (string topic in options.Topics)
            {
                _socket.Subscribe(topic);
            }

            ZeroMqEndpoints.Attach(_socket, options.Endpoints, options.Bind, _endpoints, _unresolved);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    public IReadOnlyList<string> Endpoints => _unresolved.Describe(_endpoints);

    public string Library => "NetMQ";

    public bool TryReceiveFrame(TimeSpan timeout, out byte[] frame, out bool more) =>
        _socket.TryReceiveFrameBytes(timeout, out frame!, out more);

    public void Retry() => _unresolved.Retry(_socket, _endpoints);

    public void Dispose() => _socket.Dispose();
}

/// <summary>
/// The subscriber over the system libzmq, with CurveZMQ client keys (a server key per endpoint) and its connection
/// events watched: a monitor that refuses the handshake, or wants CurveZMQ that was not configured, is one warning
/// (then at most one a minute) instead of silence. Its context, socket and event thread are its own.
/// </summary>
internal sealed class NativeSubscriberSocket : ISubscriberSocket
{
    private const int ReconnectIntervalMax = 21; // ZMQ_RECONNECT_IVL_MAX: back off up to this many ms between tries

    private readonly SubscriberSocketOptions _options;
    private readonly nint _context;
    private readonly nint _socket;
    private readonly List<string> _endpoints = [];
    private readonly ZeroMqReconnector _unresolved;
    private readonly ZeroMqSocketEvents? _events;
    private int _timeoutMs = -2;
    private bool _disposed;

    public NativeSubscriberSocket(SubscriberSocketOptions options)
    {
        _options = options;
        _unresolved = new ZeroMqReconnector(options.Warn);
        _context = LibZmq.ContextNew();
        if (_context == 0)
        {
            throw new IOException($"zmq: cannot create a libzmq context: {LibZmq.LastError()}");
        }

        _socket = LibZmq.Socket(_context, LibZmq.Sub);
        string? failure = _socket == 0 ? $"cannot create a SUB socket: {LibZmq.LastError()}" : Configure(out _events);
        if (failure is not null)
        {
            Close();
            throw new IOException(failure);
        }
    }

    public IReadOnlyList<string> Endpoints => _unresolved.Describe(_endpoints);

    public string Library => "libzmq";

    public bool TryReceiveFrame(TimeSpan timeout, out byte[] frame, out bool more)
    {
        int ms = (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        if (ms != _timeoutMs)
        {
            LibZmq.SetInt(_socket, LibZmq.ReceiveTimeout, ms);
            _timeoutMs = ms;
        }

        return LibZmq.TryReceiveFrame(_socket, out frame, out more, out _);
    }

    public void Retry() => _unresolved.Retry(Connect, _endpoints);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Close();
    }

    private void Close()
    {
        if (_socket != 0)
        {
            LibZmq.SetInt(_socket, LibZmq.Linger, 0);
            LibZmq.Close(_socket);
        }

        LibZmq.ContextShutdown(_context);
        _events?.Join();
        while (LibZmq.ContextTerm(_context) != 0 && Marshal.GetLastPInvokeError() == LibZmq.EIntr)
        {
        }
    }

    private string? Configure(out ZeroMqSocketEvents? events)
    {
        events = null;
        if (LibZmq.SetInt(_socket, LibZmq.Linger, 0) != 0
            || LibZmq.SetInt(_socket, LibZmq.ReceiveHighWatermark, _options.ReceiveHighWatermark) != 0
            || LibZmq.SetInt(_socket, ReconnectIntervalMax, 5000) != 0)
        {
            return LibZmq.LastError();
        }

        foreach (string topic in _options.Topics)
        {
            if (LibZmq.SetBytes(_socket, LibZmq.Subscribe, System.Text.Encoding.UTF8.GetBytes(topic)) != 0)
            {
                return $"subscribe '{topic}': {LibZmq.LastError()}";
            }
        }

        if (_options.Curve is { } curve
            && (LibZmq.SetBytes(_socket, LibZmq.CurvePublicKey, curve.PublicKey) != 0
                || LibZmq.SetBytes(_socket, LibZmq.CurveSecretKey, curve.SecretKey) != 0))
        {
            return $"CurveZMQ: {LibZmq.LastError()}";
        }

        var warn = new ReportThrottle(_options.Warn);
        var connected = new HashSet<string>(StringComparer.Ordinal);
        events = ZeroMqSocketEvents.Watch(
            _context,
            _socket,
            e => HandshakeMessages.Client(e, warn, _options.Info, UsesCurve, _options.Curve?.PublicKeyZ85, connected),
            out string? unwatched);
        if (events is null)
        {
            _options.Warn?.Invoke($"zmq: connection events are not reported ({unwatched}); a refused handshake will go unnoticed");
        }

        foreach (string endpoint in _options.Endpoints)
        {
            if (_options.Bind)
            {
                if (!SetServerKey(endpoint) || LibZmq.Bind(_socket, endpoint) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    return $"zmq bind {endpoint}: {(errno == 98 ? "the address is already in use (another ratadns, or another program, listens there)" : LibZmq.Describe(errno))}";
                }

                _endpoints.Add(LibZmq.LastBoundEndpoint(_socket) ?? endpoint);
            }
            else if (Connect(endpoint) is { } problem)
            {
                if (!problem.StartsWith("the host name", StringComparison.Ordinal))
                {
                    return $"zmq connect {endpoint}: {problem}";
                }

                _unresolved.Add(endpoint, problem);
            }
            else
            {
                _endpoints.Add(endpoint);
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="endpoint"/> (as libzmq names it in events) uses CurveZMQ; null when that cannot be told.</summary>
    private bool? UsesCurve(string endpoint)
    {
        if (_options.Curve is not { } curve)
        {
            return false;
        }

        if (_options.Endpoints.Contains(endpoint))
        {
            return curve.ServerKeyFor(endpoint) is not null;
        }

        // libzmq may name a connection by its resolved address: clear only when every endpoint agrees.
        var uses = _options.Endpoints.Select(e => curve.ServerKeyFor(e) is not null).Distinct().ToArray();
        return uses.Length == 1 ? uses[0] : null;
    }

    /// <summary>
    /// Sets the mechanism of the connections made next: CurveZMQ with the endpoint's server key, or none (libzmq's
    /// ZMQ_CURVE_SERVER = 0 resets it), so monitors with and without CurveZMQ can be read by one socket.
    /// </summary>
    private bool SetServerKey(string endpoint)
    {
        if (_options.Curve is null)
        {
            return true;
        }

        return _options.Curve.ServerKeyFor(endpoint) is { } key
            ? LibZmq.SetBytes(_socket, LibZmq.CurveServerKey, key) == 0
            : LibZmq.SetInt(_socket, LibZmq.CurveServer, 0) == 0;
    }

    /// <summary>Connects one endpoint with its server key; null, or why not (a name that does not resolve yet).</summary>
    private string? Connect(string endpoint)
    {
        if (ZeroMqEndpoints.UnresolvedName(endpoint) is { } unresolved)
        {
            return unresolved;
        }

        // ZMQ_CURVE_SERVERKEY applies to the connections made after it is set: each endpoint gets its own.
        return SetServerKey(endpoint) && LibZmq.Connect(_socket, endpoint) == 0 ? null : LibZmq.LastError();
    }
}
