using System.Buffers.Text;
using System.Net.Sockets;

namespace RataDns.Aggregator;

/// <summary>Where and what a <see cref="RedisResultSubscriber"/> subscribes to.</summary>
public sealed record RedisSubscriberOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 6379;

    /// <summary>Channel patterns (Redis PSUBSCRIBE), default every channel: monitors publish on their reducers' channels.</summary>
    public IReadOnlyList<string> Patterns { get; init; } = ["*"];

    /// <summary>The longest wait between reconnection attempts (they start at 100 ms and double).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where a lost or refused connection is reported (once until it comes back), and its return.</summary>
    public Action<string>? Warn { get; init; }
}

/// <summary>
/// Window results from Redis pub/sub (monitors with <c>"OutputMethod": "redis"</c>): one thread holds a connection
/// in PSUBSCRIBE mode and adds every message's payload (the JSON envelope) to the store. A Redis server that goes
/// away is retried with backoff; messages published meanwhile are lost (pub/sub keeps nothing), which the
/// store sees as sequence gaps.
/// </summary>
public sealed class RedisResultSubscriber : IDisposable
{
    private readonly AggregatorStore _store;
    private readonly RedisSubscriberOptions _options;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private TcpClient? _client;
    private long _received;
    private long _rejected;
    private long _connections;

    public RedisResultSubscriber(AggregatorStore store, RedisSubscriberOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options;
        _thread = new Thread(Run) { Name = "ratadns redis subscriber", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Messages received (whatever their content).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Messages that were not window results.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Connections made (1 + reconnections).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    public string Describe() => $"redis {_options.Host}:{_options.Port} {string.Join(' ', _options.Patterns)}";

    public void Dispose()
    {
        _stop.Cancel();
        Volatile.Read(ref _client)?.Dispose(); // wakes a blocked read
        _thread.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void Run()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        bool down = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var client = new TcpClient();
                client.ConnectAsync(_options.Host, _options.Port, _stop.Token).AsTask().GetAwaiter().GetResult();
                Volatile.Write(ref _client, client);
                var stream = new BufferedStream(client.GetStream(), 1 << 16);
                Subscribe(stream);
                Interlocked.Increment(ref _connections);
                delay = TimeSpan.FromMilliseconds(100);
                if (down)
                {
                    down = false;
                    _options.Warn?.Invoke($"{Describe()}: connected again; results published meanwhile were not received (Redis pub/sub keeps nothing)");
                }

                while (!_stop.IsCancellationRequested)
                {
                    if (ReadValue(stream) is object?[] { Length: 4 } message && Text(message[0]) == "pmessage" && message[3] is byte[] payload)
                    {
                        Interlocked.Increment(ref _received);
                        if (!_store.Add(payload))
                        {
                            Interlocked.Increment(ref _rejected);
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidDataException or OperationCanceledException)
            {
                // The server went away, never answered, or its name does not resolve (or Dispose closed the socket):
                // said once, then tried again after a while.
                if (!down && !_stop.IsCancellationRequested)
                {
                    down = true;
                    string why = e is SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }
                        ? $"the host name does not resolve ({e.Message})"
                        : e.Message;
                    _options.Warn?.Invoke($"{Describe()}: {why}; trying again every {_options.MaxRetryDelay.TotalSeconds:0.#} s at most, results published meanwhile are lost");
                }
            }
            finally
            {
                Volatile.Write(ref _client, null);
            }

            if (_stop.Token.WaitHandle.WaitOne(delay))
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }

    private void Subscribe(Stream stream)
    {
        var command = new List<byte>();
        void Bulk(string text)
        {
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
            command.AddRange(System.Text.Encoding.ASCII.GetBytes($"${bytes.Length}\r\n"));
            command.AddRange(bytes);
            command.AddRange("\r\n"u8.ToArray());
        }

        command.AddRange(System.Text.Encoding.ASCII.GetBytes($"*{_options.Patterns.Count + 1}\r\n"));
        Bulk("PSUBSCRIBE");
        foreach (string pattern in _options.Patterns)
        {
            Bulk(pattern);
        }

        stream.Write(command.ToArray());
        stream.Flush();
    }

    private static string? Text(object? value) => value is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    /// <summary>Reads one RESP value: arrays as object?[], bulk strings as byte[], simple strings and integers as text.</summary>
    private static object? ReadValue(Stream stream)
    {
        int kind = stream.ReadByte();
        if (kind < 0)
        {
            throw new IOException("the connection was closed");
        }

        string line = ReadLine(stream);
        switch ((char)kind)
        {
            case '+':
            case ':':
                return System.Text.Encoding.UTF8.GetBytes(line);
            case '-':
                throw new InvalidDataException($"redis: {line}");
            case '$':
            {
                if (!Utf8Parser.TryParse(System.Text.Encoding.ASCII.GetBytes(line), out int length, out _) || length < -1 || length > 512 << 20)
                {
                    throw new InvalidDataException($"bad bulk length '{line}'");
                }

                if (length < 0)
                {
                    return null;
                }

                var bytes = new byte[length];
                stream.ReadExactly(bytes);
                ReadLine(stream);
                return bytes;
            }

            case '*':
            {
                if (!int.TryParse(line, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int count) || count < -1 || count > 1024)
                {
                    throw new InvalidDataException($"bad array length '{line}'");
                }

                var items = new object?[Math.Max(count, 0)];
                for (int i = 0; i < items.Length; i++)
                {
                    items[i] = ReadValue(stream);
                }

                return items;
            }

            default:
                throw new InvalidDataException($"unexpected reply type '{(char)kind}'");
        }
    }

    private static string ReadLine(Stream stream)
    {
        var line = new System.Text.StringBuilder();
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                throw new IOException("the connection was closed");
            }

            if (b == '\r')
            {
                if (stream.ReadByte() != '\n')
                {
                    throw new InvalidDataException("a line without \\n after \\r");
                }

                return line.ToString();
            }

            if (line.Length > 4096)
            {
                throw new InvalidDataException("a reply line over 4 KB");
            }

            line.Append((char)b);
        }
    }
}
