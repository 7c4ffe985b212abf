using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RataDns.Tests.Support;

/// <summary>
/// A real Redis for tests: redis-server in the foreground on 127.0.0.1 and a given port, no persistence, stopped by
/// pid. Several may be started on the same port one after the other (a restart).
/// </summary>
internal sealed class RedisServer : IDisposable
{
    public const string Executable = "/usr/bin/redis-server";

    public const string MissingReason = "redis-server is not installed (/usr/bin/redis-server); scripts/setup.sh installs it";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static bool IsAvailable => File.Exists(Executable);

    /// <summary>Starts a server on <paramref name="port"/> and returns once it answers PING (within a minute).</summary>
    public static RedisServer Start(int port)
    {
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(a);
        }

        var server = new RedisServer(Process.Start(info)!, port);
        server._process.OutputDataReceived += server.Collect;
        server._process.ErrorDataReceived += server.Collect;
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        // A hang guard, not a timing: a loaded machine may take seconds to start it; one that never answers fails.
        long deadline = Environment.TickCount64 + 60_000;
        while (Environment.TickCount64 < deadline)
        {
            if (server.AnswersPing())
            {
                return server;
            }

            Thread.Sleep(50);
        }

        server.Dispose();
        lock (server._output)
        {
            throw new InvalidOperationException($"redis-server did not answer PING on port {port} within 60 s: {server._output}");
        }
    }

    /// <summary>A TCP port on loopback that nothing listens on now, chosen by the kernel.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Kills the server at once (no shutdown), as a crash would.</summary>
    public void Dispose()
    {
        _process.KillAndDispose();
    }

    private bool AnswersPing()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var reply = new byte[7];
            int read = 0;
            stream.ReadTimeout = 1000;
            while (read < reply.Length)
            {
                int n = stream.Read(reply, read, reply.Length - read);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return reply.AsSpan().SequenceEqual("+PONG\r\n"u8);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        lock (_output)
        {
            _output.AppendLine(e.Data);
        }
    }
}
