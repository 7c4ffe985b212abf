using System.Buffers.Binary;
using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Capture;
using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.Counters;
using RataDns.Engine;
using RataDns.Reducers.Original;
using RataDns.Tests.Capture;
using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers.Engine;

/// <summary>
/// The multi-worker engine on a crafted capture whose content the test knows message by message: many clients over
/// UDP, DNS over TCP with messages split across segments, and fragmented responses. The expected windows (packets,
/// messages, rcode split, query names, query rate) are computed here from the list of generated frames, independently
/// of the reducers; 1, 2 and 4 workers must all give exactly those results, byte for byte the same.
/// </summary>
public class MonitorEngineTests
{
    private const long Millisecond = 1_000_000;
    private static readonly long Start = 1_700_000_000L * 1_000_000_000;

    public static TheoryData<int> WorkerCounts => [1, 2, 4];

    /// <summary>Worker counts fed by the capture thread, and 0: the one worker reads the file itself (ScanFile).</summary>
    public static TheoryData<int> Readers => [1, 2, 4, ScanOnOneWorker];

    private const int ScanOnOneWorker = 0;

    [Theory]
    [MemberData(nameof(Readers))]
    public void Count_windows_are_exact_with_any_number_of_workers(int workers)
    {
        using var capture = CraftedCapture.Make(seed: 7);
        var windows = Run(capture, WindowConfiguration.OfPackets(97), workers);
        var expected = capture.ExpectedCountWindows(97);

        Assert.Equal(expected.Count, windows.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            AssertWindow(expected[i], windows[i], i);
        }

        Assert.All(windows.SkipLast(1), w => Assert.False(w.Summary.Partial));
        Assert.True(windows[^1].Summary.Partial);
        Assert.Equal(capture.Messages.Count, windows.Sum(w => w.Summary.Messages));
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Time_windows_are_aligned_on_packet_time_with_any_number_of_workers(int workers)
    {
        using var capture = CraftedCapture.Make(seed: 11);
        var windows = Run(capture, WindowConfiguration.OfDuration(TimeSpan.FromMilliseconds(100)), workers);
        var expected = capture.ExpectedTimeWindows(100 * Millisecond);

        Assert.Equal(expected.Count, windows.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            AssertWindow(expected[i], windows[i], i);
            Assert.Equal(0, windows[i].Summary.StartNanoseconds % (100 * Millisecond));
            Assert.Equal(100 * Millisecond, windows[i].Summary.EndNanoseconds - windows[i].Summary.StartNanoseconds);
        }
    }

    [Fact]
    public void One_two_and_four_workers_write_identical_results()
    {
        using var capture = CraftedCapture.Make(seed: 3);
        var one = Run(capture, WindowConfiguration.OfPackets(250), 1);
        foreach (int workers in new[] { 2, 4, ScanOnOneWorker })
        {
            var many = Run(capture, WindowConfiguration.OfPackets(250), workers);
            Assert.Equal(one.Select(w => w.Summary), many.Select(w => w.Summary));
            Assert.Equal(one.Select(w => string.Join("\n", w.Data)), many.Select(w => string.Join("\n", w.Data)));
        }
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Every_query_meets_its_response_on_one_worker_even_across_windows_and_fragments(int workers)
    {
        // Every query of the crafted capture is answered within a second (UDP, split TCP, fragmented responses):
        // summed over windows of 97 packets, ResponseLatency must match them all, with nothing left pending.
        using var capture = CraftedCapture.Make(seed: 17);
        int exchanges = capture.Messages.Count(m => !m.Response);
        var sink = new CollectingSink();
        var latency = ReducerRegistry.Create(new ReducerConfiguration { Name = "ResponseLatency" });
        using (var engine = new MonitorEngine([latency], sink, new MonitorEngineOptions { Workers = Math.Max(1, workers), Window = WindowConfiguration.OfPackets(97), PinThreads = false, RingSlots = 64 }))
        {
            Feed(capture.File, engine, scan: workers == ScanOnOneWorker);
        }

        var results = sink.Windows.Select(w => JsonDocument.Parse(w.Data[0]).RootElement).ToList();
        Assert.Equal(exchanges, results.Sum(r => r.GetProperty("matched").GetInt64()));
        Assert.Equal(0, results.Sum(r => r.GetProperty("unsolicited").GetInt64()));
        Assert.Equal(0, results.Sum(r => r.GetProperty("unanswered").GetInt64()));
        Assert.Equal(0, results[^1].GetProperty("pending").GetInt64());
    }

    [Fact]
    public async Task A_live_source_drops_and_counts_frames_when_a_worker_falls_behind_and_never_loses_a_window()
    {
        // The workers are held in their first message until the capture thread has fed half the capture (rings of
        // 4 slots): for that half, most frames find the ring full, however fast or slow this machine is. A live
        // source that waited for room would never get to the half that lets the workers go: the feed runs under
        // a hang guard. The second half runs at whatever pace the workers keep; it may drop or not.
        using var capture = CraftedCapture.Make(seed: 5, tcpConversations: 0, fragmentedResponses: 0);
        var sink = new CollectingSink();
        var options = new MonitorEngineOptions
        {
            Workers = 2, Window = WindowConfiguration.OfPackets(50), Live = true, PinThreads = false, RingSlots = 4, RingBytes = 1 << 16,
        };
        var release = new ManualResetEventSlim(false); // not disposed: a held worker may still wait on it if the test fails
        using (var engine = new MonitorEngine([new HeldReducer(release), new RcodeCounter()], sink, options))
        {
            try
            {
                // Start, the feed and Complete on one thread, the capture thread.
                await Task.Run(() =>
                {
                    engine.Start();
                    using (var reader = CaptureFileReader.Open(capture.File))
                    {
                        var handler = new ReleasingFrameHandler(engine, capture.FrameCount / 2, release);
                        reader.ReadAll(ref handler);
                        Assert.Null(reader.Error);
                    }

                    engine.Complete();
                }).WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                release.Set();
            }

            var statistics = engine.Statistics();
            Assert.True(statistics.RingDropped > 0, "frames fed while the workers were held were not dropped");
            Assert.Equal(statistics.RingDropped, sink.Windows.Sum(w => w.Summary.Drops));
        }

        // Every frame is a DNS packet here: each one was either counted in a window or dropped.
        Assert.Equal(capture.FrameCount, sink.Windows.Sum(w => w.Summary.Packets + w.Summary.Drops));
        Assert.Equal(Enumerable.Range(0, sink.Windows.Count).Select(i => (long)i), sink.Windows.Select(w => w.Summary.Sequence));
        Assert.All(sink.Windows.SkipLast(1), w => Assert.Equal(50, w.Summary.Packets));
        Assert.Equal(sink.Windows.Sum(w => w.Summary.Packets), sink.Windows.Sum(w => w.Summary.Messages));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(ScanOnOneWorker)]
    public void A_failing_sink_stops_the_engine_and_its_error_reaches_the_capture_thread(int workers)
    {
        using var capture = CraftedCapture.Make(seed: 9);
        var sink = new CollectingSink { FailAtWindow = 2 };
        var engine = new MonitorEngine([new RcodeCounter()], sink, new MonitorEngineOptions { Workers = Math.Max(1, workers), Window = WindowConfiguration.OfPackets(10), PinThreads = false });
        var error = Assert.Throws<IOException>(() => Feed(capture.File, engine, scan: workers == ScanOnOneWorker));
        Assert.Equal("disk full", error.Message);
        engine.Dispose(); // returns: every thread has stopped
        Assert.Equal(2, sink.Windows.Count);
    }

    [Fact]
    public void Monitor_command_gives_the_same_file_with_one_and_two_workers()
    {
        using var capture = CraftedCapture.Make(seed: 13);
        var outputs = new List<string>();
        foreach (int workers in new[] { 1, 2 })
        {
            string output = Path.GetTempFileName();
            try
            {
                string config = Path.GetTempFileName();
                File.WriteAllText(config, $$"""
                    {"ServerId": "s", "WindowSize": 200, "Workers": {{workers}}, "InputMethod": "capture_file", "InputSource": "{{capture.File}}",
                     "PreliminarReducers": [
                       {"Name": "QueriesPerSecond", "OutputMethod": "file", "OutputFile": "{{output}}"},
                       {"Name": "TopNQ", "N": 5, "OutputMethod": "file", "OutputFile": "{{output}}"},
                       {"Name": "AlonePackets", "OutputMethod": "file", "OutputFile": "{{output}}"}]}
                    """);
                var configuration = MonitorConfigurationLoader.Load(config);
                File.Delete(config);
                var errors = new StringWriter();
                Assert.Equal(0, MonitorCommand.Run(configuration, null, errors, default, new MonitorRunOptions { PinThreads = false }));
                Assert.Contains($"{workers} worker", errors.ToString(), StringComparison.Ordinal);
                outputs.Add(File.ReadAllText(output));
            }
            finally
            {
                File.Delete(output);
            }
        }

        Assert.Equal(outputs[0], outputs[1]);
        var lines = outputs[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3 * capture.ExpectedCountWindows(200).Count, lines.Length);
        Assert.All(lines, l => Assert.Equal(0, JsonDocument.Parse(l).RootElement.GetProperty("window").GetProperty("drops").GetInt64()));
    }

    [Fact]
    public void A_file_read_twice_by_the_worker_gives_what_the_capture_thread_gives()
    {
        // Between passes TCP streams end and fragments are dropped; windows run on across the passes.
        using var capture = CraftedCapture.Make(seed: 19);
        var results = new List<List<CollectedWindow>>();
        foreach (bool scan in new[] { false, true })
        {
            var sink = new CollectingSink();
            using var engine = new MonitorEngine(ThreeReducers(), sink, new MonitorEngineOptions { Workers = 1, Window = WindowConfiguration.OfPackets(300), PinThreads = false, RingSlots = 64 });
            Feed(capture.File, engine, scan, passes: 2);
            results.Add(sink.Windows);
        }

        Assert.Equal(2 * capture.Messages.Count, results[1].Sum(w => w.Summary.Messages));
        Assert.Equal(results[0].Select(w => w.Summary), results[1].Select(w => w.Summary));
        Assert.Equal(results[0].Select(w => string.Join("\n", w.Data)), results[1].Select(w => string.Join("\n", w.Data)));
    }

    [Fact]
    public void A_worker_reading_the_file_stops_when_cancelled_and_still_completes()
    {
        using var capture = CraftedCapture.Make(seed: 23);
        using var cancel = new CancellationTokenSource();
        var sink = new CollectingSink();
        using var engine = new MonitorEngine(ThreeReducers(), sink, new MonitorEngineOptions { Workers = 1, Window = WindowConfiguration.OfPackets(97), PinThreads = false });

        // Cancelled at the first checkpoint, before the first frame: nothing is read, the run still ends normally.
        Assert.Null(engine.ScanFile(new CaptureFileScan(capture.File, 1, cancel.Token, (frames, position) => cancel.Cancel())));
        Assert.Empty(sink.Windows);
        Assert.Equal(0, engine.Statistics().Frames);
        Assert.Equal(0, engine.FramesRead);
    }

    [Fact]
    public void A_reload_while_the_worker_reads_the_file_takes_effect_at_the_next_window()
    {
        using var capture = CraftedCapture.Make(seed: 29);
        var before = new CollectingSink();
        var after = new CollectingSink();
        long? switchedAt = null;
        using var engine = new MonitorEngine(ThreeReducers(), before, new MonitorEngineOptions { Workers = 1, Window = WindowConfiguration.OfPackets(97), PinThreads = false });
        bool asked = false;
        void AskOnce(long frames, long position)
        {
            if (!asked)
            {
                asked = true; // before the first frame: window 0 is reduced by the old set, all later ones by the new
                engine.ReplaceReducers([new RcodeCounter()], after, sequence => switchedAt = sequence);
            }
        }

        Assert.Null(engine.ScanFile(new CaptureFileScan(capture.File, 1, default, AskOnce)));
        var expected = capture.ExpectedCountWindows(97);
        Assert.Equal(1, switchedAt);
        Assert.Equal(1, engine.ReducerSwaps);
        Assert.Single(before.Windows);
        Assert.Equal(expected.Count - 1, after.Windows.Count);
        AssertWindow(expected[0], before.Windows[0], 0);
        Assert.All(after.Windows, w => Assert.Single(w.Data));
        Assert.Equal(expected.Skip(1).Select(e => (long)e.Packets), after.Windows.Select(w => w.Summary.Packets));
        Assert.Equal(capture.Messages.Count, before.Windows.Concat(after.Windows).Sum(w => w.Summary.Messages));
    }

    [Fact]
    public void Only_an_engine_of_one_worker_reads_a_file_itself()
    {
        using var capture = CraftedCapture.Make(seed: 31);
        using var engine = new MonitorEngine(ThreeReducers(), new CollectingSink(), new MonitorEngineOptions { Workers = 2, PinThreads = false });
        Assert.Throws<InvalidOperationException>(() => engine.ScanFile(new CaptureFileScan(capture.File)));
    }

    private static void AssertWindow(ExpectedWindow expected, CollectedWindow actual, int index)
    {
        Assert.True(expected.Packets == actual.Summary.Packets, $"window {index}: {actual.Summary.Packets} packets, expected {expected.Packets}");
        Assert.True(expected.Messages.Count == actual.Summary.Messages, $"window {index}: {actual.Summary.Messages} messages, expected {expected.Messages.Count}");
        Assert.Equal(index, actual.Summary.Sequence);
        Assert.Equal(0, actual.Summary.Drops);

        // RcodeCounter: responses by rcode.
        var rcodes = JsonDocument.Parse(actual.Data[0]).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        var expectedRcodes = expected.Messages.Where(m => m.Response).GroupBy(m => m.Rcode == 3 ? "NXDOMAIN" : "NOERROR").ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expectedRcodes.OrderBy(p => p.Key), rcodes.Where(p => p.Value > 0).OrderBy(p => p.Key));

        // TopNQ with room for every name: exact query counts by name.
        var names = JsonDocument.Parse(actual.Data[1]).RootElement.EnumerateArray().ToDictionary(e => e[0].GetString()!, e => e[1].GetInt64());
        var expectedNames = expected.Messages.Where(m => !m.Response).GroupBy(m => m.Name.ToLowerInvariant() + ".").ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expectedNames.OrderBy(p => p.Key), names.OrderBy(p => p.Key));

        // QueriesPerSecond: queries over the window's span of packet time.
        double qps = JsonDocument.Parse(actual.Data[2]).RootElement.GetProperty("qps").GetDouble();
        double seconds = (expected.End - expected.Start) / 1e9;
        long queries = expected.Messages.Count(m => !m.Response);
        Assert.Equal(seconds > 0 ? queries / seconds : 0, qps, 6);
        Assert.Equal(expected.Start, actual.Summary.StartNanoseconds);
        Assert.Equal(expected.End, actual.Summary.EndNanoseconds);
    }

