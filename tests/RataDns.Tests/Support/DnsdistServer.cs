using System.Diagnostics;

namespace RataDns.Tests.Support;

/// <summary>
/// A real dnsdist for tests: in the foreground on 127.0.0.1, with a plain DNS port, a DNS-over-TLS port and a
/// DNS-over-HTTPS port (a certificate made by openssl), forwarding to a backend on loopback, and logging every query
/// and response of its clients as dnstap to a Frame Streams unix socket; stopped by pid.
/// </summary>
internal sealed class DnsdistServer : IDisposable
{
    public const string Executable = "/usr/bin/dnsdist";
    private readonly Process _process;
    private readonly LockedLog _log;

    private DnsdistServer(Process process, LockedLog log, int port, int tlsPort, int httpsPort)
    {
        _process = process;
        _log = log;
        Port = port;
        TlsPort = tlsPort;
        HttpsPort = httpsPort;
    }

    public int Port { get; }

    public int TlsPort { get; }

    public int HttpsPort { get; }

    public string Log => _log.Text;

    /// <summary>Starts dnsdist before <paramref name="backendPort"/>, whose health check asks <paramref name="checkName"/>; returns once the backend is up.</summary>
    public static DnsdistServer Start(string folder, int backendPort, string checkName, string dnstapSocket)
    {
        string key = Path.Combine(folder, "dnsdist-key.pem"), certificate = Path.Combine(folder, "dnsdist-cert.pem");
        if (ExternalTool.Run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost"], out _, out string errors) != 0)
        {
            throw new InvalidOperationException("openssl: " + errors);
        }

        int port = RedisServer.FreePort(), tlsPort = RedisServer.FreePort(), httpsPort = RedisServer.FreePort();
        string configuration = Path.Combine(folder, "dnsdist.conf");
        File.WriteAllText(configuration, $"""
            setLocal("127.0.0.1:{port}")
            addTLSLocal("127.0.0.1:{tlsPort}", "{certificate}", "{key}")
            addDOHLocal("127.0.0.1:{httpsPort}", "{certificate}", "{key}", "/dns-query")
            newServer({"{"}address="127.0.0.1:{backendPort}", checkName="{checkName}"{"}"})
            tap = newFrameStreamUnixLogger("{dnstapSocket}")
            addAction(AllRule(), DnstapLogAction("dnsdist", tap))
            addResponseAction(AllRule(), DnstapLogResponseAction("dnsdist", tap))
            """);
        var log = new LockedLog();
        var process = ProcessCleanup.StartLogged(Executable, ["--supervised", "--disable-syslog", "-C", configuration], log);
        var server = new DnsdistServer(process, log, port, tlsPort, httpsPort);
        if (!SpinWait.SpinUntil(() => log.Text.Contains("as 'up'", StringComparison.Ordinal) || process.HasExited, TimeSpan.FromSeconds(60)) || process.HasExited)
        {
            server.Dispose();
            throw new InvalidOperationException("dnsdist did not mark its backend up: " + log.Text);
        }

        return server;
    }

    public void Dispose()
    {
        _process.Terminate(TimeSpan.FromSeconds(20));
        _process.KillAndDispose();
    }
}
