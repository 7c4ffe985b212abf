using System.Runtime.InteropServices;
using RataDns.Transport.Publishing;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// The <see cref="ZeroMqPublisher"/>'s messages (<c>[topic, payload]</c>, same topic and encodings) sent through the
/// system libzmq (<c>libzmq.so.5</c>) instead of NetMQ, because libzmq implements ZAP (ZeroMQ's authentication
/// protocol, RFC 27): with <see cref="ZeroMqOptions.AllowedClientKeysFile"/> only CurveZMQ clients whose public key
/// is listed complete the handshake; any other client (unknown key, or no CURVE at all) receives nothing.
/// </summary>
/// <remarks>
/// <para>Threads: the PUB socket belongs to one socket thread, fed through the same bounded ring as <see
/// cref="ZeroMqPublisher"/> (<see cref="Publish"/> copies and never waits; a full ring is a counted drop). The ZAP
/// handler, a REP socket bound to <c>inproc://zeromq.zap.01</c> in the same libzmq context, belongs to a second
/// thread that blocks in <c>zmq_recv</c> and answers libzmq's authentication requests; it is bound before the PUB
/// socket, so no handshake can happen without it. Each socket is used by its own thread only.</para>
/// <para>What is counted is as for <see cref="ZeroMqPublisher"/>, plus handshakes allowed and denied (<see
/// cref="ClientsAllowed"/>, <see cref="ClientsDenied"/>).</para>
/// </remarks>
public sealed class NativeZeroMqPublisher : IResultChannel
{
    private const int ZapFrames = 7; // version, request id, domain, address, identity, mechanism, credentials (RFC 27)
    private const int ZapFrameBytes = 256;

    private readonly ZeroMqOptions _options;
    private readonly byte[]? _serverSecretKey;
    private readonly string? _serverPublicKey;
    private readonly ReportThrottle _warn;
    private ZeroMqSocketEvents? _events;
    private readonly IReadOnlyList<byte[]>? _allowedClients;
    private readonly ResultRing _ring;
    private readonly nint _context;
    private readonly ManualResetEventSlim _started = new(false);
    private readonly List<string> _endpoints = [];
    private readonly Thread _socketThread;
    private readonly Thread? _zapThread;
    private Exception? _startFailure;
    private long _clientsAllowed;
    private long _clientsDenied;

    /// <summary>Loads libzmq, starts the ZAP handler (with allowed client keys), opens the socket and binds or connects every endpoint.</summary>
    /// <exception cref="IOException">
    /// libzmq.so.5 cannot be loaded, an endpoint could not be bound or connected, a key file is unreadable or malformed,
    /// or allowed client keys are given without the server's secret key.
    /// </exception>
    public NativeZeroMqPublisher(ZeroMqOptions options)
    {
        ZeroMqPublisher.Validate(options);
        if (!LibZmq.TryLoad(out string? reason))
        {
            throw new IOException($"zmq: CurveZMQ client filtering needs the system libzmq (apt-get install libzmq5): {reason}.");
        }

        _options = options;
        var certificate = CurveKeyFiles.LoadServerCertificate(options.CurveServerSecretKeyFile, options.CurveServerPublicKeyFile);
        _serverSecretKey = certificate?.SecretKey;
        _serverPublicKey = certificate?.PublicKeyZ85;
        _warn = new ReportThrottle(options.Warn);
        if (options.AllowedClientKeysFile is not null)
        {
            if (_serverSecretKey is null)
            {
                throw new IOException($"{options.AllowedClientKeysFile}: allowed CurveZMQ client keys need the server's secret key file (CurveSecretKeyFile) too.");
            }

            _allowedClients = CurveKeyFiles.ReadAllowedClientKeys(options.AllowedClientKeysFile);
        }

        _ring = new ResultRing(options.QueueCapacity, Statistics);
        _context = LibZmq.ContextNew();
        if (_context == 0)
        {
            throw new IOException($"zmq: cannot create a libzmq context: {LibZmq.LastError()}");
        }

        _socketThread = new Thread(RunSocket) { Name = "zmq-publisher", IsBackground = true };
        if (_allowedClients is not null)
        {
            _zapThread = new Thread(RunZap) { Name = "zmq-zap", IsBackground = true };
            StartAndWait(_zapThread);
        }

        if (_startFailure is null)
        {
            StartAndWait(_socketThread);
        }

        if (_startFailure is not null)
        {
            if (_socketThread.IsAlive)
            {
                _socketThread.Join();
            }

            CloseContext();
            _ring.Dispose();
            _started.Dispose();
            throw _startFailure;
        }
    }