    private static List<CollectedWindow> Run(CraftedCapture capture, WindowConfiguration window, int workers)
    {
        var sink = new CollectingSink();
        using var engine = new MonitorEngine(ThreeReducers(), sink, new MonitorEngineOptions { Workers = Math.Max(1, workers), Window = window, PinThreads = false, RingSlots = 64 });
        Feed(capture.File, engine, scan: workers == ScanOnOneWorker);
        return sink.Windows;
    }

    private static Reducer[] ThreeReducers() =>
        [new RcodeCounter(), new TopNReducer(queriesOnly: true, n: 1000, capacity: 1000), new PacketRateReducer(PacketRateReducer.RateKind.QueriesPerSecond)];

    /// <summary>Reads the file through the engine and completes it: by the capture thread, or by the worker itself.</summary>
    private static void Feed(string file, MonitorEngine engine, bool scan = false, int passes = 1)
    {
        if (scan)
        {
            Assert.Null(engine.ScanFile(new CaptureFileScan(file, passes)));
            return;
        }

        engine.Start();
        for (int pass = 0; pass < passes; pass++)
        {
            using var reader = CaptureFileReader.Open(file);
            var handler = new EngineFrameHandler(engine);
            reader.ReadAll(ref handler);
            Assert.Null(reader.Error);
            if (pass + 1 < passes)
            {
                engine.EndOfPass();
            }
        }

        engine.Complete();
    }

