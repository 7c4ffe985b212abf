using System.Diagnostics;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --reducer-costs FILE [MESSAGES]</c>: the cost of each
/// built-in reducer's <see cref="Reducer.Observe"/> per DNS message, on the first MESSAGES (default 200,000) messages
/// of a capture held in memory, side by side in one run (best of 5 passes after a warm-up pass), plus the bytes each
/// allocates per message, the memory it holds once it has seen them all, and what writing its result allocates. A quick way to see which reducers dominate <c>ratadns monitor</c>'s per-packet cost.
/// </summary>
public static class ReducerCosts
{
    public static int Run(string file, int limit, TextWriter output)
    {
        var messages = Load(file, limit);
        output.WriteLine($"{messages.Count:N0} messages from {file}");
        output.WriteLine("| reducer | ns/message | B/message | MB held | KB per result |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        double total = 0;
        foreach (string name in ReducerRegistry.KnownTypes)
        {
            long heldBefore = GC.GetTotalMemory(forceFullCollection: true);
            var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = name });
            ObserveAll(reducer, messages); // warm-up (and JIT)
            double held = (GC.GetTotalMemory(forceFullCollection: true) - heldBefore) / 1e6;
            double resultKb = WriteCost(reducer) / 1e3;
            reducer.Reset();
            double best = double.MaxValue;
            long allocated = long.MaxValue;
            for (int pass = 0; pass < 5; pass++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                var clock = Stopwatch.StartNew();
                ObserveAll(reducer, messages);
                clock.Stop();
                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
                best = Math.Min(best, clock.Elapsed.TotalNanoseconds / messages.Count);
                reducer.Reset();
            }

            total += best;
            output.WriteLine($"| {name} | {best:F1} | {(double)allocated / messages.Count:F2} | {held:F1} | {resultKb:F1} |");
            GC.KeepAlive(reducer);
        }

        output.WriteLine($"| all ({ReducerRegistry.KnownTypes.Count}) | {total:F1} | |");
        return 0;
    }

    /// <summary>Bytes allocated by writing the result (the second write: the first may JIT).</summary>
    private static long WriteCost(Reducer reducer)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        using var json = new System.Text.Json.Utf8JsonWriter(buffer);
        var window = new ReducerWindow(0, 1_000_000_000, 1);
        reducer.WriteData(json, in window);
        json.Flush();
        json.Reset();
        buffer.ResetWrittenCount();
        long before = GC.GetAllocatedBytesForCurrentThread();
        reducer.WriteData(json, in window);
        json.Flush();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    internal static void ObserveAll(Reducer reducer, List<Message> messages)
    {
        foreach (var m in messages)
        {
            var view = new DnsPacketView(m.Bytes, m.Time, m.Transport, m.Source, m.SourcePort, m.Destination, m.DestinationPort);
            reducer.Observe(in view);
        }
    }

    internal static List<Message> Load(string file, int limit)
    {
        var collector = new Collector(limit);
        var pipeline = new DnsCapturePipeline(new DnsPortSet([53]));
        var handler = new PipelineFrameHandler<Collector>(pipeline, collector);
        using (var reader = CaptureFileReader.Open(file))
        {
            reader.ReadAll(ref handler);
        }

        return collector.Messages;
    }

    internal sealed record Message(byte[] Bytes, long Time, TransportProtocol Transport, byte[] Source, ushort SourcePort, byte[] Destination, ushort DestinationPort);

    private readonly struct Collector(int limit) : IDnsMessageHandler
    {
        public List<Message> Messages { get; } = [];

        public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            if (Messages.Count < limit)
            {
                Messages.Add(new Message(
                    message.ToArray(), timestampNanoseconds, packet.Transport, packet.SourceAddress.ToArray(), packet.SourcePort, packet.DestinationAddress.ToArray(), packet.DestinationPort));
            }

            return DnsParseStatus.Ok;
        }
    }
}
