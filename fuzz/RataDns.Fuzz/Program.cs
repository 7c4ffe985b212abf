using System.Buffers.Binary;
using System.Text;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using SharpFuzz;

namespace RataDns.Fuzz;

/// <summary>
/// Fuzz targets, one per argument. <c>RataDns.Fuzz TARGET</c> runs under afl-fuzz (SharpFuzz out-of-process mode);
/// <c>RataDns.Fuzz TARGET --replay DIR</c> runs every file of DIR once and exits non-zero if any target failed;
/// <c>RataDns.Fuzz state --make-seeds DIR</c> writes the <c>state</c> target's seeds (see <see cref="StateTarget.MakeSeeds"/>).
/// A target fails by throwing: either an exception escaping the code under test, or <see cref="FuzzAssertionException"/>.
/// </summary>
internal static class Program
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["dns"] = FuzzTargets.Dns,
        ["frame"] = FuzzTargets.Frame,
        ["pcap"] = FuzzTargets.Pcap,
        ["reassembly"] = FuzzTargets.Reassembly,
        ["config"] = FuzzTargets.Config,
        ["dnstap"] = FuzzTargets.Dnstap,
        ["state"] = StateTarget.Run,
    };

    private static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: RataDns.Fuzz {{{string.Join('|', Targets.Keys)}}} [--replay DIR] | state --make-seeds DIR");
            return 2;
        }

        if (args.Length == 3 && args[1] == "--replay")
        {
            FuzzTargets.Verbose = Environment.GetEnvironmentVariable("RATADNS_FUZZ_VERBOSE") == "1";
            return Replay(target, args[2]);
        }

        if (args.Length == 3 && args[1] == "--make-seeds" && args[0] == "state")
        {
            return StateTarget.MakeSeeds(args[2]);
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    }

    private static int Replay(Action<byte[]> target, string directory)
    {
        int failures = 0;
        int count = 0;
        foreach (string path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            count++;
            try
            {
                target(File.ReadAllBytes(path));
            }
#pragma warning disable CA1031 // A replay reports every failing input, whatever it throws.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures++;
                Console.Error.WriteLine($"FAIL {path}: {e}");
            }
        }

        Console.WriteLine($"{count} inputs, {failures} failures");
        return failures == 0 ? 0 : 1;
    }
}

/// <summary>An invariant of a target did not hold for an input.</summary>
internal sealed class FuzzAssertionException : Exception
{
    public FuzzAssertionException(string message)
        : base(message)
    {
    }
}

/// <summary>The target bodies.</summary>
internal static class FuzzTargets
{
    /// <summary>Separates frames in a <c>reassembly</c> input.</summary>
    internal static ReadOnlySpan<byte> FrameMarker => "RDNS"u8;

    /// <summary>Link types a <c>frame</c>/<c>reassembly</c> input selects with its first byte (modulo the count).</summary>
    private static readonly LinkType[] LinkTypes =
    [
        LinkType.Ethernet, LinkType.Raw, LinkType.Ipv4, LinkType.Ipv6, LinkType.LinuxSll, LinkType.LinuxSll2,
        LinkType.Null, LinkType.Loop, (LinkType)12, (LinkType)14, (LinkType)147, LinkType.Ppp, LinkType.PppHdlc,
        LinkType.CiscoHdlc, LinkType.Ieee80211, LinkType.Radiotap, LinkType.User2, LinkType.Ppi, LinkType.Nflog, LinkType.Pktap,
    ];

    private static readonly byte[] NameBuffer = new byte[DnsName.MaxPresentationLength];
    private static readonly byte[] RdataBuffer = new byte[DnsPresentation.MaxRdataLength];
    private static readonly DnsPortSet Ports = DnsPortSet.Default;

    /// <summary>Set by <c>--replay</c> with <c>RATADNS_FUZZ_VERBOSE=1</c>: print what each input reached (to check seeds).</summary>
    internal static bool Verbose { get; set; }

    // ---- dns -------------------------------------------------------------------------------------------------

