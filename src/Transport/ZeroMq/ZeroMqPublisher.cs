using NetMQ;
using NetMQ.Sockets;
using RataDns.Transport.Publishing;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// Publishes window results on a ZeroMQ PUB socket as two-frame messages <c>[topic, payload]</c>: the topic is
/// <c>&lt;type&gt;/&lt;serverId&gt;</c> in UTF-8 (subscribers filter by prefix), the payload the envelope in MessagePack
/// or JSON. Any ZeroMQ subscriber (pyzmq, libzmq, NetMQ) can read it without RataDns code.
/// </summary>
/// <remarks>
/// <para>One dedicated thread owns the socket (ZeroMQ sockets are not thread-safe). <see cref="Publish"/> copies the
/// topic and the JSON into a preallocated slot of a bounded ring and wakes that thread; a full ring is a counted drop,
/// never a wait. The thread transcodes and sends with a zero timeout.</para>
/// <para>What is counted: <see cref="ChannelStatistics.Sent"/> = messages the socket accepted, <see
/// cref="ChannelStatistics.Dropped"/> = results refused by the full ring or by the socket. A PUB socket never reports
/// per-subscriber loss: when one subscriber's queue reaches <see cref="ZeroMqOptions.SendHighWatermark"/>, or when
/// nobody is subscribed, ZeroMQ discards the message for that subscriber silently and the send still succeeds (NetMQ
/// has no XPUB_NODROP). A subscriber that joins late misses what was published before it subscribed.</para>
/// <para>CurveZMQ: with a server key pair the socket is a CURVE server; clients must know its public key. NetMQ
/// 4.0.4.5 implements neither ZAP (RFC 27) nor an allowed-clients list, so clients cannot be restricted by their
/// keys; <see cref="ZeroMqOptions.AllowedClientKeysFile"/> is refused with <see cref="NotSupportedException"/>. <see
/// cref="Open"/> chooses <see cref="NativeZeroMqPublisher"/> (the system libzmq, which implements ZAP) for it.</para>
/// </remarks>
public sealed class ZeroMqPublisher : IResultChannel
{
    private readonly ZeroMqOptions _options;
    private readonly NetMQCertificate? _serverCertificate;
    private readonly ResultRing _ring;
    private readonly ManualResetEventSlim _started = new(false);
    private readonly Thread _thread;
    private readonly List<string> _endpoints = [];
    private readonly ZeroMqReconnector _unresolved;
    private Exception? _startFailure;

    /// <summary>Opens the socket on its own thread and binds or connects every endpoint.</summary>
    /// <exception cref="IOException">An endpoint could not be bound or connected, or a key file is unreadable or malformed.</exception>
    /// <exception cref="NotSupportedException"><see cref="ZeroMqOptions.AllowedClientKeysFile"/> is set (see <see cref="Open"/>).</exception>
    public ZeroMqPublisher(ZeroMqOptions options)
    {
        Validate(options);
        if (options.AllowedClientKeysFile is not null)
        {
            throw new NotSupportedException(
                "zmq: restricting CurveZMQ clients to allowed keys is not supported: NetMQ 4.0.4.5 implements neither ZAP nor an allowed-clients list, so any client knowing the server's public key could subscribe.");
        }

        _options = options;
        _unresolved = new ZeroMqReconnector(options.Warn);
        _serverCertificate = CurveKeyFiles.LoadServerCertificate(options.CurveServerSecretKeyFile, options.CurveServerPublicKeyFile);
        _ring = new ResultRing(options.QueueCapacity, Statistics);
        _thread = new Thread(Run) { Name = "zmq-publisher", IsBackground = true };
        _thread.Start();
        _started.Wait();
        if (_startFailure is not null)
        {
            _thread.Join();
            _ring.Dispose();
            _started.Dispose();
            throw _startFailure;
        }
    }

    /// <summary>
    /// The publisher these options need: the <see cref="NativeZeroMqPublisher"/> over the system libzmq for CurveZMQ,
    /// because libzmq reports handshakes (a subscriber without the key, or with another, is logged; NetMQ stays
    /// silent) and implements ZAP, which <see cref="ZeroMqOptions.AllowedClientKeysFile"/> needs; this NetMQ one
    /// otherwise, and for CurveZMQ without allowed keys when libzmq is absent (refused subscribers then go unlogged).
    /// </summary>
    /// <exception cref="IOException">As the chosen constructor; or libzmq.so.5 cannot be loaded when it is needed.</exception>
    public static IResultChannel Open(ZeroMqOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.AllowedClientKeysFile is not null)
        {
            return new NativeZeroMqPublisher(options);
        }

        if (options.CurveServerSecretKeyFile is null)
        {
            return new ZeroMqPublisher(options);
        }

        if (LibZmq.TryLoad(out string? reason))
        {
            return new NativeZeroMqPublisher(options);
        }

