using RataDns.Capture;

namespace RataDns.Tests.Capture;

public sealed class CaptureAllocationTests
{
    /// <summary>Decodes every frame it is given and counts the statuses, allocating nothing.</summary>
    private struct DecodingHandler : ICaptureFrameHandler
    {
        public long Frames;
        public long Dns;
        public long PayloadBytes;

        public void OnFrame(in CapturedFrame frame)
        {
            Frames++;
            if (PacketDecoder.Decode(frame.LinkType, frame.Data, DnsPortSet.Default, out var packet) == PacketDecodeStatus.Ok)
            {
                Dns++;
                PayloadBytes += packet.Payload.Length;
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reading_and_decoding_allocates_nothing_per_frame(bool pcapNg)
    {
        byte[] frame = PacketBuilder.Ethernet(0x0800, PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 53, new byte[40])));
        CaptureBuilder builder = pcapNg ? new PcapNgBuilder(false).Interface(LinkType.Ethernet, tsResol: 9) : new PcapBuilder(false, false, LinkType.Ethernet);
        for (int i = 0; i < 20_000; i++)
        {
            if (builder is PcapNgBuilder ng)
            {
                ng.Enhanced(0, (ulong)i, frame);
            }
            else
            {
                ((PcapBuilder)builder).Add((uint)i, 0, frame);
            }
        }

        string path = CaptureTestIo.WriteTemp(builder.ToArray());
        try
        {
            using var reader = CaptureFileReader.Open(path);
            var warmup = default(DecodingHandler);
            reader.ReadAll(ref warmup);

            var handler = default(DecodingHandler);
            long before = GC.GetAllocatedBytesForCurrentThread();
            long count = reader.ReadAll(ref handler);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(20_000, count);
            Assert.Equal(20_000, handler.Dns);
            Assert.True(allocated < 1024, $"{allocated} bytes allocated for 20000 frames");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
