using RataDns.Capture;
using RataDns.Capture.Fragments;
using static RataDns.Tests.Capture.Fragments.FragmentTestSupport;

namespace RataDns.Tests.Capture.Fragments;

public sealed class FragmentAllocationTests
{
    [Fact]
    public void Steady_reassembly_allocates_nothing()
    {
        var reassembler = new IpFragmentReassembler();
        var datagrams = new List<List<byte[]>>();
        for (int i = 0; i < 16; i++)
        {
            byte[] udp = PacketBuilder.Udp(53, 4000, DnsMessage((ushort)i, 1500 + (i * 300), i));
            var frames = i % 2 == 0 ? Ipv4Fragments(ProtocolUdp, udp, 1480, (ushort)i) : Ipv6Fragments(ProtocolUdp, udp, 1232, (uint)i);
            frames.Reverse();
            datagrams.Add(frames);
        }

        Run(reassembler, datagrams);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int completed = 0;
        for (int round = 0; round < 50; round++)
        {
            completed += Run(reassembler, datagrams);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(50 * datagrams.Count, completed);
        // Far fewer bytes than items means nothing per item; the runtime may allocate a few KB once while it
        // recompiles the hot loop (tiered JIT, on-stack replacement).
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated over the measured reassemblies");
    }

    private static int Run(IpFragmentReassembler reassembler, List<List<byte[]>> datagrams)
    {
        int completed = 0;
        foreach (var frames in datagrams)
        {
            foreach (byte[] frame in frames)
            {
                if (PacketDecoder.Decode(LinkType.Raw, frame, DnsPortSet.Default, out var fragment) == PacketDecodeStatus.IpFragment
                    && reassembler.Add(in fragment, 0, out var payload) == FragmentResult.Reassembled
                    && PacketDecoder.DecodeReassembled(in fragment, payload, DnsPortSet.Default, out var packet) == PacketDecodeStatus.Ok
                    && packet.Payload.Length > 0)
                {
                    completed++;
                }
            }
        }

        return completed;
    }
}
