using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace RataDns.Transport.ZeroMq;

/// <summary>One event libzmq reported for a socket: what happened, its value (an error or status code) and where.</summary>
internal readonly record struct ZeroMqSocketEvent(int Kind, uint Value, string Endpoint);

/// <summary>
/// The connection events libzmq reports for one of its sockets (<c>zmq_socket_monitor</c>): connected, lost, and
/// above all handshakes that failed, which otherwise leave both peers silent (a subscriber without the server's
/// CurveZMQ key simply receives nothing). A thread of its own reads them from a PAIR socket and hands each to a
/// handler; it ends when the context shuts down.
/// </summary>
internal sealed class ZeroMqSocketEvents
{
    private const int Watched = LibZmq.EventConnected | LibZmq.EventDisconnected | LibZmq.EventHandshakeSucceeded
        | LibZmq.EventHandshakeFailedNoDetail | LibZmq.EventHandshakeFailedProtocol | LibZmq.EventHandshakeFailedAuth;

    private static int s_next;
    private readonly Thread _thread;

    private ZeroMqSocketEvents(nint pair, Action<ZeroMqSocketEvent> handle)
    {
        _thread = new Thread(() => Run(pair, handle)) { Name = "zmq-events", IsBackground = true };
        _thread.Start();
    }

    /// <summary>
    /// Starts watching <paramref name="socket"/>; call it on the thread that owns the socket, before it binds or
    /// connects. Null when libzmq refuses (the socket then works, unwatched), with the reason in <paramref name="failure"/>.
    /// </summary>
    public static ZeroMqSocketEvents? Watch(nint context, nint socket, Action<ZeroMqSocketEvent> handle, out string? failure)
    {
        string endpoint = string.Create(CultureInfo.InvariantCulture, $"inproc://ratadns-events-{Environment.ProcessId}-{Interlocked.Increment(ref s_next)}");
        if (LibZmq.SocketMonitor(socket, endpoint, Watched) != 0)
        {
            failure = LibZmq.LastError();
            return null;
        }

        nint pair = LibZmq.Socket(context, LibZmq.Pair);
        if (pair == 0 || LibZmq.SetInt(pair, LibZmq.Linger, 0) != 0 || LibZmq.Connect(pair, endpoint) != 0)
        {
            failure = LibZmq.LastError();
            if (pair != 0)
            {
                LibZmq.Close(pair);
            }

            return null;
        }

        failure = null;
        return new ZeroMqSocketEvents(pair, handle);
    }

    /// <summary>Waits for the thread, which ends once the context is shut down (<c>zmq_ctx_shutdown</c>).</summary>
    public void Join() => _thread.Join();

    private static void Run(nint pair, Action<ZeroMqSocketEvent> handle)
    {
        try
        {
            while (true)
            {
                if (!LibZmq.TryReceiveFrame(pair, out byte[] head, out bool more, out int errno))
                {
                    if (errno == LibZmq.EIntr)
                    {
                        continue;
                    }

                    return; // ETERM: the context is shutting down
                }

                // [event (uint16) value (uint32)] [endpoint]: both in the host's byte order.
                string where = string.Empty;
                if (more && LibZmq.TryReceiveFrame(pair, out byte[] address, out _, out _))
                {
                    where = Encoding.UTF8.GetString(address);
                }

                if (head.Length < 6)
                {
                    continue;
                }

                int kind = BinaryPrimitives.ReadUInt16LittleEndian(head);
                if (kind == LibZmq.EventMonitorStopped)
                {
                    return;
                }

                handle(new ZeroMqSocketEvent(kind, BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(2)), where));
            }
        }
        finally
        {
            LibZmq.Close(pair);
        }
    }
}

/// <summary>
/// Reports a repeating problem once, then at most once a <see cref="Every"/> with how often it happened meanwhile: a
/// peer with a wrong key retries its handshake several times a second, which must not flood the log.
/// </summary>
internal sealed class ReportThrottle(Action<string>? report)
{
    private readonly Dictionary<string, (DateTime Next, int Held)> _seen = [];

