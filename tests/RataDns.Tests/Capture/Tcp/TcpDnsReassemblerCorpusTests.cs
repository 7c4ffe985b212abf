using System.Buffers.Binary;
using System.Globalization;
using RataDns.Capture;
using RataDns.Capture.Tcp;
using RataDns.DnsWire;

namespace RataDns.Tests.Capture.TcpReassembly;

/// <summary>
/// Real DNS-over-TCP captures of the shared corpus (../shared/corpus beside the repository): the messages the
/// reassembler delivers, as a multiset of (dns.id, dns.flags), against tshark's TCP rows in the reference dumps.
/// </summary>
public sealed class TcpDnsReassemblerCorpusTests
{
    /// <summary>
    /// Where tshark differs for a principled reason: the exact messages we deliver and it does not (+) or the reverse
    /// (-), as "id/flags" (hex, as tshark prints them).
    /// </summary>
    private static readonly Dictionary<string, string[]> KnownDifferences = new(StringComparer.Ordinal)
    {
        // The capture starts inside the client's first query, after its length prefix (frame 1). tshark reads the
        // query's id as a length and stays out of step for the rest of the stream, so the second query (frames 5 and
        // 7, whose prefix and message are both there) is not shown either. We find the framing again at it.
        ["DNS-OARC_dnscap/do1t-nosyn-1nolen.pcap"] = ["+0x8b51/0x0100"],

        // dnso1tcp.pcap with segments cut out of both directions. tshark, like us, skips the server's gap (no message
        // was pending there), but the client's gap cuts a 2-byte length segment, and tshark then reads the next
        // query's id as a length and never shows another client query. We skip the hole and find the framing at the
        // next prefix: 35 more queries, every one of them in dnso1tcp.pcap (checked below).
        ["DNS-OARC_dnscap/dnso1tcp-bighole.pcap"] =
        [
            "+0x072a/0x0100", "+0x2116/0x0100", "+0x2980/0x0100", "+0x2d5e/0x0100", "+0x2f06/0x0100", "+0x4524/0x0100",
            "+0x49c6/0x0100", "+0x5100/0x0100", "+0x59c4/0x0100", "+0x6357/0x0100", "+0x6359/0x0100", "+0x63c7/0x0100",
            "+0x6537/0x0100", "+0x7bb5/0x0100", "+0x7d8e/0x0100", "+0x8173/0x0100", "+0x9342/0x0100", "+0xa350/0x0100",
            "+0xafb9/0x0100", "+0xb0c0/0x0100", "+0xb1c8/0x0100", "+0xb1df/0x0100", "+0xb933/0x0100", "+0xbd30/0x0100",
            "+0xc14b/0x0100", "+0xd5b2/0x0100", "+0xe48e/0x0100", "+0xe725/0x0100", "+0xe77a/0x0100", "+0xeb62/0x0100",
            "+0xed88/0x0100", "+0xefe7/0x0100", "+0xf936/0x0100", "+0xfb45/0x0100", "+0xfb66/0x0100",
        ],

        // tshark 4.0 does not reassemble out-of-order TCP segments by default (tcp.reassemble_out_of_order is off),
        // so the responses whose segments arrived out of order are missing from its dump. With
        // `-o tcp.reassemble_out_of_order:TRUE` tshark shows exactly these 27 more messages, and then equals ours.
        ["orb-community_pktvisor/dns_udp_tcp_random.pcap"] =
        [
            "+0x0e03/0x8180", "+0x0e03/0x8180", "+0x1228/0x8180", "+0x2209/0x8180", "+0x2209/0x8180", "+0x2247/0x8180",
            "+0x4085/0x8180", "+0x45ca/0x8180", "+0x4642/0x8180", "+0x4707/0x8180", "+0x4c5c/0x8180", "+0x6815/0x8180",
            "+0x6e57/0x8180", "+0x7c60/0x8180", "+0x7c60/0x8180", "+0x8637/0x8180", "+0x9592/0x8180", "+0x9d84/0x8180",
            "+0xa947/0x8180", "+0xb07e/0x8180", "+0xb440/0x8180", "+0xc07e/0x8180", "+0xd8a9/0x8180", "+0xe737/0x8180",
            "+0xf2bc/0x8180", "+0xf449/0x8180", "+0xfd9b/0x8180",
        ],
    };