    public static void Dns(byte[] input)
    {
        ulong first = DnsPass(input);
        if (Verbose)
        {
            var reader = new DnsMessageReader(input);
            Console.WriteLine($"  dns: {reader.ReadToEnd()}");
        }

        ulong second = DnsPass(input);
        Check(first == second, $"two reads of the same message differ ({first:x16} vs {second:x16})");

        var reference = ReferenceDns.Read(input);
        var status = AgreeWithReference(input, reference);
        if (status == DnsParseStatus.Ok && !reference.HasOpaqueNames)
        {
            RoundTrip(reference);
        }
    }

    /// <summary>The fast reader and <see cref="ReferenceDns"/> see the same items, names, RDATA verdicts and faults.</summary>
    private static DnsParseStatus AgreeWithReference(byte[] input, ReferenceDns.Message expected)
    {
        var reader = new DnsMessageReader(input);
        if (expected.ShortHeader)
        {
            Check(reader.HeaderBytes == input.Length, $"a {input.Length}-byte message read {reader.HeaderBytes} header bytes");
        }
        else
        {
            var h = reader.Header;
            Check(h.Id == expected.Id && h.Flags == expected.Flags && h.QuestionCount == expected.Counts[0] && h.AnswerCount == expected.Counts[1]
                && h.AuthorityCount == expected.Counts[2] && h.AdditionalCount == expected.Counts[3], "header fields differ from the reference");
        }

        int index = 0;
        DnsParseStatus? firstBadRdata = null;
        int firstBadAt = -1;
        var firstBadSection = DnsSection.End;
        while (reader.TryReadQuestion(out var question))
        {
            Check(index < expected.Items.Count, $"question {index} read, the reference read {expected.Items.Count} items");
            var item = expected.Items[index++];
            Check(item.Section == DnsSection.Question, $"item {index - 1}: fast reader has a question, reference a {item.Section} item");
            SameName(question.Name, item.Owner, item.Offset, index - 1);
            Check(question.Type == item.Type && question.Class == item.Class, $"item {index - 1}: type/class differ");
        }

        while (reader.TryReadRecord(out var record))
        {
            Check(index < expected.Items.Count, $"record {index} read, the reference read {expected.Items.Count} items");
            var item = expected.Items[index++];
            Check(record.Section == item.Section, $"item {index - 1}: section {record.Section}, reference {item.Section}");
            SameName(record.Name, item.Owner, item.Offset, index - 1);
            Check(record.Type == item.Type && record.Class == item.Class && record.Ttl == item.Ttl, $"item {index - 1}: type/class/TTL differ");
            Check(record.RdataOffset == item.RdataOffset && record.RdataLength == item.RdataLength,
                $"item {index - 1}: RDATA at {record.RdataOffset}+{record.RdataLength}, reference {item.RdataOffset}+{item.RdataLength}");
            Check(item.RdataStatus is null || item.RdataStatus == record.RdataStatus,
                $"item {index - 1}: type {record.Type} RDATA {record.RdataStatus}, reference {item.RdataStatus}");
            if (record.RdataStatus != DnsParseStatus.Ok && firstBadRdata is null)
            {
                (firstBadRdata, firstBadAt, firstBadSection) = (record.RdataStatus, item.Offset, item.Section);
            }
        }

        Check(index == expected.Items.Count, $"fast reader read {index} items, the reference {expected.Items.Count}");

        // The reference judges the RDATA of a few types only; for the others the fast reader's verdict stands in.
        var (status, section, offset) = expected.Stopped && expected.Status != DnsParseStatus.BadRdata
            ? (expected.Status, expected.FaultSection, expected.FaultOffset)
            : firstBadRdata is { } bad ? (bad, firstBadSection, firstBadAt)
            : expected.Stopped ? (expected.Status, expected.FaultSection, expected.FaultOffset)
            : (DnsParseStatus.Ok, DnsSection.End, -1);
        Check(reader.Status == status && reader.FaultSection == section && reader.FaultOffset == offset,
            $"fast reader ended {reader.Status} in {reader.FaultSection} at {reader.FaultOffset}, reference {status} in {section} at {offset}");
        Check(reader.Position == expected.Position, $"position {reader.Position}, reference {expected.Position}");
        return reader.Status;
    }