    /// <summary>The endpoints as bound (a <c>tcp://host:*</c> endpoint shows its chosen port) or connected.</summary>
    public IReadOnlyList<string> Endpoints => _endpoints;

    public ChannelStatistics Statistics { get; } = new();

    /// <summary>CurveZMQ handshakes the ZAP handler allowed (listed client keys).</summary>
    public long ClientsAllowed => Interlocked.Read(ref _clientsAllowed);

    /// <summary>Handshakes the ZAP handler denied (unknown key, another mechanism or a malformed request).</summary>
    public long ClientsDenied => Interlocked.Read(ref _clientsDenied);

    public string Describe() =>
        $"zmq {(_options.Bind ? "bind" : "connect")} {string.Join(',', _endpoints)} {(_options.Encoding == ZeroMqEncoding.MessagePack ? "msgpack" : "json")}{(_serverSecretKey is null ? "" : " curve")}{(_allowedClients is null ? "" : $" ({_allowedClients.Count} allowed client keys, libzmq)")}";

    /// <summary>Queues one result for the socket thread; false (and counted) when the queue is full or closed.</summary>
    /// <remarks>Never waits for the socket. Meant for one producer (the merger thread); a lock keeps others safe.</remarks>
    public bool Publish(in ResultEnvelope result) => _ring.TryEnqueue(result);

    /// <inheritdoc />
    public bool CarriesState => _options.State;

    /// <summary>Nothing to flush: every result is sent as soon as the socket thread takes it.</summary>
    public void EndOfWindow()
    {
    }

    /// <summary>Sends what is queued, closes the socket and ends the ZAP handler (waiting at most <see cref="ZeroMqOptions.Linger"/> for queued messages).</summary>
    public void Dispose()
    {
        if (!_ring.Stop())
        {
            return;
        }

        _socketThread.Join();
        CloseContext();
        _ring.Dispose();
        _started.Dispose();
    }

    private void StartAndWait(Thread thread)
    {
        _started.Reset();
        thread.Start();
        _started.Wait();
    }

    /// <summary>
    /// After the socket thread has closed its socket: <c>zmq_ctx_shutdown</c> ends the ZAP thread's blocking receive
    /// (ETERM), then <c>zmq_ctx_term</c> waits for the closed sockets' linger.
    /// </summary>
    private void CloseContext()
    {
        LibZmq.ContextShutdown(_context);
        _zapThread?.Join();
        _events?.Join();
        while (LibZmq.ContextTerm(_context) != 0 && Marshal.GetLastPInvokeError() == LibZmq.EIntr)
        {
        }
    }

    private void RunSocket()
    {
        nint socket = LibZmq.Socket(_context, LibZmq.Pub);
        string? failure = socket == 0 ? $"cannot create a PUB socket: {LibZmq.LastError()}" : Configure(socket);
        if (failure is not null)
        {
            if (socket != 0)
            {
                LibZmq.SetInt(socket, LibZmq.Linger, 0);
                LibZmq.Close(socket);
            }

            _startFailure = new IOException($"zmq {(_options.Bind ? "bind" : "connect")} {string.Join(',', _options.Endpoints)}: {failure}");
            _started.Set();
            return;
        }

        _started.Set();
        var encoder = new ResultPayloadEncoder(_options.Encoding, _options.State);
        while (_ring.WaitForWork())
        {
            while (_ring.TryPeek(out var slot))
            {
                _options.BeforeSend?.Invoke();
                Send(socket, slot, encoder);
                _ring.ReleaseHead();
            }
        }

        LibZmq.Close(socket);
    }

