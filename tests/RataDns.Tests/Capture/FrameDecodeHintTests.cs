using System.Globalization;
using RataDns.Capture;
using RataDns.Capture.Ring;
using RataDns.Tests.Support;

namespace RataDns.Tests.Capture;

/// <summary>
/// The monitor's capture thread decodes each frame once and hands what it found to the worker with the frame
/// (<see cref="FrameDecodeHint"/>). The worker's rebuilt decode must be the decoder's own, field by field and at the
/// same offsets, for every frame a hint is given: the bundled captures, the shared corpus (every real link layer and
/// tunnel it holds, when it is beside the repository) and damaged copies; and it must survive the ring.
/// </summary>
public sealed class FrameDecodeHintTests
{
    [Fact]
    public void The_rebuilt_decode_is_the_decoders_for_the_bundled_captures_and_damaged_frames()
    {
        var checker = new Checker();
        foreach (string file in new[] { Path.Combine(RepoPaths.Root, "samples", "sample.pcap"), Path.Combine(RepoPaths.Root, "bench", "data", "knot-sample.pcap") })
        {
            using var reader = CaptureFileReader.Open(file);
            reader.ReadAll(ref checker);
        }

        Assert.Empty(checker.Failures);
        // Nearly every frame of the sample is a plain UDP datagram: the shortcut is the usual path, not a rare one.
        Assert.True(checker.Hinted > 0.9 * checker.Frames, $"{checker.Hinted} of {checker.Frames} frames got a hint");

        var damaged = new Checker();
        var random = new Random(99);
        foreach (var frame in checker.Kept)
        {
            for (int i = 0; i < 20; i++)
            {
                byte[] copy = random.Next(3) == 0 ? frame.AsSpan(0, random.Next(frame.Length + 1)).ToArray() : (byte[])frame.Clone();
                for (int flips = random.Next(1, 4); flips > 0 && copy.Length > 0; flips--)
                {
                    copy[random.Next(Math.Min(copy.Length, 64))] = (byte)random.Next(256);
                }

                damaged.Check(LinkType.Ethernet, copy, (uint)frame.Length);
            }
        }

        Assert.Empty(damaged.Failures);
        Assert.True(damaged.Hinted > 0 && damaged.Hinted < damaged.Frames, $"{damaged.Hinted} of {damaged.Frames} damaged frames got a hint");
    }

    [SkippableFact]
    public void The_rebuilt_decode_is_the_decoders_for_every_corpus_capture()
    {
        string? corpus = CorpusDirectory();
        Skip.If(corpus is null, "the capture corpus (../shared/corpus/INDEX.tsv beside the repository) is absent");
        var checker = new Checker();
        foreach (string file in File.ReadLines(Path.Combine(corpus, "INDEX.tsv")).Skip(1).Select(l => l.Split('\t')[0]))
        {
            using var reader = CaptureFileReader.Open(Path.Combine(corpus, file));
            reader.ReadAll(ref checker);
        }

        Assert.Empty(checker.Failures);
        Assert.True(checker.Hinted > 10_000, $"only {checker.Hinted.ToString(CultureInfo.InvariantCulture)} corpus frames got a hint");
    }

    [Fact]
    public void A_hint_travels_with_its_frame_through_the_ring_and_is_dropped_when_the_frame_is_cut()
    {
        using var reader = CaptureFileReader.Open(Path.Combine(RepoPaths.Root, "samples", "sample.pcap"));
        var writer = new RingWriter { Whole = new FrameRing(4, 2048), Cut = new FrameRing(4, 40) };
        reader.ReadAll(ref writer);

        Assert.True(writer.Hint.IsSet);
        Assert.True(writer.Whole.TryRead(out var frame, out var carried));
        Assert.True(carried.TryRebuild(frame.Data, out var rebuilt));
        Assert.Equal(writer.Payload, rebuilt.Payload.ToArray());
        Assert.True(writer.Cut.TryRead(out var cutFrame, out var cut));
        Assert.Equal(40, cutFrame.Data.Length);
        Assert.False(cut.IsSet);
    }