    private static void SameName(DnsName name, ReferenceDns.Name expected, int offset, int item)
    {
        Check(name.Offset == offset && name.EncodedLength == expected.EncodedLength && name.Length == expected.WireLength
            && name.LabelCount == expected.Labels.Count,
            $"item {item}: name at {name.Offset}+{name.EncodedLength} ({name.Length} bytes, {name.LabelCount} labels), reference at {offset}+{expected.EncodedLength} ({expected.WireLength} bytes, {expected.Labels.Count} labels)");
        var labels = name.EnumerateLabels();
        int i = 0;
        while (labels.MoveNext())
        {
            Check(i < expected.Labels.Count && labels.Current.SequenceEqual(expected.Labels[i]), $"item {item}: label {i} differs");
            i++;
        }

        Check(i == expected.Labels.Count, $"item {item}: {i} labels enumerated, reference {expected.Labels.Count}");
        Check(name.TryFormat(NameBuffer, out int written), $"item {item}: name did not fit the buffer");
        string text = Encoding.ASCII.GetString(NameBuffer, 0, written);
        Check(text == expected.Text, $"item {item}: name written as \"{text}\", reference \"{expected.Text}\"");
    }

    /// <summary>
    /// A message read without fault, written back out with its names uncompressed, reads back the same: same items,
    /// names and RDATA, no fault, no trailing bytes; and writing it again gives the same bytes.
    /// </summary>
    private static void RoundTrip(ReferenceDns.Message original)
    {
        byte[] encoded = ReferenceDns.Encode(original);
        var again = ReferenceDns.Read(encoded);
        Check(again.Status == DnsParseStatus.Ok && !again.Stopped && again.Position == encoded.Length,
            $"re-encoded message reads back {again.Status} at {again.Position} of {encoded.Length}");
        Check(again.Items.Count == original.Items.Count, $"re-encoded message has {again.Items.Count} items, the original {original.Items.Count}");
        for (int i = 0; i < again.Items.Count; i++)
        {
            var (a, b) = (original.Items[i], again.Items[i]);
            Check(a.Section == b.Section && a.Owner.SameLabels(b.Owner) && a.Type == b.Type && a.Class == b.Class && a.Ttl == b.Ttl
                && (a.Rdata is null ? b.Rdata is null : b.Rdata is not null && a.Rdata.AsSpan().SequenceEqual(b.Rdata)),
                $"item {i} changed in the round trip");
        }

        Check(ReferenceDns.Encode(again).AsSpan().SequenceEqual(encoded), "encoding the re-read message gives other bytes");
        _ = AgreeWithReference(encoded, again);
        var reader = new DnsMessageReader(encoded);
        Check(reader.ReadToEnd() == DnsParseStatus.Ok && reader.TrailingBytes == 0, $"fast reader on the re-encoded message: {reader.Status}");
    }

