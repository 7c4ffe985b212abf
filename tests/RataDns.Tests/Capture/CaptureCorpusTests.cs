using System.Diagnostics;
using System.Globalization;
using RataDns.Capture;

namespace RataDns.Tests.Capture;

/// <summary>
/// Both readers over every capture of the shared corpus (../shared/corpus beside the repository), checked against
/// capinfos's packet counts in INDEX.tsv and, for a few files, tshark's timestamps.
/// </summary>
public sealed class CaptureCorpusTests
{
    /// <summary>
    /// Files where our count legitimately differs from a clean read, with the error reading must report instead.
    /// </summary>
    private static readonly Dictionary<string, string> ExpectedErrors = new(StringComparer.Ordinal)
    {
        // The capture itself is cut short: 7 bytes of a second record header follow the one whole packet (tshark
        // warns that it "appears to have been cut short in the middle of a packet"); capinfos counts 1.
        ["kbandla_dpkt/examples__data__truncated_dns_2.pcap"] = "truncated record header at offset 240 (frame 2): 7 of 16 bytes",
    };

    private static string? CorpusDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RataDns.slnx")))
            {
                string corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                return File.Exists(Path.Combine(corpus, "INDEX.tsv")) ? corpus : null;
            }
        }

        return null;
    }

    private static List<(string File, long Packets)> IndexRows(string corpus) =>
        [.. File.ReadLines(Path.Combine(corpus, "INDEX.tsv"))
            .Skip(1)
            .Select(line => line.Split('\t'))
            .Where(cols => cols.Length > 4)
            .Select(cols => (cols[0], long.Parse(cols[4], CultureInfo.InvariantCulture)))];

    [SkippableFact]
    public async Task Both_readers_deliver_the_capinfos_packet_count_for_every_corpus_file()
    {
        string? corpus = CorpusDirectory();
        Skip.If(corpus is null, "the capture corpus (../shared/corpus/INDEX.tsv beside the repository) is absent");

        var failures = new List<string>();
        long totalDns = 0;
        var rows = IndexRows(corpus);
        foreach (var (file, packets) in rows)
        {
            string path = Path.Combine(corpus, file);
            using var reader = CaptureFileReader.Open(path);
            var counter = new FrameCounter();
            long mapped = reader.ReadAll(ref counter);

            await using var stream = File.OpenRead(path);
            var streamReader = new CaptureStreamReader(stream);
            var streamCounter = new FrameCounter();
            long streamed = await streamReader.ReadAllAsync(streamCounter);

            if (mapped != packets || streamed != packets)
            {
                failures.Add($"{file}: capinfos {packets}, mapped {mapped}, streamed {streamed}");
            }

            // Every frame of real traffic goes through the packet decoder without throwing.
            var decoder = new DecodingCounter();
            reader.ReadAll(ref decoder);
            totalDns += decoder.Dns;

            if (!counter.Timestamps.SequenceEqual(streamCounter.Timestamps))
            {
                failures.Add($"{file}: the two readers disagree on timestamps");
            }

            if (streamReader.Error != reader.Error)
            {
                failures.Add($"{file}: the readers report different errors: {reader.Error} / {streamReader.Error}");
            }

            if (ExpectedErrors.TryGetValue(file, out string? expected))
            {
                if (reader.Error is null || !reader.Error.Message.StartsWith(expected, StringComparison.Ordinal))
                {
                    failures.Add($"{file}: expected an error starting '{expected}', got {reader.Error?.Message ?? "none"}");
                }
            }
            else if (reader.Error is not null)
            {
                failures.Add($"{file}: {reader.Error.Message}");
            }
        }

        Assert.True(rows.Count > 0, "INDEX.tsv lists no files");
        Assert.True(totalDns > 1000, $"only {totalDns} DNS packets decoded over the corpus");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [SkippableTheory]
    [InlineData("the-tcpdump-group_tcpdump/time_2107.pcapng")]
    [InlineData("the-tcpdump-group_tcpdump/time_2106_overflow.pcapng")]
    [InlineData("zeek_zeek/pcapng-multi-interface.pcapng")]
    [InlineData("ntop_nDPI/dns-google-nsid.pcapng")]
    [InlineData("DNS-OARC_PacketQ/pcap__sample-bigendian.pcap")]
    [InlineData("CZ-NIC_dns-probe/edns_dnssec_nsid.pcap")]
    public void Frame_timestamps_match_tshark(string file)
    {
        const string Tshark = "/usr/bin/tshark";
        string? corpus = CorpusDirectory();
        Skip.If(corpus is null, "the capture corpus (../shared/corpus/INDEX.tsv beside the repository) is absent");
        Skip.IfNot(File.Exists(Tshark), "tshark is not installed at /usr/bin/tshark");
        string path = Path.Combine(corpus, file);
        Skip.IfNot(File.Exists(path), $"{file} is not in this corpus");

        var info = new ProcessStartInfo(Tshark)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = errors.Result;
        var expected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseEpoch).ToList();

        using var reader = CaptureFileReader.Open(path);
        var counter = new FrameCounter();
        reader.ReadAll(ref counter);

        Assert.Null(reader.Error);
        Assert.Equal(expected, counter.Timestamps);
    }

    /// <summary>"seconds.fraction" (up to 9 digits) to nanoseconds, exactly.</summary>
    private static long ParseEpoch(string text)
    {
        string[] parts = text.Trim().Split('.');
        long seconds = long.Parse(parts[0], CultureInfo.InvariantCulture);
        long nanoseconds = parts.Length > 1 ? long.Parse(parts[1].PadRight(9, '0')[..9], CultureInfo.InvariantCulture) : 0;
        return (seconds * 1_000_000_000L) + (text.StartsWith('-') ? -nanoseconds : nanoseconds);
    }

    private struct DecodingCounter : ICaptureFrameHandler
    {
        public long Dns;

        public void OnFrame(in CapturedFrame frame)
        {
            if (PacketDecoder.Decode(frame.LinkType, frame.Data, DnsPortSet.Default, out _) == PacketDecodeStatus.Ok)
            {
                Dns++;
            }
        }
    }
}
