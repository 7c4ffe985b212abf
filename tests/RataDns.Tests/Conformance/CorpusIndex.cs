using System.Globalization;
using System.Text.RegularExpressions;

namespace RataDns.Tests.Conformance;

/// <summary>A row of corpus/INDEX.tsv: file, source repo and path, link type, packets, DNS packets, notes.</summary>
internal sealed partial record CorpusIndex(string File, string LinkType, long Packets, long DnsPackets, string Notes)
{
    public static IReadOnlyList<CorpusIndex> Read(string corpus) =>
        System.IO.File.ReadAllLines(Path.Combine(corpus, "INDEX.tsv"))
            .Skip(1)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length >= 7)
            .Select(f => new CorpusIndex(f[0], f[3], long.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture), f[6]))
            .ToList();

    public bool Has(string feature) => Notes.Contains(feature, StringComparison.Ordinal);

    /// <summary>
    /// Port 53, plus, for captures whose notes say DNS runs on another port (<c>ports=a->b,...</c>), the port that
    /// occurs most often there (the server's), as an operator would pass with --port.
    /// </summary>
    public IEnumerable<ushort> DnsPorts()
    {
        yield return 53;
        var match = PortsPattern().Match(Notes);
        if (match.Success)
        {
            var best = match.Groups[1].Value.Split(',', '-', '>')
                .Where(p => p.Length > 0)
                .GroupBy(p => p)
                .OrderByDescending(g => g.Count())
                .First().Key;
            yield return ushort.Parse(best, CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The stored tshark dump of this capture (see corpus/README.md).</summary>
    public string TsharkDumpPath(string corpus) => Path.Combine(corpus, File + ".tshark.tsv");

    /// <summary>Whether tshark's dump of this capture exists and holds at least one DNS message.</summary>
    public bool HasTsharkMessages(string corpus) =>
        System.IO.File.Exists(TsharkDumpPath(corpus)) && new FileInfo(TsharkDumpPath(corpus)).Length > 0;

    /// <summary>
    /// <see cref="DnsPorts"/>, plus 5353 and 5355 when tshark's dump shows DNS over them (tshark dissects DNS over TCP
    /// there when it sees it): the operator's --mdns/--llmnr equivalent follows what the reference shows.
    /// </summary>
    public List<ushort> PortsAsTsharkDissects(string tsharkDump)
    {
        var ports = DnsPorts().ToList();
        foreach (ushort extra in new ushort[] { 5353, 5355 })
        {
            if (tsharkDump.Contains($"\t{extra}\t", StringComparison.Ordinal))
            {
                ports.Add(extra);
            }
        }

        return ports;
    }

    [GeneratedRegex(@"ports=([0-9,\->]+)")]
    private static partial Regex PortsPattern();
}

/// <summary>
/// The documented classes of captures where tshark decodes DNS messages that <c>serialize</c> does not (yet), each
/// with its reason. Everything else must agree exactly.
/// </summary>
internal static class CorpusDifferences
{
    /// <summary>
    /// Captures where some of our messages legitimately differ from tshark's, with how many may differ: these are
    /// checked as "at most N of ours are not among tshark's".
    /// </summary>
    public static (string Reason, int MaxOnlyOurs)? Tolerated(CorpusIndex row) => row.File switch
    {
        "OISF_suricata-verify/dns__dns-forward-pointer__input.pcap" =>
            ("a forward compression pointer: tshark follows it, we reject it (pointers must point backwards) and report forward_pointer", 1),
        "dns-stats_compactor/malformed.pcap" =>
            ("a message shorter than a header: tshark shows the qdcount bytes it has, we write counts only from a whole 12-byte header", 1),
        "orb-community_pktvisor/dns_udp_tcp_random.pcap" =>
            ("tshark 4.0 does not reassemble out-of-order TCP segments by default and leaves 27 responses out; with -o tcp.reassemble_out_of_order:TRUE it finds exactly ours", 27),
        "DNS-OARC_dnscap/dnso1tcp-bighole.pcap" =>
            ("after the lost length segment tshark stays out of step on the client side and shows 35 queries only as 'TCP segment of a reassembled PDU'; their bytes are whole queries (tcpdump -xx shows e.g. id e48e google.com A), which we recover by resynchronising", 35),
        "DNS-OARC_dnscap/do1t-nosyn-1nolen.pcap" =>
            ("the capture joins mid-stream and the first query has no length prefix; tshark takes its first bytes for a length and never dissects the next query, 0x8b51, sent as a 2-byte length segment then the 45-byte message (tcpdump -xx shows 8b51 0100 0001 ... 3 206 3 218 ...), which we reassemble", 1),
        "dns-stats_compactor/knot-live.raw.pcap" or "dns-stats_compactor/nsd-live.raw.pcap" =>
            ("names full of bytes above 0x7F and control bytes, which tshark displays in ways we only approximate (and TCP, issue 3)", 22),
        _ => null,
    };

    /// <summary>
    /// Captures where <c>serialize</c> must agree with tshark message for message (no documented difference): the
    /// ones whose per-message fields other tests may total and compare exactly.
    /// </summary>
    public static bool AgreesMessageForMessage(CorpusIndex row) =>
        Unrelated(row) is null && Tolerated(row) is null && Expected(row) is null;

    /// <summary>Captures whose "DNS" is not DNS wire format on the port: only a clean run is checked.</summary>
    public static string? Unrelated(CorpusIndex row) => row.File switch
    {
        "OISF_suricata-verify/dns-over-http2__dns_over_https.pcap" or "OISF_suricata-verify/dns-over-http2-post__dns_over_https_POST.pcap"
            or "OISF_suricata-verify/dns-over-http2-limit__input.pcap" or "kbandla_dpkt/examples__data__nb6-http.pcap"
            => "DNS over HTTPS: tshark decrypts nothing here but dissects DoH bodies inside HTTP/2; port 443 carries TLS for us",
        "ntop_nDPI/dnscrypt-v1-and-resolver-pings.pcap" => "DNSCrypt on port 443: most datagrams are encrypted, not DNS wire format",
        _ => null,
    };

    public static string? Expected(CorpusIndex row)
    {
        if (row.Has("IP-in-IP") && !TunnelsDecoded.Contains(row.File))
        {
            return "tunnels (GRE, VXLAN, Teredo, ...) and ICMP-quoted packets: tshark dissects DNS inside them; a DNS monitor does not count ICMP quotes, and tunnels other than IP-in-IP are not decapsulated yet";
        }

        return LinkLayersNotDecoded.Contains(row.File)
            ? "a link layer RataDns does not decode (ARCNET)"
            : NotDnsOnTheWire.TryGetValue(row.File, out var why) ? why : null;
    }

    private static readonly HashSet<string> LinkLayersNotDecoded =
    [
        "the-tcpdump-group_tcpdump/arcnet-rfc1051-arp-icmp-http.pcap",
        "the-tcpdump-group_tcpdump/arcnet-rfc1201-arp-icmp-http.pcap",
        "the-tcpdump-group_libpcap/filter__arcnet-rfc1051-arp-icmp-http.pcap",
        "the-tcpdump-group_libpcap/filter__arcnet-rfc1201-arp-icmp-http.pcap",
        "zeek_zeek/dns-inverse-query.pcap",
    ];

    /// <summary>Captures of tunnels the decoder follows (GRE versions 0 and 1, GRE-in-UDP, VXLAN, Geneve): they agree message for message.</summary>
    private static readonly HashSet<string> TunnelsDecoded =
    [
        "OISF_suricata-verify/vxlan-decoder-03__vxlan.pcap",
        "zeek_zeek/tunnels__geneve-vxlan-dns-truncated.pcap",
        "zeek_zeek/tunnels__gre-over-udp-4754.pcap",
        "zeek_zeek/tunnels__gre-pptp.pcap",
        "zeek_zeek/tunnels__vxlan-triple-v2.pcap",
    ];

    private static readonly Dictionary<string, string> NotDnsOnTheWire = new()
    {
        ["zeek_zeek/communityid__icmp6.pcap"] = "a DNS message quoted inside an ICMPv6 error is not DNS traffic",
        ["zeek_zeek/icmp__icmp-destunreach-udp.pcap"] = "a DNS message quoted inside an ICMP error is not DNS traffic",
        ["the-tcpdump-group_tcpdump/LINKTYPE_IPV4_invalid.pcap"] = "the IPv4 header is invalid; we drop the packet where tshark guesses",
        ["the-tcpdump-group_tcpdump/rtp-seg-fault-1.pcapng"] = "a fuzzed frame that tshark reads as DNS by heuristics; it is not on a DNS port",
        ["zeek_zeek/quic__vector-max-size-crash.pcap"] = "a fuzzed frame that tshark reads as DNS by heuristics",
        ["kbandla_dpkt/examples__data__truncated_dns_2.pcap"] = "the frame is cut short of its IP length (and the file ends mid-record)",
        ["zeek_zeek/dns-edns-ecs-bad.pcap"] = "one frame is cut 110 bytes short of its IPv6 payload length (tcpdump: truncated-ip6)",
    };
}