    public static TimeSpan Every { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Reports <paramref name="message"/> unless one of the same <paramref name="kind"/> went out less than a minute ago.</summary>
    public void Report(string kind, string message)
    {
        if (report is null)
        {
            return;
        }

        var now = DateTime.UtcNow;
        int held;
        lock (_seen)
        {
            if (_seen.TryGetValue(kind, out var seen) && seen.Next > now)
            {
                _seen[kind] = (seen.Next, seen.Held + 1);
                return;
            }

            held = _seen.TryGetValue(kind, out seen) ? seen.Held : 0;
            _seen[kind] = (now + Every, 0);
        }

        report(held == 0 ? message : $"{message} (and {held} more times in the last minute or so)");
    }
}

/// <summary>What the handshake events of a libzmq socket mean to an operator, as one line each.</summary>
internal static class HandshakeMessages
{
    /// <summary>
    /// Events of a socket that is the CurveZMQ server (a monitor's publisher): a subscriber that failed to join.
    /// Failed authentication is left to the ZAP handler, which knows the key and address.
    /// </summary>
    public static void Server(ZeroMqSocketEvent e, ReportThrottle warn, string publicKeyHint)
    {
        switch (e.Kind)
        {
            case LibZmq.EventHandshakeFailedProtocol when e.Value == LibZmq.ProtocolErrorMechanismMismatch:
                warn.Report(
                    "mechanism",
                    $"zmq {e.Endpoint}: a subscriber without CurveZMQ was refused: this monitor needs its subscribers to know its public key ({publicKeyHint}; ratadns aggregate --curve-server-key)");
                break;
            case LibZmq.EventHandshakeFailedProtocol when e.Value == LibZmq.ProtocolErrorCryptographic:
                warn.Report(
                    "cryptographic",
                    $"zmq {e.Endpoint}: a subscriber's CurveZMQ handshake failed: it holds another public key for this monitor than {publicKeyHint}");
                break;
            case LibZmq.EventHandshakeFailedProtocol:
                warn.Report(
                    "protocol",
                    $"zmq {e.Endpoint}: a subscriber broke the ZeroMQ protocol during its handshake (error 0x{e.Value:x8}) and was dropped");
                break;
            case LibZmq.EventHandshakeFailedNoDetail:
                // Seen when the subscriber closes first: most often one without CurveZMQ or without this key.
                warn.Report("no-detail", $"zmq {e.Endpoint}: a subscriber's handshake failed and it was dropped (libzmq gives no detail; most often a subscriber without CurveZMQ, or with another public key for this monitor than {publicKeyHint})");
                break;
        }
    }

    /// <summary>
    /// Events of a socket that is the CurveZMQ client (the aggregator's subscriber): connected, lost, and why a monitor
    /// did not accept it. <paramref name="usesCurve"/> says whether a server key was given for the endpoint.
    /// </summary>
    public static void Client(ZeroMqSocketEvent e, ReportThrottle warn, Action<string>? info, Func<string, bool?> usesCurve, string? clientPublicKey, HashSet<string> connected)
    {
        bool? curve = usesCurve(e.Endpoint);
        switch (e.Kind)
        {
            case LibZmq.EventHandshakeSucceeded:
                bool first;
                lock (connected)
                {
                    first = connected.Add(e.Endpoint);
                }

                if (first)
                {
                    info?.Invoke($"zmq {e.Endpoint}: connected{(curve == true ? " (CurveZMQ)" : string.Empty)}");
                }

                break;
            case LibZmq.EventDisconnected:
                bool wasConnected;
                lock (connected)
                {
                    wasConnected = connected.Remove(e.Endpoint);
                }

                if (wasConnected)
                {
                    warn.Report("lost " + e.Endpoint, $"zmq {e.Endpoint}: the connection to the monitor was lost; connecting again (results resume when it answers)");
                }

                break;
            case LibZmq.EventHandshakeFailedProtocol when e.Value == LibZmq.ProtocolErrorMechanismMismatch:
                warn.Report(
                    "mechanism " + e.Endpoint,
                    curve switch
                    {
                        true => $"zmq {e.Endpoint}: the monitor there does not use CurveZMQ, but --curve-server-key gives a key for it: nothing is received until they agree",
                        false => $"zmq {e.Endpoint}: the monitor there uses CurveZMQ: give its public key (its CurvePublicKeyFile) with --curve-server-key {e.Endpoint}=FILE; nothing is received until then",
                        null => $"zmq {e.Endpoint}: the monitor there and this aggregator disagree on CurveZMQ (one uses it, the other not): check --curve-server-key; nothing is received until they agree",
                    });
                break;
            case LibZmq.EventHandshakeFailedNoDetail or LibZmq.EventHandshakeFailedProtocol:
                warn.Report(
                    "handshake " + e.Endpoint,
                    e.Kind == LibZmq.EventHandshakeFailedProtocol && e.Value != LibZmq.ProtocolErrorCryptographic
                        ? $"zmq {e.Endpoint}: the handshake with the monitor broke the ZeroMQ protocol (error 0x{e.Value:x8}); trying again"
                        : $"zmq {e.Endpoint}: the monitor refused the CurveZMQ handshake: the key --curve-server-key gives for it is most likely not its public key (its CurvePublicKeyFile); trying again");
                break;
            case LibZmq.EventHandshakeFailedAuth:
                warn.Report(
                    "auth " + e.Endpoint,
                    $"zmq {e.Endpoint}: the monitor refused this aggregator's CurveZMQ client key {clientPublicKey} (status {e.Value}): add it to the monitor's AllowedClientKeysFile; nothing is received until then");
                break;
        }
    }
}
