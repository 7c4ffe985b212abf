using System.Buffers.Binary;
using RataDns.Capture;

namespace RataDns.App.Gen;

/// <summary>
/// Writes a classic pcap file (microsecond timestamps, Ethernet link type) of synthetic but realistic DNS traffic:
/// query/response pairs between many clients and one resolver, over IPv4 and IPv6, UDP port 53 and, for a few pairs,
/// single-segment DNS over TCP (RFC 7766: each message behind a 2-byte length). The queried names follow a Zipf-like
/// popularity over a few thousand names; some names carry underscores (SRV, DMARC, and malformed host names), some do
/// not exist (NXDOMAIN with an SOA), some have large answers (CNAME chains and long A/AAAA RRsets, all names
/// compressed), and most queries carry EDNS (DO bit, cookies, client subnet). The same seed gives the same file.
/// <para>
/// With a <see cref="SyntheticFlood"/> the traffic is a flood instead. <see cref="SyntheticFlood.Names"/> (also
/// <c>uniqueNames</c>): every query asks A (or AAAA) for a name never seen before,
/// <c>&lt;13 random-looking characters&gt;.</c><see cref="FloodZone"/>, and every response is NXDOMAIN with the zone's
/// SOA. <see cref="SyntheticFlood.Clients"/>: every query comes from a new client. <see cref="SyntheticFlood.Tcp"/>
/// and <see cref="SyntheticFlood.Fragments"/>: connections and datagrams that never complete. Whatever the model does
/// not change follows the ordinary traffic above.
/// </para>
/// </summary>
public static class SyntheticCapture
{
    /// <summary>Start of the capture: 2026-01-01T00:00:00Z.</summary>
    public const long DefaultStartUnixSeconds = 1_767_225_600;

    /// <summary>The zone under which <c>uniqueNames</c> traffic asks its fresh names.</summary>
    public const string FloodZone = "flood.example.test";

    private const int PcapGlobalHeaderSize = 24;
    private const int PcapRecordHeaderSize = 16;
    private const int EthernetHeaderSize = 14;
    private const int Ipv4HeaderSize = 20;
    private const int Ipv6HeaderSize = 40;
    private const int UdpHeaderSize = 8;
    private const int TcpHeaderSize = 20;
    private const ushort DnsPort = 53;
    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;
    private const byte TcpSyn = 0x02;
    private const byte TcpPshAck = 0x18;
    private const ushort Ipv4DontFragment = 0x4000;
    private const ushort Ipv4MoreFragments = 0x2000;   // offset 0: the first fragment

    /// <summary>Largest DNS message the generator builds; the frame buffer holds it plus all headers.</summary>
    private const int MaxDnsMessage = 4096;

