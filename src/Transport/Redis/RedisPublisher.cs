using System.Buffers.Text;
using System.Net.Sockets;
using System.Text;
using RataDns.Transport.Publishing;

namespace RataDns.Transport.Redis;

/// <summary>
/// Sends each window result as <c>PUBLISH &lt;channel&gt; &lt;json&gt;</c> to one Redis server, the channel taken from
/// <see cref="ResultEnvelope.Channel"/>: one publisher serves every reducer that writes to this server, over one
/// connection. A small RESP2 client, no library.
/// <para>
/// <see cref="Publish"/> copies the result into a bounded queue and returns; it never touches the socket. One
/// dedicated thread owns the connection: it sends the queued results in batches (pipelined) and reads one integer
/// reply (the number of subscribers) per result. A result counts as sent when its reply arrives.
/// </para>
/// <para>
/// When the server is away (refused, timed out, closed, restarted) the results that cannot be sent are dropped and
/// counted: those written but not confirmed, those queued, and those published until the server accepts again
/// (<see cref="Publish"/> then drops at once). The thread reconnects by itself, waiting
/// <see cref="RedisPublisherOptions.FirstRetryDelay"/> doubling up to <see cref="RedisPublisherOptions.MaxRetryDelay"/>
/// between attempts. Each outage counts one error and writes one line to the log, and one more when the server is
/// back; an error reply (<c>-ERR ...</c>) drops its result and counts an error.
/// </para>
/// </summary>
public sealed class RedisPublisher : IResultChannel
{
    private const int ReplyBufferSize = 4096;

    // A batch stops growing at this size (unless one result alone is larger): bounds the bytes that a connection
    // loss leaves unconfirmed.
    private const int BatchBytes = 64 * 1024;

    private readonly RedisPublisherOptions _options;
    private readonly TextWriter _log;
    private readonly PendingResultQueue _queue;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    private readonly RespCommandBuffer _commands = new(BatchBytes);
    private readonly byte[] _replies = new byte[ReplyBufferSize];
    private readonly string _description;

    // Sender thread only.
    private Socket? _socket;
    private int _replyStart;
    private int _replyEnd;
    private bool _inOutage;
    private long _droppedAtOutageStart;

    // Written by the sender thread, read by Publish: false during an outage, so Publish drops without queueing.
    private volatile bool _accepting = true;
    private volatile bool _connected;
    private volatile bool _stopping;

    /// <summary>Starts the sender thread, which connects at once.</summary>
    /// <param name="options">Server and bounds.</param>
    /// <param name="log">Where outages and recoveries are reported (one line each); written by the sender thread.</param>
    public RedisPublisher(RedisPublisherOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        _options = options;
        _log = log;
        _queue = new PendingResultQueue(options.QueueCapacity);
        _description = $"redis {options.Host}:{options.Port}";
        _thread = new Thread(Run) { IsBackground = true, Name = $"ratadns {_description}" };
        _thread.Start();
    }

    public ChannelStatistics Statistics { get; } = new();

    /// <summary>True while a connection to the server is open (it may still be found dead at the next send).</summary>
    public bool IsConnected => _connected;

    public string Describe() => _description;

    /// <summary>
    /// Queues one result for <see cref="ResultEnvelope.Channel"/>. Never blocks: false (and a counted drop) when the
    /// queue is full, the server is away or the publisher is disposed. Call from one thread at a time.
    /// </summary>
    public bool Publish(in ResultEnvelope result)
    {
        if (!_accepting || _stopping || !_queue.TryAdd(result.Channel, result.Json))
        {
            Statistics.CountDropped();
            return false;
        }

        _wake.Set();
        return true;
    }

    /// <summary>Nothing to flush: the sender thread sends as soon as results arrive.</summary>
    public void EndOfWindow()
    {
    }

