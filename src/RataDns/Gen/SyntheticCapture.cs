using System.Buffers.Binary;

namespace RataDns.App.Gen;

/// <summary>
/// Writes a classic pcap file (microsecond timestamps, Ethernet link type) of synthetic but realistic DNS traffic:
/// query/response pairs between many clients and one resolver, over IPv4 and IPv6, UDP port 53 and, for a few pairs,
/// single-segment DNS over TCP (RFC 7766: each message behind a 2-byte length). The queried names follow a Zipf-like
/// popularity over a few thousand names; some names carry underscores (SRV, DMARC, and malformed host names), some do
/// not exist (NXDOMAIN with an SOA), some have large answers (CNAME chains and long A/AAAA RRsets, all names
/// compressed), and most queries carry EDNS (DO bit, cookies, client subnet). The same seed gives the same file.
/// <para>
/// With <c>uniqueNames</c> the traffic is a random-subdomain flood instead: every query asks A (or AAAA) for a name
/// never seen before, <c>&lt;13 random-looking characters&gt;.</c><see cref="FloodZone"/>, and every response is
/// NXDOMAIN with the zone's SOA. Clients, transports and EDNS follow the same model as above.
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
    private const int DnsPort = 53;

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
    /// NXDOMAIN (<paramref name="nameCount"/> is then unused).
    /// </param>
    public static long Write(
        string path,
        long packets,
        int seed,
        double packetsPerSecond = 10_000,
        int nameCount = 4_000,
        int clientCount = 5_000,
        long startUnixSeconds = DefaultStartUnixSeconds,
        bool uniqueNames = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(packets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(packetsPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(nameCount, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(clientCount, 1);

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 20);
        var generator = new TrafficGenerator(seed, packetsPerSecond, nameCount, clientCount, startUnixSeconds, uniqueNames);
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

        private readonly NameTable _names;
        private readonly ClientTable _clients;
        private readonly double[] _zipfCumulative;
        private readonly byte[] _frame = new byte[PcapRecordHeaderSize + EthernetHeaderSize + Ipv6HeaderSize + TcpHeaderSize + 2 + MaxDnsMessage];
        private readonly double _meanGapMicros;
        private readonly FloodNames? _flood;
        private SplitMix64 _random;
        private long _timeMicros;

        public TrafficGenerator(int seed, double packetsPerSecond, int nameCount, int clientCount, long startUnixSeconds, bool uniqueNames)
        {
            _random = new SplitMix64((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + 1);
            _names = new NameTable(nameCount, ref _random);
            _clients = new ClientTable(clientCount, ref _random);
            _zipfCumulative = ZipfCumulative(nameCount, exponent: 1.0);
            _meanGapMicros = 1_000_000.0 / packetsPerSecond;
            _timeMicros = startUnixSeconds * 1_000_000;
            _flood = uniqueNames ? new FloodNames(FloodZone, _random.Next()) : null;
        }

        public long WriteTo(Stream output, long packets)
        {
            Span<byte> global = stackalloc byte[PcapGlobalHeaderSize];
            WritePcapGlobalHeader(global);
            output.Write(global);

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
            int ClientIndex,
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
            return new Pair(
                nameIndex,
                (int)((r >> 32) % (ulong)_clients.Count),
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
            var client = _clients[pair.ClientIndex];
            bool ipv6 = client.Length == 16;
            int ipHeader = ipv6 ? Ipv6HeaderSize : Ipv4HeaderSize;
            int l4Header = pair.Tcp ? TcpHeaderSize + 2 : UdpHeaderSize;
            int dnsOffset = PcapRecordHeaderSize + EthernetHeaderSize + ipHeader + l4Header;
            var dns = _frame.AsSpan(dnsOffset, MaxDnsMessage);
            int dnsLength = isResponse ? BuildResponse(dns, in pair) : BuildQuery(dns, in pair);

            // Timestamps: a jittered gap with the configured mean (uniform in [0.2, 1.8] x mean), never decreasing.
            _timeMicros += (long)(_meanGapMicros * (0.2 + (1.6 * _random.NextDouble())));

            var frame = _frame.AsSpan(PcapRecordHeaderSize);
            var resolver = ipv6 ? ResolverIpv6 : ResolverIpv4;
            ReadOnlySpan<byte> source = isResponse ? resolver : client;
            ReadOnlySpan<byte> destination = isResponse ? client : resolver;
            ushort sourcePort = isResponse ? (ushort)DnsPort : pair.ClientPort;
            ushort destinationPort = isResponse ? pair.ClientPort : (ushort)DnsPort;

            // Ethernet II: destination MAC, source MAC, EtherType.
            (isResponse ? RouterMac : ResolverMac).CopyTo(frame);
            (isResponse ? ResolverMac : RouterMac).CopyTo(frame[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], ipv6 ? (ushort)0x86DD : (ushort)0x0800);

            var ip = frame[EthernetHeaderSize..];
            var l4 = ip[ipHeader..];
            int l4Length = l4Header + dnsLength;
            byte protocol = pair.Tcp ? (byte)6 : (byte)17;
            if (pair.Tcp)
            {
                // One segment carrying the whole message behind its 2-byte length (RFC 7766 8).
                BinaryPrimitives.WriteUInt16BigEndian(l4, sourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(l4[2..], destinationPort);
                BinaryPrimitives.WriteUInt32BigEndian(l4[4..], isResponse ? 0x20000001u : 0x10000001u);
                BinaryPrimitives.WriteUInt32BigEndian(l4[8..], isResponse ? 0x10000001u + (uint)(dnsLength + 2) : 0x20000001u);
                l4[12] = 5 << 4;   // data offset: 5 words, no options
                l4[13] = 0x18;     // PSH, ACK
                BinaryPrimitives.WriteUInt16BigEndian(l4[14..], 65535);
                BinaryPrimitives.WriteUInt32BigEndian(l4[16..], 0); // checksum (filled below), urgent pointer
                BinaryPrimitives.WriteUInt16BigEndian(l4[TcpHeaderSize..], (ushort)dnsLength);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(l4, sourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(l4[2..], destinationPort);
                BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)l4Length);
                BinaryPrimitives.WriteUInt16BigEndian(l4[6..], 0);
            }

            if (ipv6)
            {
                BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000);
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)l4Length);
                ip[6] = protocol;
                ip[7] = 64;
                source.CopyTo(ip[8..]);
                destination.CopyTo(ip[24..]);
            }
            else
            {
                ip[0] = 0x45;
                ip[1] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderSize + l4Length));
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], pair.Id);
                BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
                ip[8] = 64;
                ip[9] = protocol;
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
                source.CopyTo(ip[12..]);
                destination.CopyTo(ip[16..]);
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Finish(Checksum.Add(0, ip[..Ipv4HeaderSize])));
            }

            // Transport checksum over the pseudo-header (RFC 768, RFC 793, RFC 8200 8.1) and the segment.
            uint sum = Checksum.Add(0, source);
            sum = Checksum.Add(sum, destination);
            sum += protocol + (uint)l4Length;
            sum = Checksum.Add(sum, l4[..l4Length]);
            ushort l4Checksum = Checksum.Finish(sum);
            if (!pair.Tcp && l4Checksum == 0)
            {
                l4Checksum = 0xFFFF; // UDP sends a computed zero as all ones (RFC 768)
            }

            BinaryPrimitives.WriteUInt16BigEndian(l4[(pair.Tcp ? 16 : 6)..], l4Checksum);

            int frameLength = EthernetHeaderSize + ipHeader + l4Length;
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
            ulong cookieBits = (ulong)pair.ClientIndex * 0x9E3779B97F4A7C15UL;
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
                var client = _clients[pair.ClientIndex];
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
