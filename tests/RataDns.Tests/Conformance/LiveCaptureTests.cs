using System.Globalization;
using System.Text.RegularExpressions;
using RataDns.App.Commands;
using RataDns.Capture;
using RataDns.Tests.Support;
using Xunit.Abstractions;

namespace RataDns.Tests.Conformance;

/// <summary>
/// Live capture end to end: knot on loopback, dnsperf at a fixed rate over UDP and TCP, and <c>ratadns inspect
/// --interface lo</c> capturing at the same time. Every query dnsperf sent and every response it received must be
/// seen as a DNS message (libpcap reports no drops at this rate).
/// </summary>
public class LiveCaptureTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Live_capture_on_lo_sees_every_query_and_response_of_dnsperf()
    {
        Skip.IfNot(Environment.UserName == "root", "live capture needs root (CAP_NET_RAW)");
        Skip.IfNot(KnotServer.IsAvailable && DnsperfStatistics.IsAvailable, "knot and dnsperf are needed (scripts/setup.sh installs them)");
        Skip.IfNot(File.Exists("/usr/lib/x86_64-linux-gnu/libpcap.so.0.8") || File.Exists("/usr/lib/aarch64-linux-gnu/libpcap.so.0.8"), "libpcap0.8 is not installed");

        using var knot = KnotServer.Start();
        string port = knot.Port.ToString(CultureInfo.InvariantCulture);
        string queries = knot.WriteQueryFile();

        using var stop = new CancellationTokenSource();
        var report = new StringWriter();
        var errors = new StringWriter();
        int exit = -1;
        var capture = new Thread(() => exit = InspectCommand.Run(
            new CaptureSourceSettings { Interface = "lo", Filter = $"port {port}" },
            new DnsPortSet([(ushort)knot.Port]),
            null,
            report,
            errors,
            stop.Token));
        capture.Start();
        Thread.Sleep(1500); // let libpcap open the interface before traffic starts

        long expected = 0;
        foreach (var mode in new[] { "udp", "tcp" })
        {
            int code = ExternalTool.Run(DnsperfStatistics.Executable, ["-s", "127.0.0.1", "-p", port, "-m", mode, "-d", queries, "-l", "3", "-Q", "300"], out var perf, out var perfErrors);
            Assert.True(code == 0, perfErrors);
            var statistics = DnsperfStatistics.Parse(perf);
            long sent = statistics.Sent;
            long completed = statistics.Completed;
            output.WriteLine($"dnsperf {mode}: sent {sent}, completed {completed}");
            expected += sent + completed;
        }

        Thread.Sleep(1000);
        stop.Cancel();
        Assert.True(capture.Join(TimeSpan.FromSeconds(30)), "the capture did not stop");
        output.WriteLine(report.ToString());
        output.WriteLine(errors.ToString());
        Assert.Equal(0, exit);

        var text = report.ToString();
        long seen = Counter(text, "dns messages");
        long kernelDrops = Counter(text, "kernel drops");
        long ringDrops = Counter(text, "ring drops");
        Assert.Equal(0, kernelDrops);
        Assert.Equal(0, ringDrops);
        Assert.True(expected > 1500, $"dnsperf ran too little traffic ({expected} messages)");
        Assert.Equal(expected, seen);
        Assert.True(Counter(text, "  tcp") > 0, "no DNS over TCP was seen");
    }

    private static long Counter(string report, string name)
    {
        var match = Regex.Match(report, "^" + Regex.Escape(name) + @": (\d+)$", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