    /// <summary>Captures with no loss: nothing may be skipped and no hole may be seen.</summary>
    private static readonly HashSet<string> Lossless = new(StringComparer.Ordinal)
    {
        "DNS-OARC_dnscap/dnso1tcp.pcap",
        "DNS-OARC_dnscap/dnsotcp-many1pkt.pcap",
        "DNS-OARC_dnscap/dnsotcp-manyopkts.pcap",
        "DNS-OARC_dnscap/1qtcpnosyn.pcap",
        "DNS-OARC_dnscap/1qtcppadd.pcap",
        "CZ-NIC_dns-probe/tcp_simple.pcap",
        "CZ-NIC_dns-probe/tcp_axfr_zone_transfer.pcap",
        "OISF_suricata-verify/dns__dns-tcp-multirequest-buffer__dns-tcp-multirequest-buffer.pcap",
        "orb-community_pktvisor/dns_udp_tcp_random.pcap",
    };

    public static TheoryData<string> Files() =>
    [
        "DNS-OARC_dnscap/dnso1tcp.pcap",
        "DNS-OARC_dnscap/dnso1tcp-midmiss.pcap",
        "DNS-OARC_dnscap/dnso1tcp-bighole.pcap",
        "DNS-OARC_dnscap/dnsotcp-many1pkt.pcap",
        "DNS-OARC_dnscap/dnsotcp-manyopkts.pcap",
        "DNS-OARC_dnscap/1qtcpnosyn.pcap",
        "DNS-OARC_dnscap/1qtcppadd.pcap",
        "DNS-OARC_dnscap/do1t-nosyn-1nolen.pcap",
        "CZ-NIC_dns-probe/tcp_simple.pcap",
        "CZ-NIC_dns-probe/tcp_axfr_zone_transfer.pcap",
        "OISF_suricata-verify/dns__dns-tcp-multirequest-buffer__dns-tcp-multirequest-buffer.pcap",
        "orb-community_pktvisor/dns_udp_tcp_random.pcap",
    ];