    /// <summary>Options, then every endpoint; the error message, or null when all went well.</summary>
    private string? Configure(nint socket)
    {
        int lingerMs = _options.Linger < TimeSpan.Zero ? -1 : (int)Math.Min(_options.Linger.TotalMilliseconds, int.MaxValue);
        if (LibZmq.SetInt(socket, LibZmq.SendHighWatermark, _options.SendHighWatermark) != 0
            || LibZmq.SetInt(socket, LibZmq.Linger, lingerMs) != 0)
        {
            return LibZmq.LastError();
        }

        if (_serverSecretKey is not null
            && (LibZmq.SetInt(socket, LibZmq.CurveServer, 1) != 0
                || LibZmq.SetBytes(socket, LibZmq.CurveSecretKey, _serverSecretKey) != 0
                || LibZmq.SetBytes(socket, LibZmq.ZapDomain, "ratadns"u8) != 0))
        {
            return $"CurveZMQ: {LibZmq.LastError()}";
        }

        if (_serverSecretKey is not null)
        {
            // Subscribers that fail the handshake (no key, another key) are otherwise silent on both sides.
            _events = ZeroMqSocketEvents.Watch(_context, socket, e => HandshakeMessages.Server(e, _warn, $"{_serverPublicKey}, its CurvePublicKeyFile"), out string? unwatched);
            if (_events is null)
            {
                _options.Warn?.Invoke($"zmq: connection events are not reported ({unwatched}); refused subscribers will go unnoticed");
            }
        }

        foreach (string endpoint in _options.Endpoints)
        {
            if (_options.Bind)
            {
                if (LibZmq.Bind(socket, endpoint) != 0)
                {
                    return $"{endpoint}: {LibZmq.LastError()}";
                }

                _endpoints.Add(LibZmq.LastBoundEndpoint(socket) ?? endpoint);
            }
            else
            {
                if (LibZmq.Connect(socket, endpoint) != 0)
                {
                    return $"{endpoint}: {LibZmq.LastError()}";
                }

                if (ZeroMqEndpoints.UnresolvedName(endpoint) is { } unresolved)
                {
                    _options.Warn?.Invoke($"zmq connect {endpoint}: {unresolved}; libzmq keeps trying while results go on");
                }

                _endpoints.Add(endpoint);
            }
        }

        return null;
    }

    private void Send(nint socket, ResultSlot slot, ResultPayloadEncoder encoder)
    {
        if (!encoder.TryEncode(slot, out byte[] payload, out int length))
        {
            // A reducer wrote invalid JSON: a bug, but capture goes on; the result is lost and counted.
            Statistics.CountError();
            Statistics.CountDropped();
            return;
        }

        if (LibZmq.Send(socket, slot.Topic.AsSpan(0, slot.TopicLength), (nuint)slot.TopicLength, LibZmq.DontWait | LibZmq.SendMore) < 0)
        {
            // EAGAIN: the socket cannot queue now (a full pipe); anything else is a failure of the socket.
            if (Marshal.GetLastPInvokeError() != LibZmq.EAgain)
            {
                Statistics.CountError();
            }

            Statistics.CountDropped();
            return;
        }

        if (LibZmq.Send(socket, payload.AsSpan(0, length), (nuint)length, LibZmq.DontWait) >= 0)
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

    private void RunZap()
    {
        nint socket = LibZmq.Socket(_context, LibZmq.Rep);
        if (socket == 0 || LibZmq.SetInt(socket, LibZmq.Linger, 0) != 0 || LibZmq.Bind(socket, LibZmq.ZapEndpoint) != 0)
        {
            _startFailure = new IOException($"zmq: cannot start the ZAP handler on {LibZmq.ZapEndpoint}: {LibZmq.LastError()}");
            if (socket != 0)
            {
                LibZmq.Close(socket);
            }

            _started.Set();
            return;
        }

        _started.Set();
        ServeZap(socket);
        LibZmq.Close(socket);
    }

    /// <summary>
    /// Answers ZAP requests (RFC 27) until the context shuts down. A request is
    /// <c>[version "1.0", request id, domain, address, identity, mechanism, credentials...]</c>; for CURVE the one
    /// credential is the client's 32-byte public key. The reply is <c>[version, request id, status code, status text,
    /// user id, metadata]</c>, 200 for a listed key and 400 for anything else.
    /// </summary>
    private void ServeZap(nint socket)
    {
        var frames = new byte[ZapFrames][];
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = new byte[ZapFrameBytes];
        }

        var lengths = new int[ZapFrames];
        byte[] extra = new byte[ZapFrameBytes];
        while (true)
        {
            int count = 0;
            bool truncated = false;
            while (true)
            {
                Span<byte> buffer = count < ZapFrames ? frames[count] : extra;
                int n = LibZmq.Receive(socket, buffer, (nuint)buffer.Length, 0);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibZmq.EIntr)
                    {
                        continue;
                    }

                    return; // ETERM: the publisher is closing (any other error leaves no usable socket either)
                }

                if (count < ZapFrames)
                {
                    lengths[count] = n;
                    truncated |= n > buffer.Length;
                }

                count++;
                if (!LibZmq.HasMore(socket))
                {
                    break;
                }
            }