    /// <summary>
    /// Writes <paramref name="packets"/> packets (queries and responses count one each) to <paramref name="path"/>,
    /// replacing the file. Returns the number of packets written.
    /// </summary>
    /// <param name="path">The pcap file to create.</param>
    /// <param name="packets">How many packets to write (a pair is cut in half if the count is odd).</param>
    /// <param name="seed">Seed of the whole traffic model: names, clients and every random choice.</param>
    /// <param name="packetsPerSecond">Mean packet rate; timestamps increase by a jittered 1/rate.</param>
    /// <param name="nameCount">Size of the name universe the Zipf-like popularity is drawn over.</param>
    /// <param name="clientCount">How many distinct client addresses ask.</param>
    /// <param name="startUnixSeconds">Timestamp of the first packet.</param>
    /// <param name="uniqueNames">
    /// Write a random-subdomain flood: each query a distinct new name under <see cref="FloodZone"/>, each response
    /// NXDOMAIN (<paramref name="nameCount"/> is then unused). The same as <see cref="SyntheticFlood.Names"/>.
    /// </param>
    /// <param name="flood">
    /// The flood to write instead of ordinary traffic (<paramref name="packets"/> still counts packets: a connection
    /// of <see cref="SyntheticFlood.Tcp"/> is cut after its SYN if the count is odd).
    /// </param>
    public static long Write(
        string path,
        long packets,
        int seed,
        double packetsPerSecond = 10_000,
        int nameCount = 4_000,
        int clientCount = 5_000,
        long startUnixSeconds = DefaultStartUnixSeconds,
        bool uniqueNames = false,
        SyntheticFlood flood = SyntheticFlood.None)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(packets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(packetsPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(nameCount, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(clientCount, 1);
        if (!Enum.IsDefined(flood))
        {
            throw new ArgumentOutOfRangeException(nameof(flood), flood, "Not a flood kind.");
        }

        if (uniqueNames)
        {
            if (flood is not (SyntheticFlood.None or SyntheticFlood.Names))
            {
                throw new ArgumentException($"uniqueNames is the {SyntheticFlood.Names} flood and cannot be combined with {flood}.", nameof(uniqueNames));
            }

            flood = SyntheticFlood.Names;
        }

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 20);
        var generator = new TrafficGenerator(seed, packetsPerSecond, nameCount, clientCount, startUnixSeconds, flood);
        return generator.WriteTo(file, packets);
    }

    /// <summary>
    /// The traffic model and the packet builder. One instance writes one file; its buffers are reused for every
    /// packet, so the loop allocates nothing.
    /// </summary>
    private sealed class TrafficGenerator
    {
        private static readonly byte[] ResolverIpv4 = [192, 0, 2, 53];
        private static readonly byte[] ResolverIpv6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];
        private static readonly byte[] ResolverMac = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x53];
        private static readonly byte[] RouterMac = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];

        /// <summary>IP payload bytes in the first fragment of a 1500-byte MTU (a multiple of 8, RFC 791).</summary>
        private const int FirstFragmentPayload = 1480;

        /// <summary>
        /// Clients a fragment flood cycles through (10.0.0.1 onwards); a datagram's IP id is its round through them,
        /// so (destination, id) stays unique for 2^12 x 2^16 = 2^28 datagrams (about 400 GB of first fragments).
        /// </summary>
        private const int FragmentClients = 1 << 12;

        /// <summary>Length of each TXT string in a fragment flood's answers (the most one character-string holds).</summary>
        private const int FragmentTextLength = 255;

        private readonly NameTable _names;
        private readonly ClientTable _clients;
        private readonly double[] _zipfCumulative;
        private readonly byte[] _frame = new byte[PcapRecordHeaderSize + EthernetHeaderSize + Ipv6HeaderSize + TcpHeaderSize + 2 + MaxDnsMessage];
        private readonly double _meanGapMicros;
        private readonly SyntheticFlood _kind;
        private readonly FloodNames? _flood;
        private readonly FloodClients? _floodClients;
        private readonly byte[]? _fragmentText;
        private readonly ushort _fragmentIdStart;
        private readonly byte[] _fragmentClient = new byte[4];
        private SplitMix64 _random;
        private long _timeMicros;

        public TrafficGenerator(int seed, double packetsPerSecond, int nameCount, int clientCount, long startUnixSeconds, SyntheticFlood kind)
        {
            _random = new SplitMix64((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + 1);
            _names = new NameTable(nameCount, ref _random);
            _clients = new ClientTable(clientCount, ref _random);
            _zipfCumulative = ZipfCumulative(nameCount, exponent: 1.0);
            _meanGapMicros = 1_000_000.0 / packetsPerSecond;
            _timeMicros = startUnixSeconds * 1_000_000;
            _kind = kind;
            _flood = kind == SyntheticFlood.Names ? new FloodNames(FloodZone, _random.Next()) : null;
            _floodClients = kind is SyntheticFlood.Clients or SyntheticFlood.Tcp ? new FloodClients() : null;
            if (kind == SyntheticFlood.Fragments)
            {
                // DKIM-looking base64 the large TXT answers are cut from.
                const string Base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                _fragmentText = new byte[4 * FragmentTextLength];
                for (int i = 0; i < _fragmentText.Length; i++)
                {
                    _fragmentText[i] = (byte)Base64[_random.Below(Base64.Length)];
                }

                _fragmentIdStart = (ushort)_random.Next();
            }
        }

        public long WriteTo(Stream output, long packets)
        {
            Span<byte> global = stackalloc byte[PcapGlobalHeaderSize];
            WritePcapGlobalHeader(global);
            output.Write(global);

            return _kind switch
            {
                SyntheticFlood.Tcp => WriteTcpFlood(output, packets),
                SyntheticFlood.Fragments => WriteFragmentFlood(output, packets),
                _ => WritePairs(output, packets),
            };
        }

        /// <summary>Query/response pairs: ordinary traffic and the name and client floods.</summary>
        private long WritePairs(Stream output, long packets)
        {
            long written = 0;
            while (written < packets)
            {
                var pair = NextPair();
                WritePacket(output, in pair, isResponse: false);
                written++;
                if (written < packets)
                {
                    WritePacket(output, in pair, isResponse: true);
                    written++;
                }
            }

            return written;
        }

        /// <summary>The random choices shared by a query and its response.</summary>
        private readonly record struct Pair(
            int NameIndex,   // -1: the flood's current name
            int ClientIndex, // -1: the client flood's current client
            ushort QueryType,
            ushort Id,
            ushort ClientPort,
            bool Tcp,
            bool Edns,
            bool DnssecOk,
            bool Cookie,
            bool ClientSubnet,
            ushort UdpSize,
            uint AnswerSeed);

        private Pair NextPair()
        {
            int nameIndex = _flood is null ? SampleZipf() : -1;
            _flood?.Advance();
            var name = NameOf(nameIndex);
            ulong r = _random.Next();
            bool edns = (r & 0xFF) < 218;                 // ~85% of queries carry EDNS
            bool tcp = ((r >> 8) & 0xFF) < 5;             // ~2% of pairs over TCP
            bool dnssecOk = edns && ((r >> 16) & 0x3) != 0;
            bool cookie = edns && ((r >> 18) & 0x3) == 0;
            bool clientSubnet = edns && ((r >> 20) & 0x1F) == 0;
            ushort udpSize = ((r >> 25) & 0x3) == 0 ? (ushort)4096 : (ushort)1232;
            ushort queryType = name.Kind switch
            {
                NameKind.Address => ((r >> 27) & 0x3) == 0 ? DnsTypes.Aaaa : DnsTypes.A,
                NameKind.LargeAddress => ((r >> 27) & 0x7) == 0 ? DnsTypes.Aaaa : DnsTypes.A,
                NameKind.Cname => DnsTypes.A,
                NameKind.Mail => ((r >> 27) & 0x1) == 0 ? DnsTypes.Mx : DnsTypes.Txt,
                NameKind.Service => DnsTypes.Srv,
                NameKind.Text => DnsTypes.Txt,
                NameKind.NonExistent => ((r >> 27) & 0x3) == 0 ? DnsTypes.Aaaa : DnsTypes.A,
                _ => DnsTypes.A,
            };
            int clientIndex = (int)((r >> 32) % (ulong)_clients.Count);
            if (_floodClients is not null)
            {
                _floodClients.Advance(preferIpv6: _random.Below(5) == 0);   // about a fifth IPv6
                clientIndex = -1;
            }

            return new Pair(
                nameIndex,
                clientIndex,
                queryType,
                (ushort)(r >> 29),
                (ushort)(1024 + ((r >> 40) % (65536 - 1024))),
                tcp,
                edns,
                dnssecOk,
                cookie,
                clientSubnet,
                udpSize,
                (uint)(_random.Next() >> 32));
        }

        /// <summary>
        /// The name a pair asks for. A flood name lives in one reused buffer: valid until the next pair, which is
        /// enough because a query and its response are written before the next pair is drawn.
        /// </summary>
        private SyntheticName NameOf(int nameIndex) => nameIndex < 0 ? _flood!.Current : _names[nameIndex];

        /// <summary>The client of a pair; a flood client, like a flood name, is valid until the next pair.</summary>
        private ReadOnlySpan<byte> ClientOf(in Pair pair) => pair.ClientIndex < 0 ? _floodClients!.Current : _clients[pair.ClientIndex];

        /// <summary>A number that tells the pair's client from others (it seeds the client's EDNS cookie).</summary>
        private ulong ClientKeyOf(in Pair pair) => pair.ClientIndex < 0 ? _floodClients!.Count : (ulong)pair.ClientIndex;

        private int SampleZipf()
        {
            double u = _random.NextDouble();
            int index = Array.BinarySearch(_zipfCumulative, u);
            index = index < 0 ? ~index : index;
            return Math.Min(index, _zipfCumulative.Length - 1);
        }

        private static double[] ZipfCumulative(int count, double exponent)
        {
            var cumulative = new double[count];
            double total = 0;
            for (int rank = 0; rank < count; rank++)
            {
                total += 1.0 / Math.Pow(rank + 1, exponent);
                cumulative[rank] = total;
            }

            for (int rank = 0; rank < count; rank++)
            {
                cumulative[rank] /= total;
            }

            return cumulative;
        }

        private void WritePacket(Stream output, in Pair pair, bool isResponse)
        {
            var client = ClientOf(in pair);
            bool ipv6 = client.Length == 16;
            int ipHeader = ipv6 ? Ipv6HeaderSize : Ipv4HeaderSize;
            int l4Header = pair.Tcp ? TcpHeaderSize + 2 : UdpHeaderSize;
            int dnsOffset = PcapRecordHeaderSize + EthernetHeaderSize + ipHeader + l4Header;
            var dns = _frame.AsSpan(dnsOffset, MaxDnsMessage);
            int dnsLength = isResponse ? BuildResponse(dns, in pair) : BuildQuery(dns, in pair);

            var frame = _frame.AsSpan(PcapRecordHeaderSize);
            var resolver = ipv6 ? ResolverIpv6 : ResolverIpv4;
            ReadOnlySpan<byte> source = isResponse ? resolver : client;
            ReadOnlySpan<byte> destination = isResponse ? client : resolver;
            ushort sourcePort = isResponse ? DnsPort : pair.ClientPort;
            ushort destinationPort = isResponse ? pair.ClientPort : DnsPort;
            WriteEthernet(frame, fromResolver: isResponse, ipv6);

            var ip = frame[EthernetHeaderSize..];
            var l4 = ip[ipHeader..];
            int l4Length = l4Header + dnsLength;
            byte protocol = pair.Tcp ? ProtocolTcp : ProtocolUdp;
            if (pair.Tcp)
            {
                // One segment carrying the whole message behind its 2-byte length (RFC 7766 8).
                WriteTcpHeader(
                    l4,
                    sourcePort,
                    destinationPort,
                    isResponse ? 0x20000001u : 0x10000001u,
                    isResponse ? 0x10000001u + (uint)(dnsLength + 2) : 0x20000001u,
                    TcpPshAck);
                BinaryPrimitives.WriteUInt16BigEndian(l4[TcpHeaderSize..], (ushort)dnsLength);
            }
            else
            {
                WriteUdpHeader(l4, sourcePort, destinationPort, l4Length);
            }

            if (ipv6)
            {
                WriteIpv6Header(ip, l4Length, protocol, source, destination);
            }
            else
            {
                WriteIpv4Header(ip, Ipv4HeaderSize + l4Length, pair.Id, Ipv4DontFragment, protocol, source, destination);
            }

            WriteTransportChecksum(l4[..l4Length], protocol, source, destination);
            WriteRecord(output, EthernetHeaderSize + ipHeader + l4Length);
        }

        /// <summary>
        /// One connection of a TCP flood: a SYN from a new client address and port, then a segment with the 2-byte
        /// length of the whole query (RFC 7766 8) and only the first half of the query's bytes; nothing else, ever.
        /// Returns the packets written (1 when only the SYN fits in <paramref name="packets"/>).
        /// </summary>
        private long WriteTcpFlood(Stream output, long packets)
        {
            long written = 0;
            while (written < packets)
            {
                var pair = NextPair();
                ulong isns = _random.Next();
                uint clientIsn = (uint)isns;
                uint resolverIsn = (uint)(isns >> 32);   // of the SYN-ACK the capture never shows
                var client = ClientOf(in pair);
                bool ipv6 = client.Length == 16;
                var resolver = ipv6 ? ResolverIpv6 : ResolverIpv4;
                int ipHeader = ipv6 ? Ipv6HeaderSize : Ipv4HeaderSize;
                var frame = _frame.AsSpan(PcapRecordHeaderSize);
                var ip = frame[EthernetHeaderSize..];
                var tcp = ip[ipHeader..];

                // The SYN: no options, no payload.
                WriteEthernet(frame, fromResolver: false, ipv6);
                WriteTcpHeader(tcp, pair.ClientPort, DnsPort, clientIsn, 0, TcpSyn);
                WriteConnectionIp(ip, ipv6, TcpHeaderSize, pair.Id, client, resolver);
                WriteTransportChecksum(tcp[..TcpHeaderSize], ProtocolTcp, client, resolver);
                WriteRecord(output, EthernetHeaderSize + ipHeader + TcpHeaderSize);
                if (++written == packets)
                {
                    break;
                }

                // The half query: build it whole after the length prefix, then send only its first half.
                int queryLength = BuildQuery(tcp[(TcpHeaderSize + 2)..], in pair);
                int segmentLength = TcpHeaderSize + 2 + (queryLength / 2);
                WriteEthernet(frame, fromResolver: false, ipv6);
                WriteTcpHeader(tcp, pair.ClientPort, DnsPort, clientIsn + 1, resolverIsn + 1, TcpPshAck);
                BinaryPrimitives.WriteUInt16BigEndian(tcp[TcpHeaderSize..], (ushort)queryLength);
                WriteConnectionIp(ip, ipv6, segmentLength, (ushort)(pair.Id + 1), client, resolver);
                WriteTransportChecksum(tcp[..segmentLength], ProtocolTcp, client, resolver);
                WriteRecord(output, EthernetHeaderSize + ipHeader + segmentLength);
                written++;
            }

            return written;
        }

        private static void WriteConnectionIp(Span<byte> ip, bool ipv6, int segmentLength, ushort id, ReadOnlySpan<byte> client, ReadOnlySpan<byte> resolver)
        {
            if (ipv6)
            {
                WriteIpv6Header(ip, segmentLength, ProtocolTcp, client, resolver);
            }
            else
            {
                WriteIpv4Header(ip, Ipv4HeaderSize + segmentLength, id, Ipv4DontFragment, ProtocolTcp, client, resolver);
            }
        }

        /// <summary>
        /// An IPv4 fragment flood: each datagram a UDP response from the resolver too large for a 1500-byte MTU, of
        /// which only the first fragment is written. Datagram k goes to client 10.0.0.1 + (k mod 2^12) with IP id
        /// (start + k / 2^12), so no two datagrams share (source, destination, id) and none can be reassembled.
        /// </summary>
        private long WriteFragmentFlood(Stream output, long packets)
        {
            var frame = _frame.AsSpan(PcapRecordHeaderSize);
            var ip = frame[EthernetHeaderSize..];
            var udp = ip[Ipv4HeaderSize..];
            for (long datagram = 0; datagram < packets; datagram++)
            {
                var pair = NextPair();
                BinaryPrimitives.WriteUInt32BigEndian(_fragmentClient, 0x0A00_0001u + (uint)(datagram % FragmentClients));
                ushort id = (ushort)(_fragmentIdStart + (datagram / FragmentClients));

                // The whole datagram is built so the UDP checksum covers all of it, as the sender computes it.
                int dnsLength = BuildLargeResponse(udp[UdpHeaderSize..], in pair);
                int udpLength = UdpHeaderSize + dnsLength;
                WriteEthernet(frame, fromResolver: true, ipv6: false);
                WriteUdpHeader(udp, DnsPort, pair.ClientPort, udpLength);
                WriteTransportChecksum(udp[..udpLength], ProtocolUdp, ResolverIpv4, _fragmentClient);
                WriteIpv4Header(ip, Ipv4HeaderSize + FirstFragmentPayload, id, Ipv4MoreFragments, ProtocolUdp, ResolverIpv4, _fragmentClient);
                WriteRecord(output, EthernetHeaderSize + Ipv4HeaderSize + FirstFragmentPayload);
            }

            return packets;
        }

        /// <summary>
        /// A response with 6 to 8 TXT records of one 255-byte string each (a DKIM-like key cut from the seeded text)
        /// and an OPT advertising 4096 bytes: 1,600 to 2,200 bytes, always more than a 1500-byte MTU carries.
        /// </summary>
        private int BuildLargeResponse(Span<byte> buffer, in Pair pair)
        {
            var w = new DnsWriter(buffer);
            var name = NameOf(pair.NameIndex);
            w.WriteHeader(pair.Id, flags: 0x8180, questions: 1, answers: 0, authorities: 0, additionals: 1);
            w.WriteBytes(name.Wire);
            w.WriteUInt16(DnsTypes.Txt);
            w.WriteUInt16(DnsTypes.ClassIn);
            int records = 6 + (int)(pair.AnswerSeed % 3);
            for (int i = 0; i < records; i++)
            {
                w.WriteRecordHeader(DnsWriter.HeaderSize, DnsTypes.Txt, 300);
                int rdata = w.BeginRdata();
                int start = (int)((pair.AnswerSeed >> 2) + (uint)(i * 97)) % (_fragmentText!.Length - FragmentTextLength);
                w.WriteCharacterString(_fragmentText.AsSpan(start, FragmentTextLength));
                w.EndRdata(rdata);
            }

            WriteOpt(ref w, pair with { Cookie = false, ClientSubnet = false }, 4096, isResponse: true);
            w.PatchHeader(0x8180, (ushort)records, 0, 1);
            return w.Position;
        }

        // Ethernet II: destination MAC, source MAC, EtherType. The resolver sends to the router and hears from it.
        private static void WriteEthernet(Span<byte> frame, bool fromResolver, bool ipv6)
        {
            (fromResolver ? RouterMac : ResolverMac).CopyTo(frame);
            (fromResolver ? ResolverMac : RouterMac).CopyTo(frame[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], ipv6 ? (ushort)0x86DD : (ushort)0x0800);
        }

        /// <summary>
        /// An IPv4 header without options (RFC 791 3.1), its header checksum included. <paramref name="flagsAndOffset"/>
        /// is the 16 bits of flags (DF 0x4000, MF 0x2000) and fragment offset (in 8-byte units).
        /// </summary>
        private static void WriteIpv4Header(Span<byte> ip, int totalLength, ushort id, ushort flagsAndOffset, byte protocol, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
        {
            ip[0] = 0x45;
            ip[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)totalLength);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], id);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], flagsAndOffset);
            ip[8] = 64;
            ip[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            source.CopyTo(ip[12..]);
            destination.CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Finish(InternetChecksum.Add(0, ip[..Ipv4HeaderSize])));
        }

        /// <summary>An IPv6 header (RFC 8200 3) with no extension headers.</summary>
        private static void WriteIpv6Header(Span<byte> ip, int payloadLength, byte protocol, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
        {
            BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)payloadLength);
            ip[6] = protocol;
            ip[7] = 64;
            source.CopyTo(ip[8..]);
            destination.CopyTo(ip[24..]);
        }

        /// <summary>A TCP header without options (RFC 793 3.1), window 65535; the checksum is left zero.</summary>
        private static void WriteTcpHeader(Span<byte> tcp, ushort sourcePort, ushort destinationPort, uint sequence, uint acknowledgment, byte flags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], acknowledgment);
            tcp[12] = 5 << 4;   // data offset: 5 words, no options
            tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0); // checksum (filled later), urgent pointer
        }

        /// <summary>A UDP header (RFC 768); the checksum is left zero.</summary>
        private static void WriteUdpHeader(Span<byte> udp, ushort sourcePort, ushort destinationPort, int length)
        {
            BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], destinationPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)length);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        }

        /// <summary>
        /// Fills in the checksum of a whole TCP segment or UDP datagram, computed over the pseudo-header (RFC 768,
        /// RFC 793, RFC 8200 8.1) and <paramref name="segment"/>, whose checksum field must be zero.
        /// </summary>
        private static void WriteTransportChecksum(Span<byte> segment, byte protocol, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
        {
            uint sum = InternetChecksum.Add(0, source);
            sum = InternetChecksum.Add(sum, destination);
            sum += protocol + (uint)segment.Length;
            sum = InternetChecksum.Add(sum, segment);
            ushort checksum = InternetChecksum.Finish(sum);
            if (protocol == ProtocolUdp && checksum == 0)
            {
                checksum = 0xFFFF; // UDP sends a computed zero as all ones (RFC 768)
            }

            BinaryPrimitives.WriteUInt16BigEndian(segment[(protocol == ProtocolTcp ? 16 : 6)..], checksum);
        }

        /// <summary>
        /// Advances the clock and writes the pcap record of the frame that starts after the record header in
        /// <see cref="_frame"/>. Timestamps: a jittered gap with the configured mean (uniform in [0.2, 1.8] x mean),
        /// never decreasing.
        /// </summary>
        private void WriteRecord(Stream output, int frameLength)
        {
            _timeMicros += (long)(_meanGapMicros * (0.2 + (1.6 * _random.NextDouble())));
            var record = _frame.AsSpan(0, PcapRecordHeaderSize);
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(_timeMicros / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(_timeMicros % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frameLength);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frameLength);
            output.Write(_frame, 0, PcapRecordHeaderSize + frameLength);
        }

        private int BuildQuery(Span<byte> buffer, in Pair pair)
        {
            var w = new DnsWriter(buffer);
            var name = NameOf(pair.NameIndex);
            w.WriteHeader(pair.Id, flags: 0x0100, questions: 1, answers: 0, authorities: 0, additionals: (ushort)(pair.Edns ? 1 : 0));
            w.WriteBytes(name.Wire);
            w.WriteUInt16(pair.QueryType);
            w.WriteUInt16(DnsTypes.ClassIn);
            if (pair.Edns)
            {
                WriteOpt(ref w, in pair, pair.UdpSize, isResponse: false);
            }

            return w.Position;
        }

        private int BuildResponse(Span<byte> buffer, in Pair pair)
        {
            var w = new DnsWriter(buffer);
            var name = NameOf(pair.NameIndex);
            w.WriteHeader(pair.Id, flags: 0x8180, questions: 1, answers: 0, authorities: 0, additionals: 0);
            w.WriteBytes(name.Wire);
            w.WriteUInt16(pair.QueryType);
            w.WriteUInt16(DnsTypes.ClassIn);
            int afterQuestion = w.Position;

            const int QuestionName = DnsWriter.HeaderSize;
            int suffix = QuestionName + name.SuffixOffset;   // the registered domain inside the question name
            ushort answers = 0;
            ushort authorities = 0;
            ushort rcode = 0;
            var answerRandom = new SplitMix64(pair.AnswerSeed);
            switch (name.Kind)
            {
                case NameKind.NonExistent:
                    rcode = 3;
                    authorities = WriteSoa(ref w, suffix);
                    break;

                case NameKind.Address:
                case NameKind.LargeAddress:
                    int count = name.Kind == NameKind.Address ? 1 + (int)(pair.AnswerSeed % 3) : 12 + (int)(pair.AnswerSeed % 24);
                    for (int i = 0; i < count; i++)
                    {
                        WriteAddress(ref w, QuestionName, pair.QueryType, 300, ref answerRandom);
                    }

                    answers = (ushort)count;
                    break;

                case NameKind.Cname:
                    // name CNAME edgeN.cdn.<provider>; the target then has a few A records.
                    w.WriteRecordHeader(QuestionName, DnsTypes.Cname, 3600);
                    int rdata = w.BeginRdata();
                    int target = w.Position;
                    w.WriteLabel("edge"u8, (int)(pair.AnswerSeed % 64));
                    w.WriteLabel("cdn"u8, -1);
                    w.WriteBytes(_names.CdnProvider(name.Provider));
                    w.EndRdata(rdata);
                    int addresses = 2 + (int)(pair.AnswerSeed % 6);
                    for (int i = 0; i < addresses; i++)
                    {
                        WriteAddress(ref w, target, DnsTypes.A, 20, ref answerRandom);
                    }

                    answers = (ushort)(1 + addresses);
                    break;

                case NameKind.Mail when pair.QueryType == DnsTypes.Mx:
                    int exchanges = 1 + (int)(pair.AnswerSeed % 3);
                    for (int i = 0; i < exchanges; i++)
                    {
                        w.WriteRecordHeader(QuestionName, DnsTypes.Mx, 3600);
                        int mx = w.BeginRdata();
                        w.WriteUInt16((ushort)(10 * (i + 1)));
                        w.WriteLabel("mx"u8, i + 1);
                        w.WritePointer(suffix);
                        w.EndRdata(mx);
                    }

                    answers = (ushort)exchanges;
                    break;

                case NameKind.Service:
                    int servers = 1 + (int)(pair.AnswerSeed % 4);
                    for (int i = 0; i < servers; i++)
                    {
                        w.WriteRecordHeader(QuestionName, DnsTypes.Srv, 600);
                        int srv = w.BeginRdata();
                        w.WriteUInt16((ushort)(10 + (i / 2)));
                        w.WriteUInt16((ushort)(100 / servers));
                        w.WriteUInt16(name.Port);
                        w.WriteLabel("srv"u8, i + 1);
                        w.WritePointer(suffix);
                        w.EndRdata(srv);
                    }

                    answers = (ushort)servers;
                    break;

                default: // TXT (Text names, DMARC, and TXT queries to mail domains)
                    w.WriteRecordHeader(QuestionName, DnsTypes.Txt, 3600);
                    int txt = w.BeginRdata();
                    w.WriteCharacterString(name.Kind == NameKind.Mail ? "v=spf1 include:_spf.mail.example mx -all"u8 : "v=DMARC1; p=quarantine; rua=mailto:reports@example.test"u8);
                    if ((pair.AnswerSeed & 1) == 0)
                    {
                        w.WriteCharacterString("site-verification=4f9a2c77e1b0d3c5a8e6f1029384756a"u8);
                    }

                    w.EndRdata(txt);
                    answers = 1;
                    break;
            }

            // A response larger than the client can take over UDP is cut to the question and TC is set (RFC 2181 9).
            int limit = pair.Tcp ? MaxDnsMessage : pair.Edns ? pair.UdpSize : 512;
            int optSize = pair.Edns ? 11 + (pair.Cookie ? 4 + 24 : 0) : 0;
            // QR, RD, RA; AD when the client set DO and the (pretend) validation succeeded.
            bool authenticData = pair.DnssecOk && name.Kind != NameKind.NonExistent;
            ushort flags = (ushort)(0x8180 | rcode | (authenticData ? 0x0020 : 0));
            if (w.Position + optSize > limit)
            {
                w.Position = afterQuestion;
                answers = authorities = 0;
                flags |= 0x0200;
            }

            if (pair.Edns)
            {
                WriteOpt(ref w, in pair, 1232, isResponse: true);
            }

            w.PatchHeader(flags, answers, authorities, (ushort)(pair.Edns ? 1 : 0));
            return w.Position;
        }

        private static void WriteAddress(ref DnsWriter w, int owner, ushort type, uint ttl, ref SplitMix64 random)
        {
            w.WriteRecordHeader(owner, type, ttl);
            int rdata = w.BeginRdata();
            ulong bits = random.Next();
            if (type == DnsTypes.Aaaa)
            {
                w.WriteUInt32(0x2001_0db8);
                w.WriteUInt32((uint)(bits >> 48));
                w.WriteUInt32(0);
                w.WriteUInt32((uint)bits);
            }
            else
            {
                // 198.18.0.0/15 (benchmarking range, RFC 2544).
                w.WriteUInt32(0xC612_0000u | (uint)(bits & 0x1_FFFF));
            }

            w.EndRdata(rdata);
        }

        private static ushort WriteSoa(ref DnsWriter w, int zone)
        {
            w.WriteRecordHeader(zone, DnsTypes.Soa, 900);
            int rdata = w.BeginRdata();
            w.WriteLabel("ns1"u8, -1);
            w.WritePointer(zone);
            w.WriteLabel("hostmaster"u8, -1);
            w.WritePointer(zone);
            w.WriteUInt32(2026010101);
            w.WriteUInt32(7200);
            w.WriteUInt32(3600);
            w.WriteUInt32(1209600);
            w.WriteUInt32(900);
            w.EndRdata(rdata);
            return 1;
        }

        /// <summary>The OPT pseudo-record (RFC 6891 6.1.2) with the DO bit and the pair's options.</summary>
        private void WriteOpt(ref DnsWriter w, in Pair pair, ushort udpSize, bool isResponse)
        {
            w.WriteByte(0); // root owner
            w.WriteUInt16(DnsTypes.Opt);
            w.WriteUInt16(udpSize);
            w.WriteUInt32(pair.DnssecOk ? 0x0000_8000u : 0u);
            int rdata = w.BeginRdata();
            ulong cookieBits = ClientKeyOf(in pair) * 0x9E3779B97F4A7C15UL;
            if (pair.Cookie)
            {
                // COOKIE (RFC 7873): the client cookie, and in responses a 16-byte server cookie.
                w.WriteUInt16(10);
                w.WriteUInt16(isResponse ? (ushort)24 : (ushort)8);
                w.WriteUInt64(cookieBits);
                if (isResponse)
                {
                    w.WriteUInt64(cookieBits ^ 0x5A5A_5A5A_5A5A_5A5AUL);
                    w.WriteUInt64((ulong)pair.Id << 32 | pair.AnswerSeed);
                }
            }

            if (pair.ClientSubnet && !isResponse)
            {
                // EDNS Client Subnet (RFC 7871), IPv4 /24 of the client.
                var client = ClientOf(in pair);
                bool v6 = client.Length == 16;
                w.WriteUInt16(8);
                w.WriteUInt16(v6 ? (ushort)(4 + 7) : (ushort)(4 + 3));
                w.WriteUInt16(v6 ? (ushort)2 : (ushort)1);
                w.WriteByte(v6 ? (byte)56 : (byte)24);
                w.WriteByte(0);
                w.WriteBytes(client[..(v6 ? 7 : 3)]);
            }

            w.EndRdata(rdata);
        }

        private static void WritePcapGlobalHeader(Span<byte> header)
        {
            // Classic pcap, written little-endian: magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET.
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
        }
    }
}
