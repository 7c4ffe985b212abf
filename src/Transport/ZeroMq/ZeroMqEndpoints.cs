using System.Globalization;
using System.Net.Sockets;
using NetMQ;

namespace RataDns.Transport.ZeroMq;

/// <summary>Binds or connects a NetMQ socket to its endpoints: the one rule publishers and subscribers share.</summary>
public static class ZeroMqEndpoints
{
    private static readonly string[] Transports = ["tcp://", "ipc://", "inproc://", "pgm://", "epgm://"];

    /// <summary>
    /// Binds <paramref name="socket"/> to each endpoint (or connects to each when <paramref name="bind"/> is false)
    /// and adds to <paramref name="attached"/> the endpoints as they are in use: a bound <c>tcp://host:*</c> gives
    /// its real port. An endpoint whose host name does not resolve (yet: DNS may be what is broken on a DNS server)
    /// goes to <paramref name="unresolved"/>, which connects it later, when given; otherwise it is an
    /// <see cref="IOException"/> naming it.
    /// </summary>
    /// <exception cref="ArgumentException">An endpoint is not of the form <c>tcp://HOST:PORT</c> (or ipc, inproc).</exception>
    public static void Attach(NetMQSocket socket, IReadOnlyList<string> endpoints, bool bind, List<string> attached, ZeroMqReconnector? unresolved = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(attached);
        foreach (string endpoint in endpoints)
        {
            if (Problem(endpoint, bind) is { } problem)
            {
                throw new ArgumentException(problem);
            }
        }

        foreach (string endpoint in endpoints)
        {
            if (bind)
            {
                try
                {
                    socket.Bind(endpoint);
                }
                catch (AddressAlreadyInUseException)
                {
                    throw new IOException("the address is already in use (another ratadns, or another program, listens there)");
                }
                catch (SocketException e)
                {
                    throw new IOException($"cannot listen there: {e.Message}");
                }

                attached.Add(socket.Options.LastEndpoint ?? endpoint);
            }
            else if (TryConnect(socket, endpoint, out string? failure))
            {
                attached.Add(endpoint);
            }
            else if (unresolved is not null)
            {
                unresolved.Add(endpoint, failure!);
            }
            else
            {
                throw new IOException($"zmq connect {endpoint}: {failure}");
            }
        }
    }

    /// <summary>
    /// Why <paramref name="endpoint"/> is not one ZeroMQ can use, in one line, or null: <c>tcp://HOST:PORT</c> (a port
    /// of 1 to 65535; <c>*</c> to bind any port), <c>ipc://PATH</c> or <c>inproc://NAME</c>.
    /// </summary>
    public static string? Problem(string endpoint, bool bind)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return "an empty ZeroMQ endpoint; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5556";
        }

        if (!Transports.Any(t => endpoint.StartsWith(t, StringComparison.OrdinalIgnoreCase)))
        {
            return $"'{endpoint}' is not a ZeroMQ endpoint; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5556 (or ipc://PATH)";
        }

        if (!endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            return endpoint.Length > endpoint.IndexOf("://", StringComparison.Ordinal) + 3 ? null : $"'{endpoint}' names no address";
        }

        string address = endpoint["tcp://".Length..];
        int colon = address.LastIndexOf(':');
        string host = colon >= 0 ? address[..colon] : address;
        string port = colon >= 0 ? address[(colon + 1)..] : string.Empty;
        if (host.Length == 0 || port.Length == 0)
        {
            return $"'{endpoint}' has no {(host.Length == 0 ? "host" : "port")}; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5556";
        }

        bool anyPort = bind && port == "*";
        if (!anyPort && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > 65535 || (number == 0 && !bind)))
        {
            return $"'{endpoint}': the port '{port}' is not a number from 1 to 65535{(bind ? " (or * or 0 for any)" : string.Empty)}";
        }

        return null;
    }

    /// <summary>
    /// Why the host name of a <c>tcp://</c> endpoint does not resolve now, or null (it does, it is an address, or the
    /// endpoint is not tcp). libzmq resolves names later, on its own threads, and would only retry silently.
    /// </summary>
    public static string? UnresolvedName(string endpoint)
    {
        if (!endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string address = endpoint["tcp://".Length..];
        int colon = address.LastIndexOf(':');
        string host = (colon >= 0 ? address[..colon] : address).Trim('[', ']');
        int source = host.IndexOf(';', StringComparison.Ordinal);
        if (source >= 0)
        {
            host = host[(source + 1)..];
        }

        if (host == "*" || System.Net.IPAddress.TryParse(host, out _))
        {
            return null;
        }

        try
        {
            return System.Net.Dns.GetHostAddresses(host).Length > 0 ? null : "the host name has no address";
        }
        catch (SocketException e)
        {
            return $"the host name does not resolve ({e.Message})";
        }
    }

    /// <summary>Connects, or says why not when the host name does not resolve.</summary>
    internal static bool TryConnect(NetMQSocket socket, string endpoint, out string? failure)
    {
        try
        {
            socket.Connect(endpoint);
            failure = null;
            return true;
        }
        catch (SocketException e)
        {
            failure = $"the host name does not resolve ({e.Message})";
            return false;
        }
    }
}

/// <summary>
/// Endpoints to connect whose host names did not resolve: tried again on the socket's own thread (NetMQ sockets
/// belong to one thread) after 1 s, then twice as long each time up to a minute; each failure is reported once, and
/// the connection when it comes.
/// </summary>
public sealed class ZeroMqReconnector(Action<string>? report)
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Longest = TimeSpan.FromMinutes(1);
    private readonly List<(string Endpoint, DateTime Next, TimeSpan Wait)> _pending = [];

    /// <summary>Endpoints not connected yet.</summary>
    public int Count => _pending.Count;

    /// <summary>The endpoints in use and those waiting for their name, for logs: "tcp://ns1:5556 (not resolved yet)".</summary>
    public IReadOnlyList<string> Describe(List<string> attached)
    {
        lock (attached)
        {
            return [.. attached, .. _pending.ToArray().Select(p => $"{p.Endpoint} (not resolved yet)")];
        }
    }

    internal void Add(string endpoint, string failure)
    {
        _pending.Add((endpoint, DateTime.UtcNow + First, First));
        report?.Invoke($"zmq connect {endpoint}: {failure}; trying again (after 1 s, then up to every minute) while results go on");
    }

    /// <summary>On the socket's thread: tries the endpoints whose time has come; adds those connected to <paramref name="attached"/>.</summary>
    public void Retry(NetMQSocket socket, List<string> attached) =>
        Retry(endpoint => ZeroMqEndpoints.TryConnect(socket, endpoint, out string? failure) ? null : failure, attached);

    /// <summary>
    /// As <see cref="Retry(NetMQSocket, List{string})"/> for any socket: <paramref name="connect"/> connects one
    /// endpoint and returns null, or says why it could not.
    /// </summary>
    public void Retry(Func<string, string?> connect, List<string> attached)
    {
        ArgumentNullException.ThrowIfNull(connect);
        if (_pending.Count == 0)
        {
            return;
        }

        var now = DateTime.UtcNow;
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            var (endpoint, next, wait) = _pending[i];
            if (next > now)
            {
                continue;
            }

            if (connect(endpoint) is null)
            {
                _pending.RemoveAt(i);
                lock (attached)
                {
                    attached.Add(endpoint);
                }

                report?.Invoke($"zmq connect {endpoint}: the host name resolves now; connected");
            }
            else
            {
                var longer = wait * 2 < Longest ? wait * 2 : Longest;
                _pending[i] = (endpoint, now + longer, longer);
            }
        }
    }
}