            bool allowed = !truncated && count == ZapFrames
                && frames[0].AsSpan(0, lengths[0]).SequenceEqual("1.0"u8)
                && frames[5].AsSpan(0, lengths[5]).SequenceEqual("CURVE"u8)
                && lengths[6] == 32
                && IsAllowed(frames[6].AsSpan(0, 32));
            Interlocked.Increment(ref allowed ? ref _clientsAllowed : ref _clientsDenied);
            if (!allowed)
            {
                ReportDenied(frames, lengths, count);
            }

            ReadOnlySpan<byte> requestId = frames[1].AsSpan(0, count > 1 ? Math.Min(lengths[1], ZapFrameBytes) : 0);
            if (!SendFrame(socket, "1.0"u8, more: true)
                || !SendFrame(socket, requestId, more: true)
                || !SendFrame(socket, allowed ? "200"u8 : "400"u8, more: true)
                || !SendFrame(socket, allowed ? "OK"u8 : "client key not allowed"u8, more: true)
                || !SendFrame(socket, ""u8, more: true)
                || !SendFrame(socket, ""u8, more: false))
            {
                return;
            }
        }
    }

    /// <summary>One line for a refused subscriber: its address and the key it offered, which the operator may want to list.</summary>
    private void ReportDenied(byte[][] frames, int[] lengths, int count)
    {
        string address = count > 3 ? System.Text.Encoding.UTF8.GetString(frames[3], 0, Math.Min(lengths[3], ZapFrameBytes)) : "?";
        string key = count == ZapFrames && lengths[6] == 32 ? CurveKeyFiles.EncodeZ85(frames[6].AsSpan(0, 32)) : "(none)";
        _warn.Report(
            "denied " + key + " " + address,
            $"zmq: a subscriber at {address} was refused: its CurveZMQ key {key} is not in AllowedClientKeysFile {_options.AllowedClientKeysFile}");
    }

    private bool IsAllowed(ReadOnlySpan<byte> clientKey)
    {
        // A handful of keys, listed by the operator: a scan is enough (and public keys are not secret).
        foreach (byte[] key in _allowedClients!)
        {
            if (clientKey.SequenceEqual(key))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SendFrame(nint socket, ReadOnlySpan<byte> frame, bool more)
    {
        while (LibZmq.Send(socket, frame, (nuint)frame.Length, more ? LibZmq.SendMore : 0) < 0)
        {
            if (Marshal.GetLastPInvokeError() != LibZmq.EIntr)
            {
                return false;
            }
        }

        return true;
    }
}