    internal static string? CorpusDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RataDns.slnx")))
            {
                string corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                return File.Exists(Path.Combine(corpus, "INDEX.tsv")) ? corpus : null;
            }
        }

        return null;
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Delivered_messages_match_tsharks_tcp_rows(string file)
    {
        string? corpus = CorpusDirectory();
        Skip.If(corpus is null, "the capture corpus (../shared/corpus/INDEX.tsv beside the repository) is absent");
        string path = Path.Combine(corpus, file);
        Skip.IfNot(File.Exists(path) && File.Exists(path + ".tshark.tsv"), $"{file} or its tshark dump is absent");

        var (ours, statistics) = Reassemble(path);
        var reference = TsharkTcpMessages(path + ".tshark.tsv");

        var extra = Subtract(ours, reference);
        var missing = Subtract(reference, ours);
        string[] difference = [.. extra.Select(m => "+" + m), .. missing.Select(m => "-" + m)];
        Array.Sort(difference, StringComparer.Ordinal);
        string[] expected = KnownDifferences.TryGetValue(file, out var known) ? [.. known.Order(StringComparer.Ordinal)] : [];
        Assert.True(
            expected.SequenceEqual(difference),
            $"{file}: ours {ours.Count}, tshark {reference.Count}; difference [{string.Join(", ", difference)}], expected [{string.Join(", ", expected)}]; " +
            $"holes {statistics.Holes}, resyncs {statistics.Resynchronisations}, skipped {statistics.BytesSkipped}, retransmissions {statistics.Retransmissions}, out-of-order {statistics.OutOfOrder}");

        if (Lossless.Contains(file))
        {
            Assert.Equal(0, statistics.Holes);
            Assert.Equal(0, statistics.BytesSkipped);
        }

        if (file == "DNS-OARC_dnscap/dnso1tcp-bighole.pcap")
        {
            // Whatever we find after the holes is real: every message is in the capture the holes were cut from.
            var whole = TsharkTcpMessages(Path.Combine(corpus, "DNS-OARC_dnscap/dnso1tcp.pcap.tshark.tsv"));
            Assert.Empty(Subtract(ours, whole));
            Assert.Equal(2, statistics.Holes);
        }
    }

    /// <summary>Reads, decodes and reassembles every TCP/53 packet of a capture; the end of the file flushes.</summary>
    internal static (List<string> Messages, TcpReassemblyStatistics Statistics) Reassemble(string path)
    {
        using var reader = CaptureFileReader.Open(path);
        var feeder = new CorpusFeeder(new TcpDnsReassembler());
        reader.ReadAll(ref feeder);
        var sink = feeder.Sink;
        feeder.Reassembler.Flush(0, ref sink);
        return (sink.Messages, feeder.Reassembler.Statistics);
    }

    /// <summary>The (id, flags) of every message in the TCP rows: column 7 (tcp.srcport) set, columns 8 and 9 comma-joined.</summary>
    private static List<string> TsharkTcpMessages(string tsv)
    {
        var messages = new List<string>();
        foreach (string line in File.ReadLines(tsv))
        {
            string[] columns = line.Split('\t');
            if (columns.Length < 9 || columns[6].Length == 0)
            {
                continue;
            }

            string[] ids = columns[7].Split(',');
            string[] flags = columns[8].Split(',');
            for (int i = 0; i < ids.Length; i++)
            {
                messages.Add(Key(ParseHex(ids[i]), ParseHex(i < flags.Length ? flags[i] : "")));
            }
        }

        return messages;
    }

    private static int ParseHex(string value) =>
        value.StartsWith("0x", StringComparison.Ordinal)
            ? int.Parse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : -1;

    internal static string Key(int id, int flags) => $"0x{id:x4}/0x{flags:x4}";

    private static List<string> Subtract(List<string> a, List<string> b)
    {
        var counts = b.GroupBy(x => x, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var rest = new List<string>();
        foreach (string x in a)
        {
            if (counts.TryGetValue(x, out int n) && n > 0)
            {
                counts[x] = n - 1;
            }
            else
            {
                rest.Add(x);
            }
        }

        return rest;
    }

    /// <summary>Collects "id/flags" of every message (test-only: allocates per message).</summary>
    internal struct KeySink : ITcpMessageHandler
    {
        public KeySink()
        {
        }

        public List<string> Messages { get; } = [];

        public readonly void OnMessage(in DecodedPacket segment, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            // tshark needs the 12-byte header to show an id and flags; a shorter message gives no dns row.
            if (message.Length >= 12)
            {
                Messages.Add(Key(BinaryPrimitives.ReadUInt16BigEndian(message), BinaryPrimitives.ReadUInt16BigEndian(message[2..])));
            }
        }
    }

    private struct CorpusFeeder(TcpDnsReassembler reassembler) : ICaptureFrameHandler
    {
        public KeySink Sink = new();

        public readonly TcpDnsReassembler Reassembler => reassembler;

        public void OnFrame(in CapturedFrame frame)
        {
            var status = PacketDecoder.Decode(in frame, DnsPortSet.Default, out var packet);
            if (status == PacketDecodeStatus.Ok && packet.Transport == TransportProtocol.Tcp)
            {
                reassembler.Add(in packet, frame.TimestampNanoseconds, ref Sink);
            }
        }
    }
}
