using System.Buffers.Binary;
using System.Text.RegularExpressions;
using RataDns.App.Commands;
using RataDns.App.Gen;
using RataDns.Tests.Support;

namespace RataDns.Tests.Conformance;

/// <summary>
/// Damaged capture files through <c>ratadns monitor</c> with every reducer: a file cut short (inside a record's
/// data or its header, pcap and pcapng) or with a record header's length bit-flipped ends with a clear error naming
/// where, after processing every frame before the damage; bit flips inside frames are ordinary malformed traffic.
/// tshark reads the same damaged file as the reference for how many frames and DNS messages come before the damage.
/// </summary>
public sealed partial class DamagedCaptureTests : IDisposable
{
    private const string Tshark = "/usr/bin/tshark";
    private const string Editcap = "/usr/bin/editcap";
    private const int Packets = 3000;
    private readonly string _directory = Directory.CreateTempSubdirectory("ratadns-damaged-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public enum Damage
    {
        CutInsideData,
        CutInsideHeader,
        IncludedLengthFlipped,
        PcapngCut,
    }

    [SkippableTheory]
    [InlineData(Damage.CutInsideData, FileReader.CaptureThread)]
    [InlineData(Damage.CutInsideHeader, FileReader.CaptureThread)]
    [InlineData(Damage.IncludedLengthFlipped, FileReader.CaptureThread)]
    [InlineData(Damage.PcapngCut, FileReader.CaptureThread)]
    [InlineData(Damage.CutInsideData, FileReader.Worker)]
    [InlineData(Damage.CutInsideHeader, FileReader.Worker)]
    [InlineData(Damage.IncludedLengthFlipped, FileReader.Worker)]
    [InlineData(Damage.PcapngCut, FileReader.Worker)]
    public void A_damaged_file_ends_with_a_clear_error_after_the_frames_before_the_damage(Damage damage, FileReader reader)
    {
        Skip.IfNot(File.Exists(Tshark) && File.Exists(Editcap), "tshark and editcap are the reference (scripts/setup.sh installs them)");
        var good = Path.Combine(_directory, "good.pcap");
        SyntheticCapture.Write(good, Packets, seed: 5);
        var bytes = File.ReadAllBytes(good);
        var records = RecordOffsets(bytes);
        Assert.Equal(Packets, records.Count);
        int k = 1777;                                                 // the damaged record (0-based)
        string damaged = Path.Combine(_directory, "damaged.pcap");
        switch (damage)
        {
            case Damage.CutInsideData:
                File.WriteAllBytes(damaged, bytes.AsSpan(0, records[k] + 16 + 30).ToArray());
                break;
            case Damage.CutInsideHeader:
                File.WriteAllBytes(damaged, bytes.AsSpan(0, records[k] + 7).ToArray());
                break;
            case Damage.IncludedLengthFlipped:
                bytes[records[k] + 8 + 3] ^= 0x40;                     // incl_len (little-endian) + 1 GiB
                File.WriteAllBytes(damaged, bytes);
                break;
            case Damage.PcapngCut:
                var pcapng = Path.Combine(_directory, "good.pcapng");
                Assert.True(ExternalTool.Run(Editcap, ["-F", "pcapng", good, pcapng], out _, out var editErrors) == 0, editErrors);
                var ng = File.ReadAllBytes(pcapng);
                damaged = Path.Combine(_directory, "damaged.pcapng");
                File.WriteAllBytes(damaged, ng.AsSpan(0, (int)(ng.LongLength * k / Packets)).ToArray());
                break;
        }

        // tshark reads up to the damage and complains; what it lists is what comes before it.
        ExternalTool.Run(Tshark, ["-r", damaged, "-T", "fields", "-e", "frame.number", "-e", "dns.id"], out var tsv, out var tsharkErrors);
        var rows = tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(tsharkErrors.Length > 0, "tshark did not notice the damage");
        long frames = rows.Length;
        long dnsMessages = rows.Sum(r => r.Split('\t')[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Length);
        if (damage != Damage.PcapngCut)
        {
            Assert.Equal(k, frames);
        }

        var run = MonitorRobustness.RunAllReducers(damaged, windowPackets: 500, statistics: true, workers: reader == FileReader.Worker ? 1 : 2, reader: reader);
        Assert.Equal(ExitCodes.InputDamaged, run.ExitCode);
        var stop = StopLine().Match(run.Errors);
        Assert.True(stop.Success, run.Errors);
        Assert.Contains(damaged, stop.Value, StringComparison.Ordinal);
        Assert.Matches("offset [0-9]+", stop.Value);
        Assert.Equal(frames, long.Parse(stop.Groups["frames"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(frames, run.Statistic("frames"));
        Assert.Equal(dnsMessages, run.Statistic("dns messages"));
        Assert.Equal(dnsMessages, run.Messages);
        Assert.Equal(run.Messages, run.MalformedReasons().GetValueOrDefault("ok"));
    }

    [SkippableFact]
    public void Bit_flips_inside_frames_are_counted_as_traffic_and_every_frame_is_read()
    {
        Skip.IfNot(File.Exists(Tshark), "tshark is the reference (scripts/setup.sh installs it)");
        var path = Path.Combine(_directory, "flipped.pcap");
        SyntheticCapture.Write(path, Packets, seed: 6);
        var bytes = File.ReadAllBytes(path);
        var random = new Random(7);
        var records = RecordOffsets(bytes);
        foreach (int at in records)
        {
            // Three random bit flips somewhere in each frame (the record headers stay intact).
            int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 8));
            for (int i = 0; i < 3; i++)
            {
                bytes[at + 16 + random.Next(length)] ^= (byte)(1 << random.Next(8));
            }
        }

        File.WriteAllBytes(path, bytes);
        ExternalTool.Run(Tshark, ["-r", path, "-T", "fields", "-e", "frame.number"], out var tsv, out _);
        var run = MonitorRobustness.RunAllReducers(path, windowPackets: 500, statistics: true);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.Errors);
        Assert.Equal(tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, run.Statistic("frames"));
        Assert.Equal(Packets, run.Statistic("frames"));
        var reasons = run.MalformedReasons();
        long malformed = reasons.Where(r => r.Key != "ok").Sum(r => r.Value);
        Assert.True(malformed > 0 && reasons.GetValueOrDefault("ok") > 0, string.Join(", ", reasons));
    }

    /// <summary>Byte offsets of every record header of a little-endian classic pcap.</summary>
    private static List<int> RecordOffsets(byte[] pcap)
    {
        var offsets = new List<int>();
        for (int at = 24; at + 16 <= pcap.Length; at += 16 + BinaryPrimitives.ReadInt32LittleEndian(pcap.AsSpan(at + 8)))
        {
            offsets.Add(at);
        }

        return offsets;
    }

    [GeneratedRegex(@"ratadns monitor: .*; the (?<frames>[0-9]+) frames before it were processed\.")]
    private static partial Regex StopLine();
}
