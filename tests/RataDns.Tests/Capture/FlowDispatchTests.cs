using RataDns.Capture;
using RataDns.Capture.Pipeline;

namespace RataDns.Tests.Capture;

/// <summary>What the capture thread decides per frame: is it a DNS packet (for count windows), and which worker.</summary>
public class FlowDispatchTests
{
    private static readonly DnsPortSet Ports = new([53]);

    [Fact]
    public void Both_directions_tcp_and_fragments_between_two_hosts_hash_alike_and_other_hosts_spread()
    {
        var query = Frame(PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 53, new byte[30])), swap: false);
        var response = Frame(PacketBuilder.Ipv4(17, PacketBuilder.Udp(53, 40000, new byte[30])), swap: true);
        var tcp = Frame(PacketBuilder.Ipv4(6, PacketBuilder.Tcp(41000, 53, 1, 0x18, new byte[30])), swap: false);
        var fragment = Frame(PacketBuilder.Ipv4(17, new byte[24], identification: 7, flagsAndOffset: 3), swap: true);

        uint[] hashes = [.. new[] { query, response, tcp, fragment }.Select(f => Hash(f, seed: 99, out _))];
        Assert.All(hashes, h => Assert.Equal(hashes[0], h));

        // 256 client addresses against one server land on every one of 4 workers.
        var workers = new HashSet<int>();
        for (int i = 0; i < 256; i++)
        {
            byte[] ip = PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 53, new byte[30]));
            ip[15] = (byte)i;
            workers.Add(FlowDispatch.WorkerOf(Hash(PacketBuilder.Ethernet(0x0800, ip), seed: 99, out _), 4));
        }

        Assert.Equal(4, workers.Count);
    }

    [Fact]
    public void Dns_packets_are_datagrams_and_segments_with_a_payload_and_first_fragments()
    {
        Hash(Frame(PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 53, new byte[30])), false), 1, out bool udp);
        Hash(Frame(PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 53, [])), false), 1, out bool emptyUdp);
        Hash(Frame(PacketBuilder.Ipv4(6, PacketBuilder.Tcp(41000, 53, 1, 0x02, [])), false), 1, out bool syn);
        Hash(Frame(PacketBuilder.Ipv4(6, PacketBuilder.Tcp(41000, 53, 1, 0x18, new byte[30])), false), 1, out bool segment);
        Hash(Frame(PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 8080, new byte[30])), false), 1, out bool otherPort);
        Hash(Frame(PacketBuilder.Ipv4(17, new byte[24], identification: 7, flagsAndOffset: 0x2000), false), 1, out bool firstFragment);
        Hash(Frame(PacketBuilder.Ipv4(17, new byte[24], identification: 7, flagsAndOffset: 3), false), 1, out bool laterFragment);
        Assert.Equal(
            [true, false, false, true, false, true, false],
            new[] { udp, emptyUdp, syn, segment, otherPort, firstFragment, laterFragment });
    }

    private static byte[] Frame(byte[] ip, bool swap)
    {
        if (swap)
        {
            // The response direction: exchange the source and destination addresses.
            byte[] source = ip[12..16];
            ip.AsSpan(16, 4).CopyTo(ip.AsSpan(12));
            source.CopyTo(ip, 16);
        }

        return PacketBuilder.Ethernet(0x0800, ip);
    }

    private static uint Hash(byte[] frame, ulong seed, out bool dns)
    {
        string path = CaptureTestIo.WriteTemp(new PcapBuilder(false, false, LinkType.Ethernet).Add(1, 0, frame).ToArray());
        try
        {
            using var reader = CaptureFileReader.Open(path);
            var handler = new Probe(seed);
            Assert.Equal(1, reader.ReadAll(ref handler));
            dns = handler.Dns;
            return handler.Hash;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private struct Probe(ulong seed) : ICaptureFrameHandler
    {
        public uint Hash;
        public bool Dns;

        public void OnFrame(in CapturedFrame frame)
        {
            Dns = FlowDispatch.Classify(in frame, Ports, seed, out Hash);
            Assert.Equal(Dns, FlowDispatch.Classify(in frame, Ports));
        }
    }
}