    private struct RingWriter : ICaptureFrameHandler
    {
        public FrameRing Whole { get; init; }

        public FrameRing Cut { get; init; }

        public FrameDecodeHint Hint { get; private set; }

        public byte[]? Payload { get; private set; }

        public void OnFrame(in CapturedFrame frame)
        {
            if (Payload is not null)
            {
                return;
            }

            var status = PacketDecoder.Decode(in frame, DnsPortSet.Default, out var packet);
            Hint = FrameDecodeHint.From(status, in packet, frame.Data);
            Payload = packet.Payload.ToArray();
            Assert.True(Whole.TryWrite(in frame, Hint));
            Assert.True(Cut.TryWrite(in frame, Hint));
        }
    }

    private static string? CorpusDirectory()
    {
        string corpus = Path.GetFullPath(Path.Combine(RepoPaths.Root, "..", "shared", "corpus"));
        return File.Exists(Path.Combine(corpus, "INDEX.tsv")) ? corpus : null;
    }

    private sealed class Checker : ICaptureFrameHandler
    {
        public List<string> Failures { get; } = [];

        public List<byte[]> Kept { get; } = [];

        public long Frames { get; private set; }

        public long Hinted { get; private set; }

        public void OnFrame(in CapturedFrame frame)
        {
            if (Check(frame.LinkType, frame.Data, frame.OriginalLength) && Kept.Count < 300)
            {
                Kept.Add(frame.Data.ToArray());
            }
        }

        public bool Check(LinkType linkType, ReadOnlySpan<byte> data, uint originalLength)
        {
            Frames++;
            var status = PacketDecoder.Decode(linkType, data, originalLength, DnsPortSet.Default, out var expected);
            var hint = FrameDecodeHint.From(status, in expected, data);
            if (!hint.IsSet)
            {
                return false;
            }

            Hinted++;
            if (!hint.TryRebuild(data, out var actual))
            {
                Failures.Add($"frame {Frames}: the hint does not fit its own frame");
                return false;
            }

            string? difference =
                expected.IpVersion != actual.IpVersion ? "IpVersion"
                : !Same(data, expected.SourceAddress, actual.SourceAddress) ? "SourceAddress"
                : !Same(data, expected.DestinationAddress, actual.DestinationAddress) ? "DestinationAddress"
                : expected.IpProtocol != actual.IpProtocol ? "IpProtocol"
                : !Same(data, expected.IpPayload, actual.IpPayload) ? "IpPayload"
                : expected.IpHeaderCount != actual.IpHeaderCount ? "IpHeaderCount"
                : expected.SourcePort != actual.SourcePort ? "SourcePort"
                : expected.DestinationPort != actual.DestinationPort ? "DestinationPort"
                : expected.Transport != actual.Transport ? "Transport"
                : !Same(data, expected.Payload, actual.Payload) ? "Payload"
                : expected.TcpFlags != actual.TcpFlags ? "TcpFlags"
                : expected.TcpSequence != actual.TcpSequence ? "TcpSequence"
                : expected.FragmentIdentification != actual.FragmentIdentification ? "FragmentIdentification"
                : expected.FragmentOffset != actual.FragmentOffset ? "FragmentOffset"
                : expected.MoreFragments != actual.MoreFragments ? "MoreFragments"
                : null;
            if (difference is not null)
            {
                Failures.Add($"frame {Frames} ({status}): {difference} differs");
            }

            return true;
        }

        /// <summary>The same bytes at the same place in the frame.</summary>
        private static bool Same(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
            a.SequenceEqual(b) && a.Length == b.Length && (a.IsEmpty || a.Overlaps(frame, out int x) && b.Overlaps(frame, out int y) && x == y);
    }
}