    /// <summary>Reads the whole message, formatting everything, and returns a digest of all that was seen.</summary>
    private static ulong DnsPass(ReadOnlySpan<byte> input)
    {
        var digest = new Fnv64();
        var reader = new DnsMessageReader(input);
        Check(reader.HeaderBytes is >= 0 and <= DnsHeader.Size, $"HeaderBytes {reader.HeaderBytes}");
        digest.Add(reader.Header.Id);
        digest.Add(reader.Header.Flags);
        int questions = 0;
        while (reader.TryReadQuestion(out var question))
        {
            questions++;
            AddName(ref digest, question.Name, input.Length);
            digest.Add(question.Type);
            digest.Add(question.Class);
        }

        Check(questions <= reader.Header.QuestionCount, $"{questions} questions read, header says {reader.Header.QuestionCount}");
        int records = 0;
        while (reader.TryReadRecord(out var record))
        {
            records++;
            CheckDefined(record.Section);
            CheckDefined(record.RdataStatus);
            Check(record.RdataOffset >= 0 && record.RdataLength >= 0 && record.RdataOffset + record.RdataLength <= input.Length,
                $"RDATA {record.RdataOffset}+{record.RdataLength} outside a {input.Length}-byte message");
            AddName(ref digest, record.Name, input.Length);
            digest.Add(record.Type);
            digest.Add(record.Class);
            digest.Add(record.Ttl);
            Check(DnsPresentation.TryFormatRdata(in record, RdataBuffer, out int written),
                $"RDATA of type {record.Type} ({record.RdataLength} bytes) did not fit {RdataBuffer.Length} bytes");
            Check(written is >= 0 and <= DnsPresentation.MaxRdataLength, $"RDATA bytesWritten {written}");
            digest.Add(RdataBuffer.AsSpan(0, written));
            digest.Add((int)record.RdataStatus);
        }

        int total = reader.Header.QuestionCount + reader.Header.AnswerCount + reader.Header.AuthorityCount + reader.Header.AdditionalCount;
        Check(questions + records <= total, $"{questions + records} items read, header counts {total}");
        CheckDefined(reader.Status);
        CheckDefined(reader.FaultSection);
        CheckDefined(reader.CurrentSection);
        Check(reader.Status == DnsParseStatus.Ok ? reader.FaultOffset == -1 : reader.FaultOffset >= 0 && reader.FaultOffset <= input.Length,
            $"status {reader.Status} with fault offset {reader.FaultOffset}");
        Check(reader.Position >= 0 && reader.Position <= input.Length, $"position {reader.Position} of {input.Length}");
        Check(reader.TrailingBytes >= 0 && reader.TrailingBytes <= input.Length, $"trailing {reader.TrailingBytes}");
        Check(reader.ReadToEnd() == reader.Status, "ReadToEnd after the end changed the status");
        digest.Add((int)reader.Status);
        digest.Add((int)reader.FaultSection);
        digest.Add(reader.FaultOffset);
        digest.Add(reader.Position);
        digest.Add(reader.TrailingBytes);
        return digest.Value;
    }

    private static void AddName(ref Fnv64 digest, DnsName name, int messageLength)
    {
        Check(name.Length is >= 1 and <= DnsName.MaxWireLength, $"name wire length {name.Length}");
        Check(name.EncodedLength >= 1 && name.Offset >= 0 && name.Offset + name.EncodedLength <= messageLength,
            $"name at {name.Offset}+{name.EncodedLength} outside a {messageLength}-byte message");
        Check(name.TryFormat(NameBuffer, out int written), $"a {name.Length}-byte name did not fit {NameBuffer.Length} bytes");
        Check(written is >= 1 and <= DnsName.MaxPresentationLength, $"name bytesWritten {written}");
        digest.Add(NameBuffer.AsSpan(0, written));
        digest.Add(name.LabelCount);
    }

    // ---- dnstap ----------------------------------------------------------------------------------------------

    /// <summary>
    /// A Frame Streams stream of dnstap payloads: every frame read is decoded, and its DNS message read to its end;
    /// then turned into the packet it stands for (as the dnstap input does), which must decode as DNS with that message.
    /// </summary>
    public static void Dnstap(byte[] input)
    {
        var reader = new RataDns.Capture.Dnstap.FrameStreamReader(new MemoryStream(input), new RataDns.Capture.Dnstap.FrameStreamOptions { MaxFrameBytes = 65536 });
        var packets = new RataDns.Capture.Dnstap.DnstapPacketSource();
        int frames = 0;
        while ((reader.TryReadFrame(out var frame, out bool control) || control) && frames < 10_000)
        {
            if (control)
            {
                continue;
            }

            frames++;
            Check(frame.Length <= input.Length, $"a {frame.Length}-byte frame from a {input.Length}-byte stream");
            var status = RataDns.Capture.Dnstap.DnstapDecoder.Decode(frame.Span, out var message);
            Check(Enum.IsDefined(status), $"undefined status {status}");
            if (Verbose)
            {
                Console.WriteLine($"  dnstap: {status} {message.Mnemonic} {message.Protocol} {message.DnsMessage.Length}b");
            }

            if (status == RataDns.Capture.Dnstap.DnstapDecodeStatus.Ok)
            {
                Check(message.DnsMessage.Length <= frame.Length && message.QueryAddress.Length <= frame.Length, "a field longer than its frame");
                var dns = new DnsMessageReader(message.DnsMessage);
                CheckDefined(dns.ReadToEnd());
            }

            if (packets.TryConvert(frame.Span, 0, out var built))
            {
                var decoded = PacketDecoder.Decode(in built, Ports, out var packet);
                Check(decoded == PacketDecodeStatus.Ok, $"a dnstap frame decodes as {decoded}");
                Check(packet.Payload.EndsWith(message.DnsMessage), "the frame's payload is not the dnstap message's DNS message");
            }
        }

        Check(reader.Frames == frames || frames == 10_000, $"{reader.Frames} frames counted, {frames} read");
    }

