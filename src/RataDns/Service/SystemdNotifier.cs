using System.Net.Sockets;
using System.Text;

namespace RataDns.App.Service;

/// <summary>
/// The service manager's readiness protocol (sd_notify(3)): when <c>NOTIFY_SOCKET</c> is set, state lines such as
/// <c>READY=1</c>, <c>STOPPING=1</c> or <c>STATUS=...</c> are sent as one datagram each to that unix socket. A name
/// starting with '@' is an abstract socket (its first byte is NUL). Without the variable every call does nothing.
/// </summary>
/// <remarks>
/// The socket is connected when the notifier is made, before privileges are dropped, so a notification still
/// reaches a socket the new user could not open. A failed send is reported once on the log and never stops the run.
/// </remarks>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly TextWriter _log;
    private readonly Lock _gate = new();
    private bool _failureReported;

    private SystemdNotifier(Socket? socket, TextWriter log)
    {
        _socket = socket;
        _log = log;
    }

    /// <summary>Whether a service manager listens (NOTIFY_SOCKET was set and could be connected).</summary>
    public bool Enabled => _socket is not null;

    /// <summary>Connects to <c>NOTIFY_SOCKET</c> when it is set; otherwise a notifier that sends nothing.</summary>
    public static SystemdNotifier FromEnvironment(TextWriter log)
    {
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return new SystemdNotifier(null, log);
        }

        if (path[0] is not ('/' or '@'))
        {
            log.WriteLine($"ratadns monitor: NOTIFY_SOCKET={path}: not a unix socket path (absolute, or @ for an abstract name); the service manager is not notified.");
            return new SystemdNotifier(null, log);
        }

        // Abstract names: sd_notify replaces the leading '@' by a NUL byte.
        string address = path[0] == '@' ? "\0" + path[1..] : path;
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(address));
            return new SystemdNotifier(socket, log);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            log.WriteLine($"ratadns monitor: NOTIFY_SOCKET={path}: {e.Message}; the service manager is not notified.");
            return new SystemdNotifier(null, log);
        }
    }

    /// <summary><c>READY=1</c> with a status line: start-up (or a reload) is over.</summary>
    public void Ready(string status) => Send($"READY=1\nSTATUS={status}");

    /// <summary><c>RELOADING=1</c> with the monotonic clock, as systemd's reload protocol asks.</summary>
    public void Reloading()
    {
        long microseconds = (long)(System.Diagnostics.Stopwatch.GetTimestamp() * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));
        Send(FormattableString.Invariant($"RELOADING=1\nMONOTONIC_USEC={microseconds}"));
    }

    /// <summary><c>STOPPING=1</c>: the service is shutting down (it still writes its last window).</summary>
    public void Stopping() => Send("STOPPING=1\nSTATUS=stopping: writing the last window");

    /// <summary>A free-form <c>STATUS=</c> line.</summary>
    public void Status(string status) => Send("STATUS=" + status);

    /// <summary>Sends the state lines as one datagram; from any thread.</summary>
    public void Send(string state)
    {
        if (_socket is null)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                _socket.Send(Encoding.UTF8.GetBytes(state));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (!_failureReported)
                {
                    _failureReported = true;
                    _log.WriteLine($"ratadns monitor: notifying the service manager failed: {e.Message}");
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _socket?.Dispose();
        }
    }
}
