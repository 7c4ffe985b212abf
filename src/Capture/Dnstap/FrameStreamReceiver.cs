using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RataDns.Capture.Dnstap;

/// <summary>Where and how a <see cref="FrameStreamReceiver"/> listens.</summary>
public sealed record FrameStreamReceiverOptions
{
    /// <summary>Bounds of each connection's stream (content type, frame sizes).</summary>
    public FrameStreamOptions Stream { get; init; } = new();

    /// <summary>Writers served at once; one more is refused (closed at once) and counted.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>Where problems are reported, one line each: a stream that broke, a writer refused.</summary>
    public Action<string>? Warn { get; init; }
}

/// <summary>
/// A Frame Streams receiver on a unix socket (<c>unix:/run/ratadns/dnstap.sock</c>) or TCP (<c>tcp://127.0.0.1:6000</c>):
/// what DNS servers' dnstap writers connect to. Each writer gets a thread; bidirectional writers (READY) are answered
/// ACCEPT with the content type and, after STOP, FINISH; unidirectional writers (START straight away) are read as
/// they come. Every data frame goes to the handler, on the connection's thread (handlers must be thread-safe). A
/// writer whose stream breaks the rules loses its connection, counted and reported once; the receiver goes on.
/// </summary>
public sealed class FrameStreamReceiver : IDisposable
{
    private readonly Socket _listener;
    private readonly FrameStreamReceiverOptions _options;
    private readonly FrameStreamHandler _handler;
    private readonly Thread _acceptThread;
    private readonly List<Socket> _connections = [];
    private readonly string? _unixPath;
    private volatile bool _stopping;
    private long _frames;
    private long _accepted;
    private long _refused;
    private long _broken;

    private FrameStreamReceiver(Socket listener, string endpoint, string? unixPath, FrameStreamReceiverOptions options, FrameStreamHandler handler)
    {
        _listener = listener;
        _unixPath = unixPath;
        _options = options;
        _handler = handler;
        Endpoint = endpoint;
        _acceptThread = new Thread(AcceptLoop) { Name = "dnstap-accept", IsBackground = true };
        _acceptThread.Start();
    }

    /// <summary>A data frame of one writer; the span is valid during the call only.</summary>
    public delegate void FrameStreamHandler(ReadOnlySpan<byte> frame);

    /// <summary>The endpoint listened on (a <c>tcp://host:0</c> shows its port).</summary>
    public string Endpoint { get; }

    public long Frames => Interlocked.Read(ref _frames);

    /// <summary>Writers connected so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Writers refused because <see cref="FrameStreamReceiverOptions.MaxConnections"/> were served.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Connections closed because their stream broke the rules (or the content type was another).</summary>
    public long Broken => Interlocked.Read(ref _broken);

    /// <summary>Listens on <paramref name="endpoint"/>: <c>unix:PATH</c> (a stale socket file is replaced) or <c>tcp://HOST:PORT</c>.</summary>
    /// <exception cref="ArgumentException">The endpoint is of neither form.</exception>
    /// <exception cref="IOException">It cannot be listened on (in use, no permission, a non-socket file at PATH).</exception>
    public static FrameStreamReceiver Listen(string endpoint, FrameStreamHandler handler, FrameStreamReceiverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= new FrameStreamReceiverOptions();
        Socket listener;
        string? unixPath = null;
        string bound;
        try
        {
            if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
            {
                unixPath = endpoint["unix:".Length..];
                if (unixPath.Length == 0)
                {
                    throw new ArgumentException($"'{endpoint}': give a socket path, e.g. unix:/run/ratadns/dnstap.sock");
                }

                if (File.Exists(unixPath))
                {
                    if (new FileInfo(unixPath).Length > 0)
                    {
                        throw new IOException($"{unixPath} exists and is not a socket");
                    }

                    using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
                    {
                        try
                        {
                            probe.Connect(new UnixDomainSocketEndPoint(unixPath));
                            throw new IOException($"{unixPath}: another program listens there");
                        }
                        catch (SocketException)
                        {
                            // Nobody listens: a socket left by an earlier run, replaced below.
                        }
                    }

                    File.Delete(unixPath);
                }

                listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                listener.Bind(new UnixDomainSocketEndPoint(unixPath));
                // Servers write as their own users (unbound, knot): anyone who can reach the directory may connect,
                // so who may write dnstap is the directory's permissions, as with a server's own control socket.
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(unixPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
                }

                bound = endpoint;
            }
            else if (endpoint.StartsWith("tcp://", StringComparison.Ordinal))
            {
                string address = endpoint["tcp://".Length..];
                int colon = address.LastIndexOf(':');
                if (colon <= 0 || !IPAddress.TryParse(address[..colon].Trim('[', ']'), out var ip)
                    || !int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                {
                    throw new ArgumentException($"'{endpoint}': expected tcp://ADDRESS:PORT, e.g. tcp://127.0.0.1:6000");
                }

                listener = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(ip, port));
                var local = (IPEndPoint)listener.LocalEndPoint!;
                bound = $"tcp://{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{local.Address}]" : local.Address.ToString())}:{local.Port}";
            }
            else
            {
                throw new ArgumentException($"'{endpoint}' is not a dnstap endpoint; expected unix:PATH or tcp://ADDRESS:PORT");
            }

            listener.Listen(64);
        }
        catch (SocketException e)
        {
            throw new IOException($"dnstap {endpoint}: {(e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "the address is already in use" : e.Message)}", e);
        }

        return new FrameStreamReceiver(listener, bound, unixPath, options, handler);
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _listener.Dispose(); // ends Accept
        _acceptThread.Join();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose(); // ends each reader's Receive
            }
        }

        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind: the next Listen replaces it.
            }
        }
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_connections)
            {
                if (_connections.Count >= _options.MaxConnections)
                {
                    Interlocked.Increment(ref _refused);
                    connection.Dispose();
                    _options.Warn?.Invoke($"dnstap {Endpoint}: a writer refused: {_options.MaxConnections} are connected already");
                    continue;
                }

                _connections.Add(connection);
            }

            Interlocked.Increment(ref _accepted);
            new Thread(() => Serve(connection)) { Name = "dnstap-connection", IsBackground = true }.Start();
        }
    }

    private void Serve(Socket connection)
    {
        try
        {
            using var stream = new NetworkStream(connection, ownsSocket: false);
            // Buffered: a frame's length and its payload (tens of bytes each) would otherwise be a receive call each.
            using var buffered = new BufferedStream(stream, 1 << 16);
            var reader = new FrameStreamReader(buffered, _options.Stream);
            bool bidirectional = false;
            while (true)
            {
                if (reader.TryReadFrame(out var frame, out bool control))
                {
                    Interlocked.Increment(ref _frames);
                    _handler(frame.Span);
                    continue;
                }

                if (control)
                {
                    if (reader.LastControl == FrameStreamReader.ControlReady)
                    {
                        bidirectional = true;
                        stream.Write(FrameStreamReader.ControlFrame(FrameStreamReader.ControlAccept, _options.Stream.ContentType));
                    }

                    continue;
                }

                if (reader.Stopped && bidirectional)
                {
                    stream.Write(FrameStreamReader.ControlFrame(FrameStreamReader.ControlFinish, null));
                }

                if (reader.Error is { } error && !_stopping)
                {
                    Interlocked.Increment(ref _broken);
                    _options.Warn?.Invoke($"dnstap {Endpoint}: a writer's stream was closed: {error}");
                }

                return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The writer went away (or the receiver is closing): what it sent before is kept.
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(connection);
            }

            connection.Dispose();
        }
    }
}
