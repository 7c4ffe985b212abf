using RataDns.Capture;

namespace RataDns.Tests.Capture;

public sealed class CaptureStreamReaderTests
{
    [Theory]
    [InlineData("pcap-le", 1)]
    [InlineData("pcap-le", 7)]
    [InlineData("pcap-be-nano", 1)]
    [InlineData("pcap-be-nano", 7)]
    [InlineData("pcapng-le", 1)]
    [InlineData("pcapng-le", 7)]
    [InlineData("pcapng-be", 1)]
    [InlineData("pcapng-be", 7)]
    public async Task Stream_in_small_chunks_gives_the_same_frames_as_the_mapped_file(string name, int chunk)
    {
        byte[] bytes = CaptureFileReaderTests.BuildSmall(name).ToArray();
        var (expected, expectedError, format) = CaptureTestIo.ReadFile(bytes);

        var (frames, error, streamFormat) = await CaptureTestIo.ReadStream(bytes, chunk);

        Assert.Null(expectedError);
        Assert.Null(error);
        Assert.Equal(format, streamFormat);
        Assert.Equal(expected, frames);
    }

    /// <summary>Records larger than the pipe's segments are gathered into the scratch buffer.</summary>
    [Theory]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(100_000)]
    public async Task Records_split_across_pipe_segments_are_reassembled(int chunk)
    {
        var random = new Random(5);
        var pcap = new PcapBuilder(false, true, LinkType.Ethernet, snapLength: 262144);
        var pcapng = new PcapNgBuilder(false).Interface(LinkType.Ethernet);
        for (int i = 0; i < 60; i++)
        {
            var data = new byte[random.Next(1, i % 10 == 0 ? 200_000 : 3000)];
            random.NextBytes(data);
            pcap.Add((uint)i, (uint)i, data);
            pcapng.Enhanced(0, (ulong)i, data);
        }

        foreach (var bytes in new[] { pcap.ToArray(), pcapng.ToArray() })
        {
            var (expected, expectedError, _) = CaptureTestIo.ReadFile(bytes);
            var (frames, error, _) = await CaptureTestIo.ReadStream(bytes, chunk);
            Assert.Null(expectedError);
            Assert.Null(error);
            Assert.Equal(60, frames.Count);
            Assert.Equal(expected, frames);
        }
    }

    [Theory]
    [MemberData(nameof(CaptureFileReaderTests.SmallCaptures), MemberType = typeof(CaptureFileReaderTests))]
    public async Task Truncation_at_every_offset_matches_the_mapped_reader(string name)
    {
        byte[] whole = CaptureFileReaderTests.BuildSmall(name).ToArray();
        for (int cut = 4; cut <= whole.Length; cut++)
        {
            byte[] bytes = whole[..cut];
            var (expected, expectedError, _) = CaptureTestIo.ReadFile(bytes);
            var (frames, error, _) = await CaptureTestIo.ReadStream(bytes, 3);
            Assert.Equal(expected, frames);
            Assert.Equal(expectedError, error);
        }
    }

    [Fact]
    public async Task Stream_shorter_than_a_magic_or_with_an_unknown_magic_throws()
    {
        await Assert.ThrowsAsync<CaptureFormatException>(() => CaptureTestIo.ReadStream([0xD4, 0xC3], 1));
        var ex = await Assert.ThrowsAsync<CaptureFormatException>(() => CaptureTestIo.ReadStream("GET / HTTP"u8.ToArray(), 1));
        Assert.Contains("47455420", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_are_delivered_as_they_arrive_not_at_the_end_of_the_stream()
    {
        byte[] bytes = CaptureFileReaderTests.BuildSmall("pcap-le").ToArray();
        var pipe = new System.IO.Pipelines.Pipe();
        var handler = new SignallingHandler();
        var reader = new CaptureStreamReader(pipe.Reader.AsStream());
        var reading = reader.ReadAllAsync(handler);

        // Write the header and the first record only: the frame must come out while the stream is still open.
        int firstEnd = 24 + 16 + 60;
        await pipe.Writer.WriteAsync(bytes.AsMemory(0, firstEnd));
        await handler.FirstFrame.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(reading.IsCompleted);

        await pipe.Writer.WriteAsync(bytes.AsMemory(firstEnd));
        await pipe.Writer.CompleteAsync();
        Assert.Equal(3, await reading);
        Assert.Null(reader.Error);
    }

    private sealed class SignallingHandler : ICaptureFrameHandler
    {
        public TaskCompletionSource FirstFrame { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnFrame(in CapturedFrame frame) => FirstFrame.TrySetResult();
    }
}
