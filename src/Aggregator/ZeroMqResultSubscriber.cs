using MessagePack;
using NetMQ;
using RataDns.Transport.ZeroMq;

namespace RataDns.Aggregator;

/// <summary>
/// Receives window results from monitors on a ZeroMQ SUB socket and stores them in an <see cref="AggregatorStore"/>.
/// Messages are <c>[topic, payload]</c>; the payload is a JSON envelope when it starts with <c>{</c>, MessagePack
/// otherwise (transcoded to JSON by <see cref="MessagePackToJson"/>). A single-frame message is read as a payload.
/// </summary>
/// <remarks>
/// One dedicated thread owns the socket (ZeroMQ sockets are not thread-safe) and feeds the store; it polls every
/// 100 ms for <see cref="Dispose"/>, which therefore returns within about that. A payload that does not decode or is
/// not an envelope is counted in <see cref="DecodeErrors"/> and skipped.
/// </remarks>
public sealed class ZeroMqResultSubscriber : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private readonly AggregatorStore _store;
    private readonly SubscriberSocketOptions _options;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new(false);
    private ISubscriberSocket? _socket;
    private Exception? _startFailure;
    private volatile Exception? _failure;
    private volatile bool _stopping;
    private long _received;
    private long _decodeErrors;

    /// <summary>Opens the socket on its own thread, binds or connects every endpoint and subscribes.</summary>
    /// <exception cref="IOException">An endpoint could not be bound or connected.</exception>
    public ZeroMqResultSubscriber(AggregatorStore store, SubscriberSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one ZeroMQ endpoint is needed.", nameof(options));
        }

        _store = store;
        _options = options;
        _thread = new Thread(Run) { Name = "zmq-subscriber", IsBackground = true };
        _thread.Start();
        _started.Wait();
        if (_startFailure is not null)
        {
            _thread.Join();
            _started.Dispose();
            throw _startFailure;
        }
    }

    /// <summary>The endpoints as bound (a <c>tcp://host:*</c> endpoint shows its port) or connected.</summary>
    public IReadOnlyList<string> Endpoints => _socket?.Endpoints ?? [];

    /// <summary>The library under the socket: libzmq (handshakes reported) or NetMQ.</summary>
    public string Library => _socket?.Library ?? string.Empty;

    /// <summary>Messages received (stored or not).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Payloads that did not decode or were not a window result envelope.</summary>
    public long DecodeErrors => Interlocked.Read(ref _decodeErrors);

    /// <summary>
    /// Why receiving stopped before <see cref="Dispose"/>, or null: <c>NetMQConfig.Cleanup</c> in the same process
    /// (the monitor calls it as it exits) terminates every NetMQ socket.
    /// </summary>
    public Exception? Failure => _failure;

    /// <summary>Stops the thread (within about 100 ms) and closes the socket.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _thread.Join();
        _started.Dispose();
    }

    private void Run()
    {
        ISubscriberSocket socket;
        try
        {
            socket = SubscriberSockets.Open(_options);
            _socket = socket;
        }
        catch (Exception e) when (e is NetMQException or ArgumentException or IOException)
        {
            _startFailure = e.Message.StartsWith("zmq ", StringComparison.Ordinal)
                ? new IOException(e.Message, e)
                : new IOException($"zmq {(_options.Bind ? "bind" : "connect")} {string.Join(',', _options.Endpoints)}: {e.Message}", e);
            _started.Set();
            return;
        }

        _started.Set();
        try
        {
            using (socket)
            {
                Receive(socket);
            }
        }
        catch (TerminatingException e)
        {
            // NetMQConfig.Cleanup ended the process-wide context (the monitor does so when it exits): nothing more
            // can be received.
            _failure = e;
        }
    }

    private void Receive(ISubscriberSocket socket)
    {
        var transcoder = new MessagePackToJson();
        while (!_stopping)
        {
            socket.Retry();
            if (!socket.TryReceiveFrame(Poll, out byte[] first, out bool more))
            {
                continue;
            }

            byte[] payload = first;
            if (more && !socket.TryReceiveFrame(TimeSpan.FromSeconds(1), out payload, out more))
            {
                continue;
            }

            // Frames beyond [topic, payload] are not ours: skip them.
            while (more && socket.TryReceiveFrame(TimeSpan.FromSeconds(1), out _, out more))
            {
            }

            Interlocked.Increment(ref _received);
            if (!Store(payload, transcoder))
            {
                Interlocked.Increment(ref _decodeErrors);
            }
        }
    }

    private bool Store(byte[] payload, MessagePackToJson transcoder)
    {
        if (payload.Length == 0)
        {
            return false;
        }

        if (payload[0] == (byte)'{')
        {
            return _store.Add(payload);
        }

        try
        {
            return _store.Add(transcoder.Transcode(payload));
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or FormatException or InvalidOperationException or ArgumentException)
        {
            return false;
        }
    }
}
