using RataDns.App.Gen;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// <c>ratadns gen --unique-names</c> (<see cref="SyntheticCapture.Write"/> with <c>uniqueNames</c>): a random-subdomain
/// flood where every query asks a name never asked before under <see cref="SyntheticCapture.FloodZone"/> and every
/// response is NXDOMAIN, read back by tshark as the independent reference.
/// </summary>
public class GenTests
{
    [SkippableFact]
    public void Unique_names_give_every_query_a_new_name_under_the_zone_and_every_response_nxdomain()
    {
        Skip.IfNot(File.Exists("/usr/bin/tshark"), "tshark is needed as the independent reference");
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-flood-{Environment.ProcessId}.pcap");
        try
        {
            const int Packets = 20_000;
            Assert.Equal(Packets, SyntheticCapture.Write(path, Packets, seed: 11, uniqueNames: true));

            ExternalTool.Run("/usr/bin/tshark", ["-r", path, "-T", "fields", "-e", "dns.flags.response", "-e", "dns.qry.name", "-e", "dns.flags.rcode"], out var tsv, out _);
            var rows = tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
            Assert.Equal(Packets, rows.Count);

            var queries = rows.Where(r => r[0] == "0").ToList();
            var responses = rows.Where(r => r[0] == "1").ToList();
            Assert.Equal(Packets / 2, queries.Count);
            Assert.Equal(Packets / 2, responses.Count);
            Assert.Equal(queries.Count, queries.Select(r => r[1]).Distinct(StringComparer.OrdinalIgnoreCase).Count());
            Assert.All(queries, r => Assert.EndsWith("." + SyntheticCapture.FloodZone, r[1], StringComparison.Ordinal));
            Assert.All(responses, r => Assert.Equal("3", r[2]));

            // Each response answers the query just before it, and tshark finds nothing malformed.
            for (int i = 0; i + 1 < rows.Count; i += 2)
            {
                Assert.Equal(rows[i][1], rows[i + 1][1]);
            }

            ExternalTool.Run("/usr/bin/tshark", ["-r", path, "-Y", "_ws.malformed"], out var malformed, out _);
            Assert.Equal(string.Empty, malformed.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_flood_and_another_seed_another()
    {
        var a = Path.Combine(Path.GetTempPath(), $"ratadns-flood-a-{Environment.ProcessId}.pcap");
        var b = Path.Combine(Path.GetTempPath(), $"ratadns-flood-b-{Environment.ProcessId}.pcap");
        try
        {
            SyntheticCapture.Write(a, 100, seed: 1, uniqueNames: true);
            SyntheticCapture.Write(b, 100, seed: 1, uniqueNames: true);
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));

            SyntheticCapture.Write(b, 100, seed: 2, uniqueNames: true);
            Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }
}
