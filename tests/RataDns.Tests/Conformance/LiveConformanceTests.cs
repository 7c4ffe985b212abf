using System.Globalization;
using RataDns.Tests.Support;
using Xunit.Abstractions;

namespace RataDns.Tests.Conformance;

/// <summary>
/// Real traffic: scripts/test.sh runs tests/conformance/live-capture.sh (knot on 127.0.0.1 and ::1, dnsperf over
/// UDP and TCP, tcpdump on lo) and passes the capture in RATADNS_LIVE_PCAP. Every DNS message tshark dissects there
/// must come out of <c>ratadns serialize</c> with the same id, flags, counts and questions, and no other.
/// </summary>
public class LiveConformanceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Serialize_agrees_with_tshark_on_traffic_from_a_real_server()
    {
        var pcap = Environment.GetEnvironmentVariable("RATADNS_LIVE_PCAP");
        Skip.If(pcap is null, "RATADNS_LIVE_PCAP is not set: run the tests through scripts/test.sh, which captures live traffic first");
        Assert.True(File.Exists(pcap), $"the live capture {pcap} is missing: tests/conformance/live-capture.sh failed (see its output above)");
        Assert.True(File.Exists("/usr/bin/tshark"), "tshark is needed for this test (scripts/setup.sh installs it)");

        var port = ushort.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(pcap)!, "port")).Trim(), CultureInfo.InvariantCulture);
        var arguments = new List<string> { "-r", pcap!, "-d", $"udp.port=={port},dns", "-d", $"tcp.port=={port},dns" };
        arguments.AddRange(TsharkConformance.TsharkFieldArguments.Split(' '));
        int exit = ExternalTool.Run("/usr/bin/tshark", arguments, out var tsv, out var tsharkErrors);
        Assert.True(exit == 0, tsharkErrors);
        var theirs = TsharkConformance.ParseTsharkRows(tsv);

        var (ours, serializeExit, errors) = TsharkConformance.Serialize(pcap!, [port]);
        var description = TsharkConformance.Describe(ours, theirs);
        output.WriteLine(description);
        output.WriteLine(errors);

        Assert.Equal(0, serializeExit);
        // dnsperf ran 3 times; each query was answered, so a real capture has thousands of messages of both kinds.
        Assert.True(theirs.Count > 1000, $"tshark saw only {theirs.Count} DNS messages");
        Assert.Contains(theirs, m => m.Questions.Contains("bad_name.example.test", StringComparison.Ordinal));
        Assert.Contains(theirs, m => (m.Flags & 0xF) == 3);
        // Message for message, TCP answers split over segments included (stream reassembly).
        Assert.True(ours.Count == theirs.Count && TsharkConformance.MultisetMinus(ours, theirs).Count == 0, description);
    }
}
