using System.Buffers;
using NetMQ;
using NetMQ.Sockets;
using RataDns.Transport.Encoding;
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
/// keys; <see cref="ZeroMqOptions.AllowedClientKeysFile"/> is refused with <see cref="NotSupportedException"/>.</para>
/// </remarks>
public sealed class ZeroMqPublisher : IResultChannel
{
    private readonly ZeroMqOptions _options;
    private readonly NetMQCertificate? _serverCertificate;
    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly Lock _produce = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly ManualResetEventSlim _started = new(false);
    private readonly Thread _thread;
    private readonly List<string> _endpoints = [];
    private Exception? _startFailure;

    // _tail is written by the producer (under _produce), _head by the socket thread. Each side publishes its index
    // after the slot work is done (release) and reads the other's with Volatile.Read (acquire),
    // so a slot is never read before it is filled nor refilled before it is sent.
    private long _tail;
    private long _head;
    private bool _stopping;
    private bool _disposed;

    // 1 while the socket thread is about to sleep or sleeping: only then does a producer set _wake, so in a burst
    // (socket thread busy) Publish touches no lock but its own. Dekker pattern: each side writes its flag with a
    // full fence (Interlocked) before reading the other's, so either the producer sees 1 and wakes the thread or
    // the thread sees the new tail and does not sleep.
    private int _sleeping;

    /// <summary>Opens the socket on its own thread and binds or connects every endpoint.</summary>
    /// <exception cref="IOException">An endpoint could not be bound or connected, or a key file is unreadable or malformed.</exception>
    /// <exception cref="NotSupportedException"><see cref="ZeroMqOptions.AllowedClientKeysFile"/> is set.</exception>
    public ZeroMqPublisher(ZeroMqOptions options)
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

        if (options.AllowedClientKeysFile is not null)
        {
            throw new NotSupportedException(
                "zmq: restricting CurveZMQ clients to allowed keys is not supported: NetMQ 4.0.4.5 implements neither ZAP nor an allowed-clients list, so any client knowing the server's public key could subscribe.");
        }

