using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RataDns.App.Operations;

/// <summary>
/// A minimal HTTP/1.x responder for <c>GET /metrics</c>: one background thread accepts a connection, reads the
/// request head (at most 8 KiB, 5 s), answers with the text <see cref="Start"/> was given a way to render, and closes
/// the connection. Any other path is 404, any other method 405. It shares nothing with the capture, worker and merger
/// threads but the counters it reads, so a slow or hostile client can only delay other scrapes, never capture.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    /// <summary>The path served; every other one is 404.</summary>
    public const string Path = "/metrics";

    private const int MaxRequestHeadBytes = 8 * 1024;
    private const int ClientTimeoutMilliseconds = 5_000;

    private readonly TcpListener _listener;
    private readonly Func<string> _render;
    private readonly Thread _thread;
    private volatile bool _stopping;

    private MetricsEndpoint(TcpListener listener, Func<string> render)
    {
        _listener = listener;
        _render = render;
        _thread = new Thread(AcceptLoop) { Name = "ratadns metrics", IsBackground = true };
    }

    /// <summary>The address and port bound (the port chosen by the system when 0 was asked).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>The URL to scrape.</summary>
    public string Url => $"http://{LocalEndpoint}{Path}";

    /// <summary>
    /// Reads <c>--metrics</c>: a port alone (bound on 127.0.0.1, so metrics are not exposed by accident), or an
    /// address and a port (<c>0.0.0.0:9153</c>, <c>[::1]:9153</c>, <c>localhost:9153</c>).
    /// </summary>
    public static bool TryParseAddress(string text, out IPEndPoint endpoint, out string reason)
    {
        endpoint = null!;
        reason = string.Empty;
        string trimmed = text.Trim();
        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            if (port > IPEndPoint.MaxPort)
            {
                reason = $"port {port} is above {IPEndPoint.MaxPort}.";
                return false;
            }

            endpoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }

        if (trimmed.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = "127.0.0.1" + trimmed["localhost".Length..];
        }

        int colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || colon == trimmed.Length - 1 || (trimmed[0] != '[' && trimmed.IndexOf(':') != colon)
            || !IPEndPoint.TryParse(trimmed, out var parsed))
        {
            reason = "expected a port (9153) or an address and a port (127.0.0.1:9153, [::1]:9153).";
            return false;
        }

        endpoint = parsed;
        return true;
    }

    /// <summary>
    /// Binds <paramref name="endpoint"/> and starts serving. Throws <see cref="SocketException"/> when the address
    /// cannot be bound (in use, not local, not permitted).
    /// </summary>
    public static MetricsEndpoint Start(IPEndPoint endpoint, Func<string> render)
    {
        var listener = new TcpListener(endpoint);
        try
        {
            listener.Start(backlog: 16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var server = new MetricsEndpoint(listener, render);
        server._thread.Start();
        return server;
    }

    public void Dispose()
    {
        _stopping = true;
        _listener.Stop(); // wakes the blocked Accept
        _listener.Dispose();
        if (_thread.IsAlive)
        {
            _thread.Join(ClientTimeoutMilliseconds * 2);
        }
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listener.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                if (_stopping)
                {
                    return;
                }

                continue; // a connection reset before it was accepted
            }

            using (client)
            {
                try
                {
                    Serve(client);
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
                {
                    // The client went away or was too slow: nothing to answer.
                }
            }
        }
    }

    private void Serve(Socket client)
    {
        client.ReceiveTimeout = ClientTimeoutMilliseconds;
        client.SendTimeout = ClientTimeoutMilliseconds;
        client.NoDelay = true;
        var head = new byte[MaxRequestHeadBytes];
        int length = 0;
        int end;
        while ((end = head.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == head.Length)
            {
                Respond(client, 431, "Request Header Fields Too Large", "text/plain; charset=utf-8", "request head too large\n", body: true);
                return;
            }

            int read = client.Receive(head, length, head.Length - length, SocketFlags.None);
            if (read == 0)
            {
                return; // closed before a whole request head
            }

            length += read;
        }

        // Request line (RFC 9112 3): method SP request-target SP HTTP-version.
        var line = Encoding.ASCII.GetString(head, 0, head.AsSpan(0, end).IndexOf("\r\n"u8) is int eol and >= 0 ? eol : end);
        var parts = line.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            Respond(client, 400, "Bad Request", "text/plain; charset=utf-8", "bad request\n", body: true);
            return;
        }

        string method = parts[0];
        string target = parts[1];
        int query = target.IndexOf('?');
        string path = query >= 0 ? target[..query] : target;
        bool isHead = method == "HEAD";
        if (path != Path)
        {
            Respond(client, 404, "Not Found", "text/plain; charset=utf-8", $"not found; metrics are at {Path}\n", body: !isHead);
            return;
        }

        if (method != "GET" && !isHead)
        {
            Respond(client, 405, "Method Not Allowed", "text/plain; charset=utf-8", "GET or HEAD only\n", body: true, allow: true);
            return;
        }

        string text;
        try
        {
            text = _render();
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException)
        {
            Respond(client, 500, "Internal Server Error", "text/plain; charset=utf-8", e.Message + "\n", body: !isHead);
            return;
        }

        Respond(client, 200, "OK", PrometheusTextWriter.ContentType, text, body: !isHead);
    }

    /// <summary>Writes a whole response (the body only when <paramref name="body"/>: not for HEAD) and ends sending.</summary>
    private static void Respond(Socket client, int status, string reason, string contentType, string text, bool body, bool allow = false)
    {
        byte[] content = Encoding.UTF8.GetBytes(text);
        var headText = new StringBuilder(256)
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {contentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {content.Length}\r\n")
            .Append(allow ? "Allow: GET, HEAD\r\n" : string.Empty)
            .Append("Cache-Control: no-store\r\nConnection: close\r\n\r\n")
            .ToString();
        client.Send(Encoding.ASCII.GetBytes(headText));
        if (body)
        {
            int sent = 0;
            while (sent < content.Length)
            {
                sent += client.Send(content, sent, content.Length - sent, SocketFlags.None);
            }
        }

        client.Shutdown(SocketShutdown.Send);
    }
}
