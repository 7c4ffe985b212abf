using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using NetMQ;
using NetMQ.Sockets;
using RataDns.Transport.Encoders;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --publish-costs RESULTS.ndjson</c>: window results per
/// second through each encoder (the JSON envelope as written, and its MessagePack transcoding) and through a
/// ZeroMQ PUB socket to a subscriber in the same process, on real results (a monitor's NDJSON output).
/// </summary>
public static class PublishCosts
{
    public static int Run(string file, TextWriter output)
    {
        // The file's results, repeated to at least 20,000 so a pass is long enough to time.
        var read = File.ReadAllLines(file).Where(l => l.Length > 0).Select(System.Text.Encoding.UTF8.GetBytes).ToList();
        var envelopes = Enumerable.Repeat(read, Math.Max(1, 20_000 / Math.Max(1, read.Count))).SelectMany(r => r).ToList();
        var types = envelopes.Select(e => JsonDocument.Parse(e).RootElement.GetProperty("type").GetString()!).ToList();
        long bytes = envelopes.Sum(e => (long)e.Length);
        output.WriteLine($"{envelopes.Count:N0} results, {bytes / (double)envelopes.Count:F0} bytes each on average (JSON), from {file}");
        output.WriteLine("| path | results/s | MB/s (JSON in) | B allocated per result |");
        output.WriteLine("|---|---:|---:|---:|");

        // MessagePack transcoding.
        var transcoder = new JsonToMessagePack();
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        long packed = 0;
        Measure(output, "JSON envelope -> MessagePack", envelopes.Count, bytes, () =>
        {
            packed = 0;
            foreach (var e in envelopes)
            {
                buffer.ResetWrittenCount();
                transcoder.Transcode(e, buffer);
                packed += buffer.WrittenCount;
            }
        });
        output.WriteLine($"(MessagePack is {100.0 * packed / bytes:F0} % of the JSON size)");

        // ZeroMQ PUB -> SUB over TCP on loopback, both encodings, counting what the subscriber receives.
        foreach (var encoding in new[] { ZeroMqEncoding.MessagePack, ZeroMqEncoding.Json })
        {
            using var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = ["tcp://127.0.0.1:*"], Encoding = encoding, SendHighWatermark = 1_000_000, QueueCapacity = 1 << 16 });
            using var subscriber = new SubscriberSocket();
            subscriber.Options.ReceiveHighWatermark = 1_000_000;
            subscriber.Connect(publisher.Endpoints[0]);
            subscriber.SubscribeToAnyTopic();
            WaitSubscribed(publisher, subscriber);
            long received = 0;
            long dropped = 0;
            Measure(output, $"ZeroMQ PUB -> SUB, {encoding}", envelopes.Count, bytes, () =>
            {
                long droppedBefore = publisher.Statistics.Dropped;
                for (int i = 0; i < envelopes.Count; i++)
                {
                    while (!publisher.Publish(new ResultEnvelope(types[i], "bench", types[i], envelopes[i])))
                    {
                        // The queue to the socket thread is full: this benchmark waits (the monitor drops).
                        Thread.Yield();
                    }
                }

                dropped += publisher.Statistics.Dropped - droppedBefore;
                var message = new NetMQMessage();
                for (int i = 0; i < envelopes.Count; i++)
                {
                    if (!subscriber.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref message))
                    {
                        break;
                    }

                    received++;
                }
            });
            output.WriteLine($"({encoding}: {received:N0} of {6L * envelopes.Count:N0} results received; {dropped:N0} waits on a full queue)");
        }

        return 0;
    }

    private static void WaitSubscribed(ZeroMqPublisher publisher, SubscriberSocket subscriber)
    {
        var message = new NetMQMessage();
        for (int attempt = 0; attempt < 200; attempt++)
        {
            publisher.Publish(new ResultEnvelope("warmup", "bench", "warmup", "{}"u8));
            if (subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(50), ref message))
            {
                while (subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(200), ref message))
                {
                }

                return;
            }
        }

        throw new TimeoutException("the subscriber never connected");
    }

    /// <summary>One warm-up pass, then the best of 5 timed passes.</summary>
    private static void Measure(TextWriter output, string name, int count, long bytes, Action pass)
    {
        pass();
        double best = double.MaxValue;
        long allocated = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            pass();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        output.WriteLine($"| {name} | {count / best:N0} | {bytes / best / 1e6:F0} | {(double)allocated / count:F1} |");
    }
}
