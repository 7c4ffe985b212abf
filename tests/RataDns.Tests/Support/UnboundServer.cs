using System.Diagnostics;
using System.Globalization;

namespace RataDns.Tests.Support;

/// <summary>
/// A real Unbound for tests: in the foreground on 127.0.0.1 and a free port, answering a small local zone (test.)
/// without any network, logging its client queries and responses as dnstap to a Frame Streams socket (if given), optionally with
/// a DNS-over-TLS port (a certificate made by openssl for the test); stopped by pid.
/// </summary>
internal sealed class UnboundServer : IDisposable
{
    private readonly Process _process;
    private readonly LockedLog _log;

    private UnboundServer(Process process, LockedLog log)
    {
        _process = process;
        _log = log;
    }

    public string Log => _log.Text;

    /// <summary>Starts Unbound; returns once its dnstap thread has connected to <paramref name="dnstapSocket"/> and it answers.</summary>
    public static UnboundServer Start(string folder, int port, string? dnstapSocket, int? tlsPort)
    {
        string tls = string.Empty;
        if (tlsPort is int p)
        {
            string key = Path.Combine(folder, "key.pem"), certificate = Path.Combine(folder, "cert.pem");
            int code = ExternalTool.Run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost"], out _, out string errors);
            if (code != 0)
            {
                throw new InvalidOperationException("openssl: " + errors);
            }

            tls = $"""
                  interface: 127.0.0.1@{p}
                  tls-port: {p}
                  tls-service-key: "{key}"
                  tls-service-pem: "{certificate}"
                """;
        }

        string configuration = Path.Combine(folder, "unbound.conf");
        File.WriteAllText(configuration, $"""
            server:
              interface: 127.0.0.1@{port}
            {tls}
              port: {port}
              do-daemonize: no
              chroot: ""
              username: ""
              pidfile: ""
              directory: "{folder}"
              use-syslog: no
              logfile: ""
              verbosity: 2
              do-ip6: no
              local-zone: "test." static
              local-data: "a.test. 300 IN A 192.0.2.10"
              local-data: "b.test. 300 IN AAAA 2001:db8::10"
              local-data: "c.test. 300 IN MX 10 a.test."
              local-data: "t.test. 300 IN TXT \"dnstap\""
            remote-control:
              control-enable: no
            {(dnstapSocket is null ? string.Empty : $"dnstap:\n  dnstap-enable: yes\n  dnstap-socket-path: \"{dnstapSocket}\"\n  dnstap-send-identity: yes\n  dnstap-identity: \"vm-ratadns-test\"\n  dnstap-log-client-query-messages: yes\n  dnstap-log-client-response-messages: yes")}
            """);
        var log = new LockedLog();
        var process = ProcessCleanup.StartLogged("/usr/sbin/unbound", ["-c", configuration], log);
        var server = new UnboundServer(process, log);
        try
        {
            // Messages logged before the dnstap thread connects are lost: wait for it, then for an answer.
            if (dnstapSocket is not null && !SpinWait.SpinUntil(() => log.Text.Contains("dnstap io: connected", StringComparison.Ordinal) || process.HasExited, TimeSpan.FromSeconds(60)))
            {
                throw new InvalidOperationException("unbound did not connect to the dnstap socket: " + log.Text);
            }

            if (!SpinWait.SpinUntil(() => ExternalTool.Run("/usr/bin/kdig", ["@127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "a.test", "A", "+retry=0", "+timeout=1"], out string answer, out _) == 0 && answer.Contains("192.0.2.10", StringComparison.Ordinal), TimeSpan.FromSeconds(60)))
            {
                throw new InvalidOperationException("unbound did not answer: " + log.Text);
            }

            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>dnsperf's query file: answers (A, AAAA, MX, TXT), no data (AAAA of a name with an A) and NXDOMAIN.</summary>
    public static string QueryFile(string folder)
    {
        string path = Path.Combine(folder, "queries.txt");
        File.WriteAllText(path, "a.test A\nb.test AAAA\nc.test MX\nt.test TXT\nnx.test A\na.test AAAA\n");
        return path;
    }

    public void Dispose()
    {
        // SIGTERM: unbound closes its dnstap stream (STOP); then the process is gone whatever happened.
        _process.Terminate(TimeSpan.FromSeconds(20));
        _process.KillAndDispose();
    }
}