    // ---- frame -----------------------------------------------------------------------------------------------

    public static void Frame(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var linkType = LinkTypes[input[0] % LinkTypes.Length];
        var frame = input.AsSpan(1);
        var status = PacketDecoder.Decode(linkType, frame, Ports, out var packet);
        if (Verbose)
        {
            Console.WriteLine($"  frame: {linkType} {status}");
        }

        CheckPacket(status, in packet, frame.Length);

        // The same frame as if the snap length had cut it: more leniency, never an exception.
        var cut = PacketDecoder.Decode(linkType, frame, (uint)frame.Length + 100, Ports, out var snapped);
        CheckPacket(cut, in snapped, frame.Length);
    }

    private static void CheckPacket(PacketDecodeStatus status, scoped in DecodedPacket packet, int frameLength)
    {
        CheckDefined(status);
        Check(packet.Payload.Length <= frameLength, $"payload {packet.Payload.Length} longer than the {frameLength}-byte frame");
        Check(packet.IpPayload.Length <= frameLength, $"IP payload {packet.IpPayload.Length} longer than the frame");
        if (status == PacketDecodeStatus.Ok)
        {
            Check(packet.IpVersion is 4 or 6, $"Ok with IP version {packet.IpVersion}");
            Check(packet.SourceAddress.Length == (packet.IpVersion == 4 ? 4 : 16), "address length does not match the version");
            Check(Ports.Contains(packet.SourcePort) || Ports.Contains(packet.DestinationPort), "Ok without a DNS port");
        }
    }

    // ---- pcap ------------------------------------------------------------------------------------------------

    public static void Pcap(byte[] input) => ReadCapture(input, pipeline: null);

    /// <summary>Reads every record of a pcap or pcapng image; decodes each frame, or feeds it to a pipeline.</summary>
    private static void ReadCapture(ReadOnlySpan<byte> input, DnsCapturePipeline? pipeline)
    {
        var parser = new CaptureRecordParser();
        var header = parser.ReadFileHeader(input, out int consumed, out _);
        CheckDefined(header);
        if (header != CaptureParseStatus.Skipped)
        {
            return;
        }

        Check(consumed is >= 0 and <= CaptureRecordParser.PcapFileHeaderSize, $"file header consumed {consumed}");
        int offset = consumed;
        var handler = new ParsingHandler();
        long frames = 0;
        while (true)
        {
            var status = parser.ReadRecord(input[offset..], offset, out consumed, out int needed, out var frame);
            CheckDefined(status);
            if (status is CaptureParseStatus.NeedMoreData or CaptureParseStatus.Corrupt)
            {
                if (Verbose)
                {
                    Console.WriteLine($"  capture: {frames} frames, ended {status} {parser.LastError}");
                }

                Check(status != CaptureParseStatus.NeedMoreData || needed > input.Length - offset,
                    $"NeedMoreData asks for {needed} bytes with {input.Length - offset} offered");
                Check(status != CaptureParseStatus.Corrupt || parser.LastError is not null, "Corrupt without LastError");
                return;
            }

            Check(consumed > 0 && consumed <= input.Length - offset, $"{status} consumed {consumed} at {offset} of {input.Length}");
            offset += consumed;
            if (status == CaptureParseStatus.Frame)
            {
                frames++;
                Check(parser.FramesRead == frames, $"FramesRead {parser.FramesRead}, frames seen {frames}");
                if (pipeline is null)
                {
                    var decoded = PacketDecoder.Decode(in frame, Ports, out var packet);
                    CheckPacket(decoded, in packet, frame.Data.Length);
                }
                else
                {
                    pipeline.OnFrame(in frame, ref handler);
                }
            }
        }
    }