    /// <summary>
    /// Stops the sender thread: results already queued are still sent if the server is connected (within the reply
    /// timeout), the rest are counted as dropped; then the connection is closed.
    /// </summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _wake.Set();
        if (_thread.Join(_options.ConnectTimeout + _options.ReplyTimeout + TimeSpan.FromSeconds(1)))
        {
            _wake.Dispose();
        }
    }

    private void Run()
    {
        try
        {
            SendUntilStopped();
        }
        catch (Exception e)
        {
            // A fault of this class must not take the monitor down: stop publishing, say so, keep counting drops.
            _accepting = false;
            Statistics.CountError();
            WriteLog($"{_description}: the publisher stopped after an unexpected error; results are dropped from now on: {e}");
            DropQueued();
            CloseConnection();
        }
    }

    private void SendUntilStopped()
    {
        var retryDelay = _options.FirstRetryDelay;
        while (true)
        {
            if (_socket is null)
            {
                if (_stopping)
                {
                    break;
                }

                if (!TryConnect(out string? failure))
                {
                    BeginOutage(failure);
                    WaitBeforeRetry(retryDelay);
                    retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.MaxRetryDelay.Ticks));
                    continue;
                }

                retryDelay = _options.FirstRetryDelay;
                EndOutage();
            }

            if (_queue.Count > 0)
            {
                SendBatch();
                continue;
            }

            if (_stopping)
            {
                break;
            }

            // Reset before the last look at the queue: a result added after it sets the event again.
            _wake.Reset();
            if (_queue.Count == 0 && !_stopping)
            {
                _wake.Wait();
            }
        }

        DropQueued();
        CloseConnection();
    }

    /// <summary>Sends the queued results (up to <see cref="BatchBytes"/>) in one write, then reads their replies.</summary>
    private void SendBatch()
    {
        _commands.Clear();
        int available = _queue.Count;
        int batch = 0;
        while (batch < available && (batch == 0 || _commands.Length < BatchBytes))
        {
            ref readonly var slot = ref _queue.Peek(batch);
            _commands.AppendPublish(slot.Channel, slot.Payload.AsSpan(0, slot.Length));
            batch++;
        }

        // The bytes are in the command buffer: the slots can take new results while the batch is on the wire.
        _queue.Release(batch);
        int confirmed = 0;
        try
        {
            var bytes = _commands.Written;
            while (!bytes.IsEmpty)
            {
                bytes = bytes[_socket!.Send(bytes)..];
            }

            for (; confirmed < batch; confirmed++)
            {
                ReadReply();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidDataException)
        {
            Statistics.CountDropped(batch - confirmed);
            CloseConnection();
            BeginOutage(Reason(e));
        }
    }

    /// <summary>Reads one reply to PUBLISH: <c>:n</c> (sent) or <c>-error</c> (dropped, counted, logged).</summary>
    private void ReadReply()
    {
        var line = ReadLine();
        if (line.Length > 0 && line[0] == (byte)':' && Utf8Parser.TryParse(line[1..], out long _, out int used) && used == line.Length - 1)
        {
            Statistics.CountSent();
            return;
        }

        if (line.Length > 0 && line[0] == (byte)'-')
        {
            Statistics.CountDropped();
            Statistics.CountError();
            WriteLog($"{_description}: the server refused a PUBLISH: {Encoding.UTF8.GetString(line[1..])}");
            return;
        }

        throw new InvalidDataException($"unexpected reply to PUBLISH: {Encoding.UTF8.GetString(line)}");
    }

    /// <summary>The next CRLF-terminated line of the reply stream, without its CRLF; valid until the next read.</summary>
    private ReadOnlySpan<byte> ReadLine()
    {
        while (true)
        {
            int newline = _replies.AsSpan(_replyStart, _replyEnd - _replyStart).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _replies.AsSpan(_replyStart, newline);
                _replyStart += newline + 1;
                return line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
            }

            if (_replyStart > 0)
            {
                _replies.AsSpan(_replyStart, _replyEnd - _replyStart).CopyTo(_replies);
                _replyEnd -= _replyStart;
                _replyStart = 0;
            }

            if (_replyEnd == _replies.Length)
            {
                throw new InvalidDataException($"a reply line longer than {ReplyBufferSize} bytes");
            }

            int received = _socket!.Receive(_replies.AsSpan(_replyEnd));
            if (received == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            _replyEnd += received;
        }
    }

    private bool TryConnect(out string? failure)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(_options.ConnectTimeout);
            socket.ConnectAsync(_options.Host, _options.Port, timeout.Token).AsTask().GetAwaiter().GetResult();
            socket.SendTimeout = (int)_options.ReplyTimeout.TotalMilliseconds;
            socket.ReceiveTimeout = (int)_options.ReplyTimeout.TotalMilliseconds;
            _socket = socket;
            _replyStart = 0;
            _replyEnd = 0;
            _connected = true;
            failure = null;
            return true;
        }
        catch (OperationCanceledException)
        {
            failure = $"no connection within {_options.ConnectTimeout.TotalMilliseconds:0} ms";
        }
        catch (SocketException e)
        {
            failure = Reason(e);
        }

        socket.Dispose();
        return false;
    }

    private void CloseConnection()
    {
        _connected = false;
        _socket?.Dispose();
        _socket = null;
    }

    /// <summary>Stops taking results; the first call of an outage counts an error and writes one log line.</summary>
    private void BeginOutage(string? reason)
    {
        _accepting = false;
        DropQueued();
        if (_inOutage)
        {
            return;
        }

        _inOutage = true;
        _droppedAtOutageStart = Statistics.Dropped;
        Statistics.CountError();
        WriteLog($"{_description}: {reason}; results are dropped until the server accepts again " +
                 $"(retrying every {_options.FirstRetryDelay.TotalMilliseconds:0} ms to {_options.MaxRetryDelay.TotalMilliseconds:0} ms)");
    }

    private void EndOutage()
    {
        _accepting = true;
        if (!_inOutage)
        {
            return;
        }

        _inOutage = false;
        WriteLog($"{_description}: connected again; {Statistics.Dropped - _droppedAtOutageStart} results dropped during the outage");
    }

    /// <summary>Waits out one retry delay (or until disposed), dropping results that were queued meanwhile.</summary>
    private void WaitBeforeRetry(TimeSpan delay)
    {
        // Publish stops queueing once _accepting is false; a result queued just before is dropped here, not
        // sent late after the reconnection.
        long deadline = Environment.TickCount64 + (long)delay.TotalMilliseconds;
        long left;
        while (!_stopping && (left = deadline - Environment.TickCount64) > 0)
        {
            _wake.Reset();
            DropQueued();
            _wake.Wait(TimeSpan.FromMilliseconds(left));
        }

        DropQueued();
    }

    private void DropQueued()
    {
        int count = _queue.Count;
        if (count > 0)
        {
            _queue.Release(count);
            Statistics.CountDropped(count);
        }
    }

    private void WriteLog(string line)
    {
        try
        {
            _log.WriteLine(line);
            _log.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The log is for people; a closed log must not stop the publishing.
        }
    }

    private static string Reason(Exception e) => e switch
    {
        SocketException s => $"{s.SocketErrorCode} ({s.Message})",
        _ => e.Message,
    };
}
