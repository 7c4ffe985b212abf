using RataDns.App.Gen;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// <c>ratadns gen --flood clients|tcp|fragments</c> (<see cref="SyntheticCapture.Write"/> with a
/// <see cref="SyntheticFlood"/>), read back by tshark as the independent reference: new clients for every query,
/// TCP connections that never deliver a whole DNS message, and first fragments that never reassemble.
/// </summary>
public class GenFloodTests
{
    private const string Tshark = "/usr/bin/tshark";

    [SkippableFact]
    public void Client_flood_asks_every_query_from_a_new_client_and_answers_it_there()
    {
        Skip.IfNot(File.Exists(Tshark), "tshark is needed as the independent reference");
        using var capture = new TempCapture("clients");
        const int Packets = 20_000;
        Assert.Equal(Packets, SyntheticCapture.Write(capture.Path, Packets, seed: 13, flood: SyntheticFlood.Clients));

        var rows = Fields(capture.Path, [], "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "dns.flags.response", "dns.id", "dns.qry.name");
        Assert.Equal(Packets, rows.Count);
        var queries = rows.Where(r => r[4] == "0").ToList();
        Assert.Equal(Packets / 2, queries.Count);
        Assert.Equal(Packets / 2, rows.Count(r => r[4] == "1"));

        // Every query from an address never seen before; about a fifth of them IPv6.
        Assert.Equal(queries.Count, queries.Select(r => r[0] + r[1]).Distinct(StringComparer.Ordinal).Count());
        int ipv6 = queries.Count(r => r[1].Length > 0);
        Assert.InRange(ipv6, queries.Count / 10, queries.Count * 3 / 10);

        // The names are the ordinary Zipf-like ones: popular names repeat.
        Assert.True(queries.Select(r => r[6]).Distinct(StringComparer.OrdinalIgnoreCase).Count() < queries.Count / 2);

        // Each response goes back to the client of the query just before it, with its id and name.
        for (int i = 0; i + 1 < rows.Count; i += 2)
        {
            Assert.Equal("0", rows[i][4]);
            Assert.Equal("1", rows[i + 1][4]);
            Assert.Equal(rows[i][0] + rows[i][1], rows[i + 1][2] + rows[i + 1][3]);
            Assert.Equal(rows[i][5], rows[i + 1][5]);
            Assert.Equal(rows[i][6], rows[i + 1][6]);
        }

        Assert.Equal(0, Count(capture.Path, "_ws.malformed"));
        Assert.Equal(0, Count(capture.Path, "ip.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0", CheckChecksums));
    }

    [SkippableFact]
    public void Tcp_flood_opens_a_new_connection_per_two_packets_and_never_completes_a_message()
    {
        Skip.IfNot(File.Exists(Tshark), "tshark is needed as the independent reference");
        using var capture = new TempCapture("tcp");
        const int Packets = 20_000;
        const int Connections = Packets / 2;
        Assert.Equal(Packets, SyntheticCapture.Write(capture.Path, Packets, seed: 17, flood: SyntheticFlood.Tcp));

        var rows = Fields(capture.Path, CheckChecksums, "tcp.stream", "tcp.flags", "tcp.seq_raw", "tcp.len", "tcp.payload", "tcp.dstport", "tcp.checksum.status", "ip.checksum.status");
        Assert.Equal(Packets, rows.Count);
        Assert.Equal(Connections, Count(capture.Path, "tcp.flags.syn == 1 && tcp.flags.ack == 0"));
        Assert.Equal(Connections, rows.Select(r => r[0]).Distinct(StringComparer.Ordinal).Count());
        Assert.All(rows, r => Assert.Equal("53", r[5]));
        Assert.All(rows, r => Assert.Equal("1", r[6]));
        Assert.All(rows, r => Assert.True(r[7] is "1" or "", "a bad IPv4 header checksum"));

        for (int i = 0; i < rows.Count; i += 2)
        {
            string[] syn = rows[i], data = rows[i + 1];
            Assert.Equal("0x0002", syn[1]);
            Assert.Equal("0", syn[3]);
            Assert.Equal("0x0018", data[1]);
            Assert.Equal(syn[0], data[0]);
            Assert.Equal(uint.Parse(syn[2], System.Globalization.CultureInfo.InvariantCulture) + 1, uint.Parse(data[2], System.Globalization.CultureInfo.InvariantCulture));

            // The segment: a 2-byte length announcing the whole query, then only its first half: a query header.
            byte[] payload = Convert.FromHexString(data[4]);
            int announced = (payload[0] << 8) | payload[1];
            Assert.InRange(announced, 12 + 5, 512);
            Assert.Equal(2 + (announced / 2), int.Parse(data[3], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(payload.Length, 2 + (announced / 2));
            Assert.Equal([0x01, 0x00, 0x00, 0x01], payload[4..8]);   // RD, one question
        }

        // tshark's reassembler waits for the rest of every message: no DNS, and no connection ever closes.
        Assert.Equal(0, Count(capture.Path, "dns"));
        Assert.Equal(0, Count(capture.Path, "tcp.flags.fin == 1 || tcp.flags.reset == 1"));
        Assert.Equal(0, Count(capture.Path, "_ws.malformed"));
    }

    [SkippableFact]
    public void Fragment_flood_writes_only_first_fragments_that_never_reassemble()
    {
        Skip.IfNot(File.Exists(Tshark), "tshark is needed as the independent reference");
        using var capture = new TempCapture("fragments");
        const int Packets = 20_000;
        Assert.Equal(Packets, SyntheticCapture.Write(capture.Path, Packets, seed: 19, flood: SyntheticFlood.Fragments));

        var rows = Fields(capture.Path, CheckChecksums, "ip.flags.mf", "ip.frag_offset", "ip.len", "ip.proto", "ip.src", "ip.dst", "ip.id", "ip.checksum.status", "frame.len");
        Assert.Equal(Packets, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal("1", r[0]);
            Assert.Equal("0", r[1]);
            Assert.Equal("1500", r[2]);
            Assert.Equal("17", r[3]);
            Assert.Equal("192.0.2.53", r[4]);
            Assert.Equal("1", r[7]);
            Assert.Equal("1514", r[8]);
        });
        Assert.Equal(Packets, rows.Select(r => (r[4], r[5], r[6])).Distinct().Count());
        Assert.True(rows.Select(r => r[6]).Distinct(StringComparer.Ordinal).Count() > 1, "the IP id should advance as clients repeat");

        // Nothing reassembles, so tshark never sees the UDP datagram or the DNS response inside it.
        Assert.Equal(0, Count(capture.Path, "dns"));
        Assert.Equal(0, Count(capture.Path, "udp"));
        Assert.Equal(Packets, Count(capture.Path, "ip.flags.mf == 1 && ip.frag_offset == 0"));
    }

    [Theory]
    [InlineData(SyntheticFlood.Clients)]
    [InlineData(SyntheticFlood.Tcp)]
    [InlineData(SyntheticFlood.Fragments)]
    public void The_same_seed_gives_the_same_flood_and_another_seed_another(SyntheticFlood flood)
    {
        using var a = new TempCapture($"{flood}-a");
        using var b = new TempCapture($"{flood}-b");
        Assert.Equal(101, SyntheticCapture.Write(a.Path, 101, seed: 1, flood: flood));
        SyntheticCapture.Write(b.Path, 101, seed: 1, flood: flood);
        Assert.Equal(File.ReadAllBytes(a.Path), File.ReadAllBytes(b.Path));

        SyntheticCapture.Write(b.Path, 101, seed: 2, flood: flood);
        Assert.NotEqual(File.ReadAllBytes(a.Path), File.ReadAllBytes(b.Path));
    }

    [Fact]
    public void Unique_names_is_the_names_flood_and_combines_with_no_other()
    {
        using var a = new TempCapture("names-a");
        using var b = new TempCapture("names-b");
        SyntheticCapture.Write(a.Path, 100, seed: 3, uniqueNames: true);
        SyntheticCapture.Write(b.Path, 100, seed: 3, flood: SyntheticFlood.Names);
        Assert.Equal(File.ReadAllBytes(a.Path), File.ReadAllBytes(b.Path));
        Assert.Throws<ArgumentException>(() => SyntheticCapture.Write(b.Path, 100, seed: 3, uniqueNames: true, flood: SyntheticFlood.Tcp));
    }

    private static readonly string[] CheckChecksums = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"];

    private static List<string[]> Fields(string path, string[] options, params string[] fields)
    {
        var arguments = new List<string> { "-r", path, "-T", "fields" };
        arguments.AddRange(options);
        foreach (var field in fields)
        {
            arguments.Add("-e");
            arguments.Add(field);
        }

        ExternalTool.Run(Tshark, arguments, out var tsv, out _);
        return [.. tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))];
    }

    private static int Count(string path, string filter, string[]? options = null)
    {
        ExternalTool.Run(Tshark, ["-r", path, .. options ?? [], "-Y", filter, "-T", "fields", "-e", "frame.number"], out var rows, out _);
        return rows.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>A capture file in the temp folder, deleted on dispose.</summary>
    private sealed class TempCapture(string name) : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ratadns-flood-{name}-{Environment.ProcessId}.pcap");

        public void Dispose() => File.Delete(Path);
    }
}