    /// <summary>Parses every DNS message the pipeline delivers, as the monitor does.</summary>
    private struct ParsingHandler : IDnsMessageHandler
    {
        public readonly DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            var reader = new DnsMessageReader(message);
            return reader.ReadToEnd();
        }
    }

    // ---- reassembly ------------------------------------------------------------------------------------------

    /// <summary>
    /// Input: one byte selecting the link type, then frames separated by <see cref="FrameMarker"/>. They become an
    /// in-memory pcap (1 ms apart) fed through <see cref="DnsCapturePipeline"/>: IP fragments, TCP streams, UDP.
    /// </summary>
    public static void Reassembly(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var linkType = LinkTypes[input[0] % LinkTypes.Length];
        using var pcap = new MemoryStream();
        Span<byte> header = stackalloc byte[CaptureRecordParser.PcapFileHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)linkType);
        pcap.Write(header);
        var rest = input.AsSpan(1);
        Span<byte> record = stackalloc byte[CaptureRecordParser.PcapRecordHeaderSize];
        for (uint i = 0; ; i++)
        {
            int end = rest.IndexOf(FrameMarker);
            var frame = end < 0 ? rest : rest[..end];
            BinaryPrimitives.WriteUInt32LittleEndian(record, 1_000_000 + (i / 1000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (i % 1000) * 1000);
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frame.Length);
            pcap.Write(record);
            pcap.Write(frame);
            if (end < 0)
            {
                break;
            }

            rest = rest[(end + FrameMarker.Length)..];
        }

        var pipeline = new DnsCapturePipeline(Ports);
        ReadCapture(pcap.GetBuffer().AsSpan(0, (int)pcap.Length), pipeline);
        var statistics = pipeline.Statistics;
        if (Verbose)
        {
            Console.WriteLine($"  pipeline: {statistics.Frames} frames, {statistics.DnsMessages} DNS messages, {statistics.DatagramsReassembled} reassembled");
        }

        Check(statistics.DnsMessages >= 0 && statistics.Frames >= 0, "negative counters");
        _ = statistics.ToText();
    }

    // ---- config ----------------------------------------------------------------------------------------------

    public static void Config(byte[] input)
    {
        string json = Encoding.UTF8.GetString(input);
        try
        {
            _ = MonitorConfigurationLoader.Parse(json, "fuzz.json", "/nonexistent-fuzz-base");
        }
        catch (ConfigurationException e)
        {
            if (Verbose)
            {
                Console.WriteLine($"  config: {e.Message}");
            }

            Check(e.Message.Length > 0, "ConfigurationException without a message");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzAssertionException(message);
        }
    }

    private static void CheckDefined<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        Check(Enum.IsDefined(value), $"{typeof(TEnum).Name} has the unknown value {value}");

    /// <summary>FNV-1a, 64-bit: a cheap digest to compare two passes over the same input.</summary>
    private struct Fnv64
    {
        private ulong _hash;
        private bool _started;

        public readonly ulong Value => _started ? _hash : 14695981039346656037UL;

        public void Add(ReadOnlySpan<byte> bytes)
        {
            if (!_started)
            {
                _hash = 14695981039346656037UL;
                _started = true;
            }

            foreach (byte b in bytes)
            {
                _hash = (_hash ^ b) * 1099511628211UL;
            }
        }

        public void Add(long value)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            Add(bytes);
        }
    }
}