        _options = options;
        _serverCertificate = CurveKeyFiles.LoadServerCertificate(options.CurveServerSecretKeyFile, options.CurveServerPublicKeyFile);
        _slots = new Slot[options.QueueCapacity];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot();
        }

        _mask = options.QueueCapacity - 1;
        _thread = new Thread(Run) { Name = "zmq-publisher", IsBackground = true };
        _thread.Start();
        _started.Wait();
        if (_startFailure is not null)
        {
            _thread.Join();
            _wake.Dispose();
            _started.Dispose();
            throw _startFailure;
        }
    }

    /// <summary>The endpoints as bound (a <c>tcp://host:*</c> endpoint shows its chosen port) or connected.</summary>
    public IReadOnlyList<string> Endpoints => _endpoints;

    public ChannelStatistics Statistics { get; } = new();

    public string Describe() =>
        $"zmq {(_options.Bind ? "bind" : "connect")} {string.Join(',', _endpoints)} {(_options.Encoding == ZeroMqEncoding.MessagePack ? "msgpack" : "json")}{(_serverCertificate is null ? "" : " curve")}";

    /// <summary>Queues one result for the socket thread; false (and counted) when the queue is full or closed.</summary>
    /// <remarks>Never waits for the socket. Meant for one producer (the merger thread); a lock keeps others safe.</remarks>
    public bool Publish(in ResultEnvelope result)
    {
        lock (_produce)
        {
            long tail = _tail;
            if (_stopping || tail - Volatile.Read(ref _head) >= _slots.Length)
            {
                Statistics.CountDropped();
                return false;
            }

            _slots[tail & _mask].Fill(result.Type, result.ServerId, result.Json);
            Interlocked.Exchange(ref _tail, tail + 1); // release the slot, and a full fence before reading _sleeping
        }

        if (Volatile.Read(ref _sleeping) != 0)
        {
            _wake.Set();
        }

        return true;
    }

    /// <summary>Nothing to flush: every result is sent as soon as the socket thread takes it.</summary>
    public void EndOfWindow()
    {
    }

    /// <summary>Sends what is queued, then closes the socket (waiting at most <see cref="ZeroMqOptions.Linger"/> for it).</summary>
    public void Dispose()
    {
        lock (_produce)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping = true;
        }

        _wake.Set();
        _thread.Join();
        _wake.Dispose();
        _started.Dispose();
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
            var transcoder = new JsonToMessagePack();
            var encoded = new ReusableBufferWriter(1 << 16);
            long head = _head;
            while (true)
            {
                while (head < Volatile.Read(ref _tail))
                {
                    var slot = _slots[head & _mask];
                    try
                    {
                        Send(socket, slot, transcoder, encoded);
                    }
                    catch (NetMQException)
                    {
                        // The socket failed (the NetMQ context is terminating): the result is lost, counted.
                        Statistics.CountError();
                        Statistics.CountDropped();
                    }

                    slot.Release();
                    Volatile.Write(ref _head, ++head);
                }

                if (Volatile.Read(ref _stopping) && head == Volatile.Read(ref _tail))
                {
                    break;
                }

                // Reset, announce the sleep, then look once more: a result published after this look sees
                // _sleeping == 1 and sets the event, so the wait cannot miss it.
                _wake.Reset();
                Interlocked.Exchange(ref _sleeping, 1);
                if (head == Volatile.Read(ref _tail) && !Volatile.Read(ref _stopping))
                {
                    _wake.Wait();
                }

                Interlocked.Exchange(ref _sleeping, 0);
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

            foreach (var endpoint in _options.Endpoints)
            {
                if (_options.Bind)
                {
                    socket.Bind(endpoint);
                    _endpoints.Add(socket.Options.LastEndpoint ?? endpoint);
                }
                else
                {
                    socket.Connect(endpoint);
                    _endpoints.Add(endpoint);
                }
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Send(PublisherSocket socket, Slot slot, JsonToMessagePack transcoder, ReusableBufferWriter encoded)
    {
        byte[] payload = slot.Json;
        int length = slot.JsonLength;
        if (_options.Encoding == ZeroMqEncoding.MessagePack)
        {
            encoded.Reset();
            try
            {
                transcoder.Transcode(slot.Json.AsSpan(0, slot.JsonLength), encoded);
            }
            catch (System.Text.Json.JsonException)
            {
                // A reducer wrote invalid JSON: a bug, but capture goes on; the result is lost and counted.
                Statistics.CountError();
                Statistics.CountDropped();
                return;
            }

            payload = encoded.Buffer;
            length = encoded.WrittenCount;
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

    /// <summary>
    /// One queued result: the topic and the JSON envelope. The inline buffer covers most envelopes; a larger one is
    /// rented from <see cref="ArrayPool{T}.Shared"/> by the producer and returned by the socket thread once sent, so
    /// the ring holds at most <c>QueueCapacity × InlineBytes</c> between bursts of large results.
    /// </summary>
    private sealed class Slot
    {
        private const int InlineBytes = 2048;

        private readonly byte[] _inline = new byte[InlineBytes];

        public byte[] Topic { get; private set; } = new byte[128];

        public int TopicLength { get; private set; }

        public byte[] Json { get; private set; }

        public int JsonLength { get; private set; }

        public Slot()
        {
            Json = _inline;
        }

        /// <summary>Producer side, while the slot is free.</summary>
        public void Fill(string type, string serverId, ReadOnlySpan<byte> json)
        {
            int topicLength = System.Text.Encoding.UTF8.GetByteCount(type) + 1 + System.Text.Encoding.UTF8.GetByteCount(serverId);
            if (Topic.Length < topicLength)
            {
                Topic = new byte[topicLength];
            }

            int n = System.Text.Encoding.UTF8.GetBytes(type, Topic);
            Topic[n++] = (byte)'/';
            n += System.Text.Encoding.UTF8.GetBytes(serverId, Topic.AsSpan(n));
            TopicLength = n;

            Json = json.Length <= InlineBytes ? _inline : ArrayPool<byte>.Shared.Rent(json.Length);
            json.CopyTo(Json);
            JsonLength = json.Length;
        }

        /// <summary>Socket-thread side, after the send and before the slot is handed back to the producer.</summary>
        public void Release()
        {
            if (!ReferenceEquals(Json, _inline))
            {
                ArrayPool<byte>.Shared.Return(Json);
                Json = _inline;
            }
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over one array that grows and is reused (its array is sent as is).</summary>
    private sealed class ReusableBufferWriter(int initialCapacity) : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[initialCapacity];

        public byte[] Buffer => _buffer;

        public int WrittenCount { get; private set; }

        public void Reset() => WrittenCount = 0;

        public void Advance(int count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - WrittenCount);
            WrittenCount += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(WrittenCount);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(WrittenCount);
        }

        private void Ensure(int sizeHint)
        {
            int needed = Math.Max(sizeHint, 1);
            if (_buffer.Length - WrittenCount < needed)
            {
                Array.Resize(ref _buffer, Math.Max(WrittenCount + needed, _buffer.Length * 2));
            }
        }
    }
}
