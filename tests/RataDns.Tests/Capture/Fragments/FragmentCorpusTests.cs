using System.Buffers.Binary;
using System.Globalization;
using RataDns.Capture;
using RataDns.Capture.Fragments;
using RataDns.DnsWire;
using Xunit.Abstractions;

namespace RataDns.Tests.Capture.Fragments;

/// <summary>
/// Captures of the shared corpus with fragmented DNS over UDP: every UDP DNS message, whole or reassembled, must
/// match the UDP rows of tshark's dump (which reassembles too), as a multiset of (dns.id, dns.flags).
/// </summary>
public sealed class FragmentCorpusTests(ITestOutputHelper output)
{
    private static string? CorpusDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RataDns.slnx")))
            {
                string corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                return Directory.Exists(corpus) ? corpus : null;
            }
        }

        return null;
    }

    [SkippableTheory]
    [InlineData("DNS-OARC_dnscap/frags.pcap")]
    [InlineData("zeek_zeek/ipv6-fragmented-dns.pcap")]
    [InlineData("dmachard_go-dnscollector/testsdata__pcap__dnsdump_ip4_fragmented_query.pcap")]
    [InlineData("dmachard_go-dnscollector/testsdata__pcap__dnsdump_ip6_fragmented_query.pcap")]
    [InlineData("dmachard_go-dnscollector/testsdata__pcap__dnsdump_ip4_fragmented+udp.pcap")]
    [InlineData("dmachard_go-dnscollector/testsdata__pcap__dnsdump_ip6_fragmented+udp.pcap")]
    [InlineData("orb-community_pktvisor/ecs.pcap")]
    public void Udp_dns_messages_match_tshark_after_reassembly(string file)
    {
        string? corpus = CorpusDirectory();
        Skip.If(corpus is null, "the capture corpus (../shared/corpus beside the repository) is absent");
        string path = Path.Combine(corpus, file);
        Skip.IfNot(File.Exists(path) && File.Exists(path + ".tshark.tsv"), $"{file} or its tshark dump is not in this corpus");

        var expected = TsharkUdpMessages(path + ".tshark.tsv");

        using var reader = CaptureFileReader.Open(path);
        var collector = new UdpDnsCollector(new IpFragmentReassembler());
        reader.ReadAll(ref collector);

        var stats = collector.Reassembler.Statistics;
        output.WriteLine(
            $"{file}: tshark UDP rows {expected.Count}, ours {collector.Messages.Count}; fragments {stats.Fragments}, "
            + $"reassembled {stats.Reassembled}, duplicates {stats.Duplicates}, pending {collector.Reassembler.PendingDatagrams}");
        Assert.Null(reader.Error);
        Assert.Equal(expected.Order(StringComparer.Ordinal), collector.Messages.Order(StringComparer.Ordinal));
        Assert.Equal(0, collector.Reassembler.Statistics.Invalid);
        Assert.Equal(0, collector.Reassembler.Statistics.Overlaps);
        Assert.True(collector.Reassembled > 0 || !file.Contains("frag", StringComparison.Ordinal), "nothing was reassembled");
    }

    /// <summary>"id/flags" of every row with a UDP source port (column 6); tshark writes both as 0x-prefixed hex.</summary>
    private static List<string> TsharkUdpMessages(string tsv) =>
        [.. File.ReadLines(tsv)
            .Select(line => line.Split('\t'))
            .Where(cols => cols.Length > 8 && cols[5].Length > 0)
            .Select(cols => $"{cols[7]}/{cols[8]}")];

    private static string Key(ReadOnlySpan<byte> dns) =>
        string.Create(CultureInfo.InvariantCulture, $"0x{BinaryPrimitives.ReadUInt16BigEndian(dns):x4}/0x{BinaryPrimitives.ReadUInt16BigEndian(dns[2..]):x4}");

    /// <summary>Decodes every frame; fragments go through the reassembler, completed datagrams through DecodeReassembled.</summary>
    private struct UdpDnsCollector(IpFragmentReassembler reassembler) : ICaptureFrameHandler
    {
        public IpFragmentReassembler Reassembler { get; } = reassembler;

        public List<string> Messages { get; } = [];

        public int Reassembled { get; private set; }

        public void OnFrame(in CapturedFrame frame)
        {
            var status = PacketDecoder.Decode(in frame, DnsPortSet.Default, out var packet);
            if (status == PacketDecodeStatus.IpFragment)
            {
                if (Reassembler.Add(in packet, frame.TimestampNanoseconds, out var payload) != FragmentResult.Reassembled)
                {
                    return;
                }

                Reassembled++;
                status = PacketDecoder.DecodeReassembled(in packet, payload, DnsPortSet.Default, out packet);
            }

            if (status is PacketDecodeStatus.Ok or PacketDecodeStatus.Snapped
                && packet.Transport == TransportProtocol.Udp
                && packet.Payload.Length >= 4)
            {
                Messages.Add(Key(packet.Payload));
            }
        }
    }
}