    internal sealed record CollectedWindow(WindowSummary Summary, List<string> Data);

    private sealed class CollectingSink : IWindowResultSink
    {
        public List<CollectedWindow> Windows { get; } = [];

        public int FailAtWindow { get; init; } = -1;

        public void OnWindow(in WindowSummary window, IReadOnlyList<Reducer> results)
        {
            if (Windows.Count == FailAtWindow)
            {
                throw new IOException("disk full");
            }

            var window1 = window.ReducerWindow;
            Windows.Add(new CollectedWindow(window, [.. results.Select(r => ReducerJson(r, window1))]));
        }

        public void Complete()
        {
        }

        private static string ReducerJson(Reducer reducer, ReducerWindow window)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer))
            {
                reducer.WriteData(json, in window);
            }

            return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    /// <summary>
    /// Waits in every message until <paramref name="release"/> is set (a worker that cannot keep up, for as long as
    /// the test says, not for a time); counts what it saw.
    /// </summary>
    private sealed class HeldReducer(ManualResetEventSlim release) : Reducer
    {
        private long _seen;

        public override string Type => "Held";

        public override void Observe(in DnsPacketView packet)
        {
            release.Wait();
            _seen++;
        }

        public override void Merge(Reducer other) => _seen += RequireMergeable<HeldReducer>(other)._seen;

        public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window) => writer.WriteNumberValue(_seen);

        public override void Reset() => _seen = 0;

        public override Reducer CreateEmpty() => new HeldReducer(release);
    }

    /// <summary>Feeds frames to the engine as the capture thread does, and sets <c>release</c> once it has fed <c>releaseAt</c> of them.</summary>
    private struct ReleasingFrameHandler(MonitorEngine engine, long releaseAt, ManualResetEventSlim release) : ICaptureFrameHandler
    {
        private long _fed;

        public void OnFrame(in CapturedFrame frame)
        {
            engine.OnFrame(in frame);
            if (++_fed == releaseAt)
            {
                release.Set();
            }
        }
    }

    internal sealed record ExpectedMessage(bool Response, string Name, int Rcode);

    internal sealed record ExpectedWindow(long Packets, List<ExpectedMessage> Messages, long Start, long End);

    /// <summary>One frame of the crafted capture: whether it counts as a DNS packet and which messages it completes.</summary>
    internal sealed record CraftedFrame(long Time, bool Packet, List<ExpectedMessage> Completes);

    /// <summary>The crafted capture: its file and, frame by frame, what each frame means.</summary>
    internal sealed class CraftedCapture : IDisposable
    {
        public required string File { get; init; }

        /// <summary>Deletes the capture's temporary file.</summary>
        public void Dispose() => System.IO.File.Delete(File);

        public required List<CraftedFrame> Frames { get; init; }

        public int FrameCount => Frames.Count;

        public List<ExpectedMessage> Messages => [.. Frames.SelectMany(f => f.Completes)];

        public static CraftedCapture Make(int seed, int udpExchanges = 700, int tcpConversations = 25, int fragmentedResponses = 15)
        {
            var random = new Random(seed);
            var pcap = new PcapBuilder(false, true, LinkType.Ethernet);
            var frames = new List<CraftedFrame>();
            long time = Start + (random.Next(0, 1000) * Millisecond);
            string[] names = [.. Enumerable.Range(0, 40).Select(i => $"Host{i}.Zone{i % 7}.example")];

            void Add(byte[] frame, bool packet, params ExpectedMessage[] completes)
            {
                time += random.Next(50_000, 900_000); // 0.05 to 0.9 ms
                long seconds = Math.DivRem(time, 1_000_000_000, out long nanoseconds);
                pcap.Add((uint)seconds, (uint)nanoseconds, frame);
                frames.Add(new CraftedFrame(time, packet, [.. completes]));
            }

            var events = new List<int>();
            events.AddRange(Enumerable.Repeat(0, udpExchanges));
            events.AddRange(Enumerable.Repeat(1, tcpConversations));
            events.AddRange(Enumerable.Repeat(2, fragmentedResponses));
            events = [.. events.OrderBy(_ => random.Next())];
            ushort id = 0;
            foreach (int kind in events)
            {
                id++;
                byte[] client = [10, (byte)random.Next(0, 4), (byte)random.Next(0, 256), (byte)random.Next(1, 255)];
                byte[] server = [192, 0, 2, (byte)(53 + random.Next(0, 3))];
                ushort port = (ushort)random.Next(1024, 65535);
                string name = names[(int)Math.Min(names.Length - 1, Math.Abs(random.NextDouble() * random.NextDouble()) * names.Length)];
                int rcode = random.Next(0, 5) == 0 ? 3 : 0;
                var query = new TestMessageBuilder { Id = id, Flags = 0x0100 }.Question(name, 1);
                var response = new TestMessageBuilder { Id = id, Flags = (ushort)(0x8180 | rcode) }.Question(name, 1);
                var q = new ExpectedMessage(false, name, 0);
                var r = new ExpectedMessage(true, name, rcode);
                switch (kind)
                {
                    case 0:
                        Add(Frame(client, server, PacketBuilder.Udp(port, 53, query.ToArray())), true, q);
                        Add(Frame(server, client, PacketBuilder.Udp(53, port, response.ToArray())), true, r);
                        break;

                    case 1:
                        // Each message split in two segments: the first segment completes nothing.
                        byte[] tq = WithLength(query.ToArray());
                        byte[] tr = WithLength(response.ToArray());
                        Add(Frame(client, server, PacketBuilder.Tcp(port, 53, 1000, 0x18, tq[..5]), 6), true);
                        Add(Frame(client, server, PacketBuilder.Tcp(port, 53, 1005, 0x18, tq[5..]), 6), true, q);
                        Add(Frame(server, client, PacketBuilder.Tcp(53, port, 9000, 0x18, tr[..7]), 6), true);
                        Add(Frame(server, client, PacketBuilder.Tcp(53, port, 9007, 0x18, tr[7..]), 6), true, r);
                        break;

                    default:
                        // A response in two IPv4 fragments: the first counts as the packet, the second completes it.
                        Add(Frame(client, server, PacketBuilder.Udp(port, 53, query.ToArray())), true, q);
                        byte[] udp = PacketBuilder.Udp(53, port, response.ToArray());
                        ushort ipId = (ushort)(5000 + id);
                        Add(Fragment(server, client, udp[..16], ipId, 0, more: true), true);
                        Add(Fragment(server, client, udp[16..], ipId, 16, more: false), false, r);
                        break;
                }
            }

            string path = Path.Combine(Path.GetTempPath(), $"ratadns-engine-{seed}-{Environment.ProcessId}.pcap");
            System.IO.File.WriteAllBytes(path, pcap.ToArray());
            return new CraftedCapture { File = path, Frames = frames };
        }

        public List<ExpectedWindow> ExpectedCountWindows(int w)
        {
            var windows = new List<ExpectedWindow>();
            var messages = new List<ExpectedMessage>();
            long packets = 0;
            long first = 0;
            long last = 0;
            foreach (var frame in Frames)
            {
                messages.AddRange(frame.Completes);
                if (!frame.Packet)
                {
                    continue;
                }

                if (packets == 0)
                {
                    first = frame.Time;
                }

                last = frame.Time;
                if (++packets == w)
                {
                    windows.Add(new ExpectedWindow(packets, messages, first, last));
                    messages = [];
                    packets = 0;
                }
            }

            if (packets > 0 || messages.Count > 0)
            {
                windows.Add(new ExpectedWindow(packets, messages, first, last));
            }

            return windows;
        }

        public List<ExpectedWindow> ExpectedTimeWindows(long span)
        {
            // A frame belongs to the window of the last DNS packet's time at or before it (a non-packet frame does not
            // move the window); windows are [k*span, (k+1)*span).
            var byIndex = new SortedDictionary<long, (long Packets, List<ExpectedMessage> Messages)>();
            long current = long.MinValue;
            foreach (var frame in Frames)
            {
                if (frame.Packet)
                {
                    current = Math.Max(current, frame.Time / span);
                }

                if (!byIndex.TryGetValue(current, out var entry))
                {
                    entry = (0, []);
                }

                entry.Messages.AddRange(frame.Completes);
                byIndex[current] = (entry.Packets + (frame.Packet ? 1 : 0), entry.Messages);
            }

            return [.. byIndex.Select(p => new ExpectedWindow(p.Value.Packets, p.Value.Messages, p.Key * span, (p.Key + 1) * span))];
        }

        private static byte[] WithLength(byte[] message)
        {
            var b = new byte[message.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)message.Length);
            message.CopyTo(b, 2);
            return b;
        }

        private static byte[] Frame(byte[] source, byte[] destination, byte[] transport, byte protocol = 17)
        {
            byte[] ip = PacketBuilder.Ipv4(protocol, transport);
            source.CopyTo(ip, 12);
            destination.CopyTo(ip, 16);
            return PacketBuilder.Ethernet(0x0800, ip);
        }

        private static byte[] Fragment(byte[] source, byte[] destination, byte[] part, ushort identification, int offsetBytes, bool more)
        {
            byte[] ip = PacketBuilder.Ipv4(17, part, identification: identification, flagsAndOffset: (ushort)((more ? 0x2000 : 0) | (offsetBytes / 8)));
            source.CopyTo(ip, 12);
            destination.CopyTo(ip, 16);
            return PacketBuilder.Ethernet(0x0800, ip);
        }
    }
}
