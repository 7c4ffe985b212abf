using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RataDns.Tests.Support;

/// <summary>
/// A real authoritative server for tests: knotd in the foreground on 127.0.0.1 and ::1 and a free port, serving
/// example.test (names with '_', a 60-record RRset, a 1.3 KB TXT) from a temporary folder; stopped by pid.
/// </summary>
internal sealed class KnotServer : IDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private KnotServer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public static bool IsAvailable => File.Exists("/usr/sbin/knotd") && File.Exists("/usr/bin/kdig");

    /// <summary>
    /// Starts knotd on <paramref name="port"/> (a free one by default); with <paramref name="dnstapSocket"/>, mod-dnstap
    /// logs every query and response to that Frame Streams socket (Debian's knot-module-dnstap).
    /// </summary>
    public static KnotServer Start(int? port = null, string? dnstapSocket = null)
    {
        var folder = Directory.CreateTempSubdirectory("ratadns-knot-").FullName;
        int listenPort = port ?? FreePort();
        var zone = new System.Text.StringBuilder();
        zone.Append("$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 hostmaster 2026112901 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n");
        zone.Append("www A 192.0.2.10\nwww AAAA 2001:db8::10\nalias CNAME www\nmail A 192.0.2.25\n@ MX 10 mail\n");
        zone.Append("_dmarc TXT \"v=DMARC1; p=none\"\n_sip._udp SRV 10 60 5060 sip\nsip A 192.0.2.60\nbad_name A 192.0.2.66\n");
        zone.Append("big TXT");
        for (char c = 'a'; c <= 'e'; c++)
        {
            zone.Append(" \"").Append(c, 250).Append('"');
        }

        zone.Append('\n');
        for (int i = 1; i <= 60; i++)
        {
            zone.Append("many A 198.51.100.").Append(i).Append('\n');
        }

        File.WriteAllText(Path.Combine(folder, "example.test.zone"), zone.ToString());
        File.WriteAllText(Path.Combine(folder, "knot.conf"), $"""
            server:
                rundir: "{folder}"
                listen: [ 127.0.0.1@{listenPort}, ::1@{listenPort} ]
            log:
              - target: stderr
                any: warning
            database:
                storage: "{folder}/db"
            {(dnstapSocket is null ? string.Empty : $"mod-dnstap:\n  - id: tap\n    sink: \"unix:{dnstapSocket}\"\n    log-queries: on\n    log-responses: on\n")}
            template:
              - id: default
                storage: "{folder}"
                file: "%s.zone"
            {(dnstapSocket is null ? string.Empty : "    global-module: mod-dnstap/tap")}
            zone:
              - domain: example.test
            """);
        var info = new ProcessStartInfo("/usr/sbin/knotd") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Path.Combine(folder, "knot.conf"));
        var process = Process.Start(info)!;
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new KnotServer(process, folder, listenPort);
        string last = string.Empty;
        for (int i = 0; i < 50; i++)
        {
            int code = ExternalTool.Run("/usr/bin/kdig", ["@127.0.0.1", "-p", listenPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "+short", "+timeout=1", "+retry=0", "www.example.test", "A"], out var answer, out var kdigErrors);
            if (code == 0 && answer.Contains("192.0.2.10", StringComparison.Ordinal))
            {
                return server;
            }

            last = $"kdig exit {code}: {answer} {kdigErrors}";

            Thread.Sleep(100);
        }

        server.Dispose();
        lock (log)
        {
            throw new InvalidOperationException($"knotd did not start answering within 5 s ({last}): {log}");
        }
    }

    /// <summary>The query file dnsperf reads: names with '_', NXDOMAIN, REFUSED, large answers.</summary>
    public string WriteQueryFile()
    {
        var path = Path.Combine(_folder, "queries.txt");
        File.WriteAllText(path, """
            www.example.test A
            www.example.test AAAA
            alias.example.test A
            example.test MX
            _dmarc.example.test TXT
            _sip._udp.example.test SRV
            bad_name.example.test A
            big.example.test TXT
            many.example.test A
            nothere.example.test A
            www.other.zone A
            """);
        return path;
    }

    public void Dispose()
    {
        try
        {
            _process.KillAndDispose();
        }
        finally
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static int FreePort()
    {
        // A port free for both UDP and TCP on loopback, chosen by the kernel.
        for (int attempt = 0; attempt < 20; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            tcp.Stop();
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port");
    }
}
