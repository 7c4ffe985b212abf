using System.Buffers.Binary;
using System.Net;
using System.Text;
using RataDns.Capture.Dnstap;
using RataDns.DnsWire;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;

namespace RataDns.Tests.Capture.Dnstap;

/// <summary>
/// Frame Streams files of dnstap (issue 17, first part): a real Unbound logs its client queries and responses to
/// fstrm_capture (the reference Frame Streams receiver) while kdig sends a known mix over UDP and TCP; the file is
/// read by <see cref="FrameStreamReader"/> and <see cref="DnstapDecoder"/> and must say, message for message, what the
/// reference decoder dnstap-ldns prints. Hostile streams end with a reason, never an exception.
/// </summary>
public sealed class DnstapFileTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [SkippableFact]
    public void A_file_unbound_wrote_through_fstrm_capture_reads_as_dnstap_ldns_prints_it()
    {
        foreach (string tool in new[] { "/usr/sbin/unbound", "/usr/bin/fstrm_capture", "/usr/bin/dnstap-ldns", "/usr/bin/kdig" })
        {
            Skip.IfNot(File.Exists(tool), $"{tool} is missing (scripts/setup.sh installs unbound, fstrm-bin, dnstap-ldns, knot-dnsutils)");
        }

        string file = CaptureFromUnbound(_directory.Path);

        // The reference: one line per message, "DATE TIME CQ 127.0.0.1 UDP 24b "a.test." IN A".
        Assert.Equal(0, ExternalTool.Run("/usr/bin/dnstap-ldns", ["-r", file, "-q"], out string reference, out string errors));
        var expected = reference.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ').Skip(2))).ToList();
        Assert.True(expected.Count >= 12, $"dnstap-ldns printed {expected.Count} messages: {reference} {errors}");

        var ours = new List<string>();
        using (var stream = File.OpenRead(file))
        {
            var reader = new FrameStreamReader(stream);
            while (reader.TryReadFrame(out var frame, out bool control) || control)
            {
                if (control)
                {
                    continue;
                }

                Assert.Equal(DnstapDecodeStatus.Ok, DnstapDecoder.Decode(frame.Span, out var message));
                Assert.Equal("vm-ratadns-test", Encoding.ASCII.GetString(message.Identity));
                ours.Add(Describe(message));
            }

            Assert.Null(reader.Error);
            Assert.True(reader.Stopped, "the file ends with STOP");
            Assert.Equal([FrameStreamReader.DnstapContentType], reader.ContentTypes);
        }

        Assert.Equal(expected, ours);

        // serialize reads the same file as packets: one message per dnstap message, the same questions in order.
        Assert.Equal(0, RataDnsProcess.RunToEnd(["serialize", "-r", file, "--ndjson", "-q"], out string ndjson, out string serializeErrors));
        var names = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("queries")[0].GetProperty("qname").GetString()!.TrimEnd('.'))
            .ToList();
        Assert.True(names.Count == expected.Count, serializeErrors);
        Assert.Equal(expected.Select(l => l.Split('"')[1].TrimEnd('.')), names);

        // The monitor's counts over the whole file are dnstap-ldns's: queries by QTYPE, messages by transport, and
        // (from its YAML, which prints each response's header) responses by RCODE.
        Assert.Equal(0, RataDnsProcess.RunToEnd(["monitor", "-r", file, "-q", "--window", "1000000"], out string results, out string monitorErrors));
        var data = results.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() is "QtypeCounter" or "TransportCounter" or "RcodeCounter")
            .ToDictionary(e => e.GetProperty("type").GetString()!, e => e.GetProperty("data").EnumerateObject().Where(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.Number).ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        var queries = expected.Where(l => l.StartsWith("CQ ", StringComparison.Ordinal)).ToList();
        Assert.Equal(queries.GroupBy(l => l.Split(' ')[^1]).ToDictionary(g => g.Key, g => (long)g.Count()), data["QtypeCounter"]);
        Assert.Equal(expected.Count(l => l.Split(' ')[2] == "UDP"), data["TransportCounter"]["udp4"]);
        Assert.True(expected.Count(l => l.Split(' ')[2] == "TCP") == data["TransportCounter"]["tcp4"], monitorErrors);
        Assert.Equal(0, ExternalTool.Run("/usr/bin/dnstap-ldns", ["-r", file, "-y"], out string yaml, out _));
        var rcodes = yaml.Split("\n---", StringSplitOptions.RemoveEmptyEntries)
            .Where(b => b.Contains("type: CLIENT_RESPONSE", StringComparison.Ordinal))
            .Select(b => System.Text.RegularExpressions.Regex.Match(b, @"rcode: (\w+)").Groups[1].Value)
            .GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(rcodes, data["RcodeCounter"]);
    }

    [Fact]
    public void Hostile_streams_end_with_a_reason_and_unknown_control_frames_are_skipped()
    {
        byte[] message = Dnstap(type: 5, protocol: 1, query: [0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
        byte[] start = FrameStreamReader.ControlFrame(FrameStreamReader.ControlStart, FrameStreamReader.DnstapContentType);
        byte[] unknown = FrameStreamReader.ControlFrame(77, null);
        byte[] stop = FrameStreamReader.ControlFrame(FrameStreamReader.ControlStop, null);

        // START, an unknown control type, two frames, STOP: both frames, the unknown one counted.
        var reader = Read(Concat(start, unknown, Data(message), Data(message), stop), out int frames);
        Assert.Equal(2, frames);
        Assert.Equal(1, reader.UnknownControlFrames);
        Assert.True(reader.Stopped);
        Assert.Null(reader.Error);

        // A data frame longer than allowed, a control frame longer than allowed, another content type, a cut.
        Assert.Contains("more than the", Read(Concat(start, [0x7F, 0xFF, 0xFF, 0xFF]), out _).Error, StringComparison.Ordinal);
        Assert.Contains("control frame of", Read([0, 0, 0, 0, 0x10, 0, 0, 0], out _).Error, StringComparison.Ordinal);
        Assert.Contains("not protobuf:dnstap.Dnstap", Read(FrameStreamReader.ControlFrame(FrameStreamReader.ControlStart, "protobuf:other"), out _).Error, StringComparison.Ordinal);
        var cut = Read(Concat(start, Data(message))[..^3], out frames);
        Assert.Equal(0, frames);
        Assert.Equal("the stream ends inside a frame", cut.Error);

        // Payloads that are not dnstap: truncated varints and lengths, groups, no message.
        Assert.Equal(DnstapDecodeStatus.Truncated, DnstapDecoder.Decode(message.AsSpan(0, message.Length - 4), out _));
        Assert.Equal(DnstapDecodeStatus.Truncated, DnstapDecoder.Decode([0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], out _));
        Assert.Equal(DnstapDecodeStatus.Malformed, DnstapDecoder.Decode([0x0B, 0x0C], out _));
        Assert.Equal(DnstapDecodeStatus.NotMessage, DnstapDecoder.Decode([0x78, 0x01], out _));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(17);
        byte[] message = Dnstap(type: 6, protocol: 2, query: [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] bytes = message.ToArray();
            for (int flips = random.Next(1, 6); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            DnstapDecoder.Decode(bytes.AsSpan(0, random.Next(bytes.Length + 1)), out _);
            byte[] stream = new byte[random.Next(64)];
            random.NextBytes(stream);
            Read(stream, out _);
        }
    }

    /// <summary>What dnstap-ldns -q prints after the date and time: mnemonic, address, protocol, size, question.</summary>
    internal static string Describe(DnstapMessage message)
    {
        // For client messages dnstap-ldns names the client (query address); for the others the server.
        bool client = message.Type is DnstapMessageType.ClientQuery or DnstapMessageType.ClientResponse or DnstapMessageType.AuthQuery or DnstapMessageType.AuthResponse;
        var address = new IPAddress(client ? message.QueryAddress : message.ResponseAddress);
        var dns = message.DnsMessage;
        var reader = new DnsMessageReader(dns);
        Assert.True(reader.TryReadQuestion(out var question), "the DNS message has a question");
        string type = question.Type switch { 1 => "A", 28 => "AAAA", 16 => "TXT", 15 => "MX", _ => $"TYPE{question.Type}" };
        return $"{message.Mnemonic} {address} {message.Protocol.ToString().ToUpperInvariant()} {dns.Length}b \"{question.Name.ToString()}\" IN {type}";
    }

    private static FrameStreamReader Read(byte[] stream, out int frames)
    {
        var reader = new FrameStreamReader(new MemoryStream(stream));
        frames = 0;
        while (reader.TryReadFrame(out _, out bool control) || control)
        {
            frames += control ? 0 : 1;
        }

        return reader;
    }

    private static byte[] Data(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>A dnstap payload written field by field from dnstap.proto (a test's own protobuf writer).</summary>
    private static byte[] Dnstap(int type, int protocol, byte[] query)
    {
        static byte[] Varint(ulong v)
        {
            var b = new List<byte>();
            while (v >= 0x80)
            {
                b.Add((byte)(v | 0x80));
                v >>= 7;
            }

            b.Add((byte)v);
            return [.. b];
        }

        static byte[] Field(int number, int wire, byte[] value) =>
            wire == 2 ? [.. Varint((ulong)((number << 3) | 2)), .. Varint((ulong)value.Length), .. value] : [.. Varint((ulong)((number << 3) | wire)), .. value];

        byte[] inner =
        [
            .. Field(1, 0, Varint((ulong)type)), .. Field(2, 0, Varint(1)), .. Field(3, 0, Varint((ulong)protocol)),
            .. Field(4, 2, [127, 0, 0, 1]), .. Field(6, 0, Varint(40000)), .. Field(8, 0, Varint(1_700_000_000)),
            .. Field(9, 5, [0x40, 0x42, 0x0F, 0x00]), .. Field(10, 2, query),
        ];
        return [.. Field(1, 2, "ns1"u8.ToArray()), .. Field(14, 2, inner), .. Field(15, 0, Varint(1))];
    }

    /// <summary>Unbound (local data only, on a free loopback port) logging client messages to fstrm_capture; kdig sends the mix.</summary>
    internal static string CaptureFromUnbound(string directory)
    {
        int port = RedisServer.FreePort();
        string socket = Path.Combine(directory, "dnstap.sock");
        string file = Path.Combine(directory, "capture.fstrm");
        var capture = ProcessCleanup.StartLogged("/usr/bin/fstrm_capture", ["-t", FrameStreamReader.DnstapContentType, "-u", socket, "-w", file], null);
        try
        {
            Wait(() => File.Exists(socket), "fstrm_capture did not create its socket");
            using (var unbound = UnboundServer.Start(directory, port, socket, tlsPort: null))
            {
                // Unbound hands messages to its dnstap thread in batches and drops what is queued when it stops;
                // fstrm_capture writes through a buffer. So the mix is sent until the file has grown (a hang guard
                // bounds the rounds), and the comparison covers whatever the file holds.
                for (int round = 0; new FileInfo(file).Length < 4096; round++)
                {
                    Assert.True(round < 200, $"fstrm_capture wrote nothing after {round} rounds of queries: {unbound.Log}");
                    foreach (var (name, type, tcp) in new[] { ("a.test", "A", false), ("b.test", "AAAA", true), ("nx.test", "A", false), ("b.test", "AAAA", false), ("a.test", "TXT", true) })
                    {
                        Assert.Equal(0, ExternalTool.Run("/usr/bin/kdig", ["@127.0.0.1", "-p", $"{port}", name, type, tcp ? "+tcp" : "+notcp"], out _, out _));
                    }
                }
            }

            capture.Terminate(TimeSpan.FromSeconds(30)); // fstrm_capture writes STOP and closes the file
        }
        finally
        {
            capture.KillAndDispose();
        }

        return file;
    }

    private static void Wait(Func<bool> condition, string what) => Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(60)), what);
}
