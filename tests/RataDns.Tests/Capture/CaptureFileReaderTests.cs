using RataDns.Capture;

namespace RataDns.Tests.Capture;

public sealed class CaptureFileReaderTests
{
    private static readonly byte[] FrameA = [.. Enumerable.Range(0, 60).Select(i => (byte)i)];
    private static readonly byte[] FrameB = [0xDE, 0xAD, 0xBE, 0xEF, 0x01];
    private static readonly byte[] FrameC = [.. Enumerable.Range(0, 99).Select(i => (byte)(255 - i))];

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Pcap_in_both_byte_orders_and_resolutions_gives_frames_and_timestamps(bool bigEndian, bool nano)
    {
        var bytes = new PcapBuilder(bigEndian, nano, LinkType.Ethernet)
            .Add(1_700_000_000, nano ? 123_456_789u : 123_456u, FrameA)
            .Add(1_700_000_001, 5, FrameB, originalLength: 1500)
            .ToArray();

        var (frames, error, format) = CaptureTestIo.ReadFile(bytes);

        Assert.Null(error);
        Assert.Equal(CaptureFileFormat.Pcap, format);
        Assert.Equal(2, frames.Count);
        Assert.Equal(1_700_000_000_123_456_789L - (nano ? 0 : 789), frames[0].TimestampNanoseconds);
        Assert.Equal(1_700_000_001_000_000_000L + (nano ? 5 : 5000), frames[1].TimestampNanoseconds);
        Assert.Equal(FrameA, frames[0].Data);
        Assert.Equal(FrameB, frames[1].Data);
        Assert.Equal(1500u, frames[1].OriginalLength);
        Assert.Equal(LinkType.Ethernet, frames[0].LinkType);
        Assert.Equal(0, frames[0].InterfaceId);
        Assert.Equal(24, frames[0].FileOffset);
        Assert.Equal(24 + 16 + FrameA.Length, frames[1].FileOffset);
        Assert.Equal([1L, 2L], frames.Select(f => f.FrameNumber));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PcapNg_with_two_interfaces_of_different_link_types_and_resolutions(bool bigEndian)
    {
        var bytes = new PcapNgBuilder(bigEndian)
            .Interface(LinkType.Ethernet) // default resolution: microseconds
            .Interface(LinkType.Raw, tsResol: 9, tsOffset: 100)
            .Interface(LinkType.LinuxSll, tsResol: 0x80 | 10) // 2^-10 s
            .Enhanced(0, 1_700_000_000_123_456UL, FrameA)
            .Enhanced(1, 1_700_000_000_987_654_321UL, FrameB)
            .Enhanced(2, (5UL << 10) | 512, FrameC, originalLength: 4000)
            .ToArray();

        var (frames, error, format) = CaptureTestIo.ReadFile(bytes);

        Assert.Null(error);
        Assert.Equal(CaptureFileFormat.PcapNg, format);
        Assert.Equal(3, frames.Count);
        Assert.Equal(1_700_000_000_123_456_000L, frames[0].TimestampNanoseconds);
        Assert.Equal(1_700_000_100_987_654_321L, frames[1].TimestampNanoseconds);
        Assert.Equal(5_500_000_000L, frames[2].TimestampNanoseconds);
        Assert.Equal([LinkType.Ethernet, LinkType.Raw, LinkType.LinuxSll], frames.Select(f => f.LinkType));
        Assert.Equal([0, 1, 2], frames.Select(f => f.InterfaceId));
        Assert.Equal(FrameB, frames[1].Data);
        Assert.Equal(FrameC, frames[2].Data);
        Assert.Equal(4000u, frames[2].OriginalLength);
    }

    [Fact]
    public void PcapNg_skips_unknown_blocks_and_reads_simple_packets_with_the_snaplen_of_interface_0()
    {
        var builder = new PcapNgBuilder(false)
            .Block(0x00000004, [1, 0, 4, 0, 10, 0, 0, 1, 0, 0, 0, 0]) // NRB-like body
            .Interface(LinkType.Ethernet, snapLength: 8)
            .Block(0x00000BAD, [0x01, 0x02, 0x03, 0x04, 0x05]) // custom block
            .Simple(FrameA)
            .Block(0x00000005, new byte[20]) // ISB
            .Block(0x0000000A, new byte[12]) // DSB
            .Simple(FrameB, originalLength: 5);
        var (frames, error, _) = CaptureTestIo.ReadFile(builder.ToArray());

        Assert.Null(error);
        Assert.Equal(2, frames.Count);
        Assert.Equal(FrameA[..8], frames[0].Data);
        Assert.Equal((uint)FrameA.Length, frames[0].OriginalLength);
        Assert.Equal(FrameB, frames[1].Data);
        Assert.Equal(0, frames[0].TimestampNanoseconds);
        Assert.Equal(builder.Records.Where(r => r.IsFrame).Select(r => r.Offset), frames.Select(f => f.FileOffset));
    }

    [Fact]
    public void PcapNg_with_several_sections_in_different_byte_orders_resets_the_interfaces()
    {
        var bytes = new PcapNgBuilder(false)
            .Interface(LinkType.Ethernet)
            .Enhanced(0, 1_000_000, FrameA)
            .Section(bigEndian: true)
            .Interface(LinkType.Ipv6, tsResol: 3)
            .Enhanced(0, 2_500, FrameB)
            .ToArray();

        var (frames, error, _) = CaptureTestIo.ReadFile(bytes);

        Assert.Null(error);
        Assert.Equal(2, frames.Count);
        Assert.Equal(LinkType.Ethernet, frames[0].LinkType);
        Assert.Equal(1_000_000_000L, frames[0].TimestampNanoseconds);
        Assert.Equal(LinkType.Ipv6, frames[1].LinkType);
        Assert.Equal(2_500_000_000L, frames[1].TimestampNanoseconds);
        Assert.Equal([1L, 2L], frames.Select(f => f.FrameNumber));
    }

    [Fact]
    public void PcapNg_packet_block_naming_a_missing_interface_stops_with_an_error()
    {
        var builder = new PcapNgBuilder(false).Interface(LinkType.Ethernet).Enhanced(0, 1, FrameA).Enhanced(1, 2, FrameB);

        var (frames, error, _) = CaptureTestIo.ReadFile(builder.ToArray());

        Assert.Single(frames);
        Assert.NotNull(error);
        Assert.Equal(builder.Records[^1].Offset, error.Offset);
        Assert.Equal(2, error.FrameNumber);
        Assert.Contains("interface 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pcap_record_beyond_the_length_bound_is_corrupt_not_awaited()
    {
        var builder = new PcapBuilder(false, false, LinkType.Ethernet).Add(1, 0, FrameA).AddHeaderOnly(0x7FFF_0000);

        var (frames, error, _) = CaptureTestIo.ReadFile(builder.ToArray());

        Assert.Single(frames);
        Assert.NotNull(error);
        Assert.Equal(builder.Records[1].Offset, error.Offset);
        Assert.Contains("beyond the bound", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_magic_throws_with_the_path_and_the_magic_bytes()
    {
        string path = CaptureTestIo.WriteTemp([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]);
        try
        {
            var ex = Assert.Throws<CaptureFormatException>(() => CaptureFileReader.Open(path));
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
            Assert.Contains("504b0304", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Missing_file_throws_file_not_found()
    {
        Assert.Throws<FileNotFoundException>(() => CaptureFileReader.Open(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.pcap")));
    }

    public static TheoryData<string> SmallCaptures() => ["pcap-le", "pcap-be-nano", "pcapng-le", "pcapng-be"];

    internal static CaptureBuilder BuildSmall(string name) => name switch
    {
        "pcap-le" => new PcapBuilder(false, false, LinkType.Ethernet).Add(1, 2, FrameA).Add(3, 4, FrameB).Add(5, 6, FrameC),
        "pcap-be-nano" => new PcapBuilder(true, true, LinkType.Raw).Add(1, 2, FrameB).Add(3, 4, FrameA),
        "pcapng-le" => new PcapNgBuilder(false)
            .Interface(LinkType.Ethernet).Enhanced(0, 7, FrameA).Block(0xBAD, [1, 2, 3]).Simple(FrameB).Enhanced(0, 9, FrameB),
        _ => new PcapNgBuilder(true)
            .Interface(LinkType.Raw, tsResol: 9).Interface(LinkType.Ethernet).Enhanced(1, 7, FrameB).Enhanced(0, 8, FrameC),
    };

    /// <summary>
    /// A capture of 48 MB, read past many of the reader's populate-ahead chunks (4 MB) and its release-behind steps
    /// (16 MB): every frame arrives once, in order, with the bytes and timestamp it was written with.
    /// </summary>
    [Fact]
    public void A_capture_larger_than_the_read_ahead_and_release_steps_is_read_whole()
    {
        const int frameLength = 1500;
        const int count = 48 * 1024 * 1024 / (frameLength + 16);
        var builder = new PcapBuilder(bigEndian: false, nanoseconds: false, LinkType.Ethernet);
        var frame = new byte[frameLength];
        for (int i = 0; i < count; i++)
        {
            FillFrame(frame, i);
            builder.Add(1_700_000_000 + (uint)(i / 1000), (uint)(i % 1000) * 1000, frame);
        }

        var (frames, error, _) = CaptureTestIo.ReadFile(builder.ToArray());

        Assert.Null(error);
        Assert.Equal(count, frames.Count);
        for (int i = 0; i < count; i++)
        {
            FillFrame(frame, i);
            Assert.True(frame.AsSpan().SequenceEqual(frames[i].Data), $"frame {i + 1} differs from what was written");
            Assert.Equal((1_700_000_000L + (i / 1000)) * 1_000_000_000L + (i % 1000) * 1_000_000L, frames[i].TimestampNanoseconds);
        }
    }

    private static void FillFrame(byte[] frame, int index)
    {
        for (int j = 0; j < frame.Length; j++)
        {
            frame[j] = (byte)((index * 31) + j);
        }
    }

    /// <summary>
    /// Cutting the file at every byte offset delivers exactly the frames that end before the cut; a cut inside a
    /// record (or the file header) sets Error at that record's offset; a cut on a boundary is a clean end.
    /// </summary>
    [Theory]
    [MemberData(nameof(SmallCaptures))]
    public void Truncation_at_every_offset_delivers_the_frames_before_the_cut(string name)
    {
        var builder = BuildSmall(name);
        byte[] whole = builder.ToArray();
        var (allFrames, allError, _) = CaptureTestIo.ReadFile(whole);
        Assert.Null(allError);

        for (int cut = 0; cut <= whole.Length; cut++)
        {
            byte[] bytes = whole[..cut];
            if (cut < 4)
            {
                string path = CaptureTestIo.WriteTemp(bytes);
                try
                {
                    Assert.Throws<CaptureFormatException>(() => CaptureFileReader.Open(path));
                }
                finally
                {
                    File.Delete(path);
                }

                continue;
            }

            var (frames, error, _) = CaptureTestIo.ReadFile(bytes);
            var (expectedCount, expectedErrorOffset) = Expected(builder, whole.Length, cut);
            Assert.Equal(allFrames.Take(expectedCount), frames);
            if (expectedErrorOffset < 0)
            {
                Assert.Null(error);
            }
            else
            {
                Assert.NotNull(error);
                Assert.Equal(expectedErrorOffset, error.Offset);
                Assert.Equal(expectedCount + 1, error.FrameNumber);
                Assert.StartsWith("truncated ", error.Message, StringComparison.Ordinal);
                Assert.Contains($"at offset {expectedErrorOffset} (frame {expectedCount + 1})", error.Message, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Frames wholly before <paramref name="cut"/>, and the offset of the record the cut falls in (-1 if none).</summary>
    internal static (int Count, long ErrorOffset) Expected(CaptureBuilder builder, int length, int cut)
    {
        var records = builder.Records;
        int count = 0;
        for (int i = 0; i < records.Count; i++)
        {
            long start = records[i].Offset;
            long end = i + 1 < records.Count ? records[i + 1].Offset : length;
            if (cut <= start)
            {
                return (count, cut == start ? -1 : 0);
            }

            if (cut < end)
            {
                return (count, start);
            }

            count += records[i].IsFrame ? 1 : 0;
        }

        return (count, -1);
    }
}