        options.Warn?.Invoke($"zmq: {reason}: CurveZMQ works over NetMQ, but subscribers it refuses are not logged (apt-get install libzmq5)");
        return new ZeroMqPublisher(options);
    }

    /// <summary>The endpoints as bound (a <c>tcp://host:*</c> endpoint shows its chosen port) or connected.</summary>
    public IReadOnlyList<string> Endpoints => _unresolved.Describe(_endpoints);

    public ChannelStatistics Statistics { get; } = new();

    public string Describe() =>
        $"zmq {(_options.Bind ? "bind" : "connect")} {string.Join(',', _options.Bind ? _endpoints : _options.Endpoints)} {(_options.Encoding == ZeroMqEncoding.MessagePack ? "msgpack" : "json")}{(_serverCertificate is null ? "" : " curve")}";

    /// <summary>Queues one result for the socket thread; false (and counted) when the queue is full or closed.</summary>
    /// <remarks>Never waits for the socket. Meant for one producer (the merger thread); a lock keeps others safe.</remarks>
    public bool Publish(in ResultEnvelope result) => _ring.TryEnqueue(result);

    /// <inheritdoc />
    public bool CarriesState => _options.State;

    /// <summary>Nothing to flush: every result is sent as soon as the socket thread takes it.</summary>
    public void EndOfWindow()
    {
    }

    /// <summary>Sends what is queued, then closes the socket (waiting at most <see cref="ZeroMqOptions.Linger"/> for it).</summary>
    public void Dispose()
    {
        if (!_ring.Stop())
        {
            return;
        }

        _thread.Join();
        _ring.Dispose();
        _started.Dispose();
    }

    /// <summary>The checks both publishers make before opening anything.</summary>
    internal static void Validate(ZeroMqOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one ZeroMQ endpoint is needed.", nameof(options));
        }

        if (options.QueueCapacity < 1 || (options.QueueCapacity & (options.QueueCapacity - 1)) != 0)
        {
            throw new ArgumentException($"QueueCapacity must be a power of two, not {options.QueueCapacity}.", nameof(options));
        }

        if (options.SendHighWatermark < 0)
        {
            throw new ArgumentException($"SendHighWatermark must be 0 (no limit) or more, not {options.SendHighWatermark}.", nameof(options));
        }
    }

    private void Run()
    {
        PublisherSocket socket;
        try
        {
            socket = OpenSocket();
        }
        catch (Exception e) when (e is NetMQException or IOException or ArgumentException)
        {
            _startFailure = new IOException($"zmq {(_options.Bind ? "bind" : "connect")} {string.Join(',', _options.Endpoints)}: {e.Message}", e);
            _started.Set();
            return;
        }

        _started.Set();
        using (socket)
        {
            var encoder = new ResultPayloadEncoder(_options.Encoding, _options.State);
            while (_ring.WaitForWork())
            {
                _unresolved.Retry(socket, _endpoints);
                while (_ring.TryPeek(out var slot))
                {
                    _options.BeforeSend?.Invoke();
                    try
                    {
                        Send(socket, slot, encoder);
                    }
                    catch (NetMQException)
                    {
                        // The socket failed (the NetMQ context is terminating): the result is lost, counted.
                        Statistics.CountError();
                        Statistics.CountDropped();
                    }

                    _ring.ReleaseHead();
                }
            }
        }
    }

    private PublisherSocket OpenSocket()
    {
        var socket = new PublisherSocket();
        try
        {
            socket.Options.SendHighWatermark = _options.SendHighWatermark;
            socket.Options.Linger = _options.Linger;
            if (_serverCertificate is not null)
            {
                socket.Options.CurveServer = true;
                socket.Options.CurveCertificate = _serverCertificate;
            }

            ZeroMqEndpoints.Attach(socket, _options.Endpoints, _options.Bind, _endpoints, _unresolved);

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Send(PublisherSocket socket, ResultSlot slot, ResultPayloadEncoder encoder)
    {
        if (!encoder.TryEncode(slot, out byte[] payload, out int length))
        {
            // A reducer wrote invalid JSON: a bug, but capture goes on; the result is lost and counted.
            Statistics.CountError();
            Statistics.CountDropped();
            return;
        }

        if (!socket.TrySendFrame(TimeSpan.Zero, slot.Topic, slot.TopicLength, more: true))
        {
            Statistics.CountDropped();
            return;
        }

        if (socket.TrySendFrame(TimeSpan.Zero, payload, length, more: false))
        {
            Statistics.CountSent();
        }
        else
        {
            // The topic frame went in and the payload could not: PUB sockets never refuse the rest of a message
            // they accepted the start of, so this is unexpected.
            Statistics.CountError();
            Statistics.CountDropped();
        }
    }
}
