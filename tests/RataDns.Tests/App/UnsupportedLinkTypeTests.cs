using System.Buffers.Binary;
using System.Text.RegularExpressions;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;

namespace RataDns.Tests.App;

/// <summary>
/// A capture of a link layer the decoder does not read is never silent (issue 17): serialize, inspect and monitor
/// each say how many frames they skipped and which link type, by number and by the name tcpdump gives it (the
/// reference), even with -q.
/// </summary>
public sealed partial class UnsupportedLinkTypeTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [SkippableTheory]
    [InlineData(129)] // ARCNET_LINUX
    [InlineData(10)]  // FDDI
    public void Every_command_names_the_link_type_and_counts_the_skipped_frames(int linkType)
    {
        Skip.IfNot(File.Exists("/usr/bin/tcpdump"), "tcpdump is not installed (scripts/setup.sh installs it)");
        string file = Path.Combine(_directory.Path, $"linktype-{linkType}.pcap");
        File.WriteAllBytes(file, Pcap((uint)linkType, frames: 3));

        // tcpdump: "reading from file F, link-type ARCNET_LINUX (Linux ARCNET), snapshot length 65535", and 3 packets.
        ExternalTool.Run("/usr/bin/tcpdump", ["-n", "-r", file], out string packets, out string header);
        string name = LinkTypeName().Match(header) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException(header);
        int count = packets.Split('\n').Count(l => PacketLine().IsMatch(l)); // one line per packet starts with its time
        Assert.Equal(3, count);

        foreach (string[] command in new[] { ["serialize", "-q", file], ["inspect", "-q", file], new[] { "monitor", "-q", "-r", file } })
        {
            int exit = ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), .. command], out _, out string stderr);
            Assert.True(exit == 0, stderr);
            Assert.Contains($"ratadns {command[0]}: {count} frames skipped: link type {linkType} ({name}) is not one RataDns decodes", stderr, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"link-type ([A-Z0-9_]+) ")]
    private static partial Regex LinkTypeName();

    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d+ ")]
    private static partial Regex PacketLine();

    private static byte[] Pcap(uint linkType, int frames)
    {
        const int FrameLength = 40;
        var file = new byte[24 + (frames * (16 + FrameLength))];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), linkType);
        for (int i = 0; i < frames; i++)
        {
            int record = 24 + (i * (16 + FrameLength));
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(record), (uint)(1_700_000_000 + i));
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(record + 8), FrameLength);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(record + 12), FrameLength);
            file.AsSpan(record + 16, FrameLength).Fill((byte)(0x40 + i));
        }

        return file;
    }
}
