using System.Diagnostics;
using RataDns.DnsWire;

using RataDns.Reducers;

namespace RataDns.Engine;

/// <summary>
/// The engine's self-metrics: counters the hot path bumps with plain single-writer stores (each has one writing
/// thread), read from any thread (a metrics scrape, a status line) with <see cref="Volatile"/> reads. Nothing here
/// takes a lock or allocates on the capture, worker or merger threads.
/// </summary>
public sealed partial class MonitorEngine
{
    /// <summary>Upper bounds, in seconds, of the buckets of <see cref="EmitLatency"/> (a last, unbounded one follows).</summary>
    public static readonly double[] EmitLatencyBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    // Capture thread only writes these.
    private long _framesRead;
    private long _dnsPacketsTotal;

    // Merger thread only writes these: one count per bucket (the last is +Inf) and the sum in Stopwatch ticks.
    private readonly long[] _emitLatencyBuckets = new long[EmitLatencyBounds.Length + 1];
    private long _emitLatencySumTicks;

    /// <summary>Frames the capture thread has read since the start (passed to a worker or dropped). Any thread.</summary>
    public long FramesRead => Volatile.Read(ref _framesRead);

    /// <summary>DNS packets (by port, as dispatch classifies them) counted into windows since the start. Any thread.</summary>
    public long DnsPackets => Volatile.Read(ref _dnsPacketsTotal);

    /// <summary>
    /// Frames dropped because a ring was full or a worker was behind its window marker (live sources), since the
    /// start. Any thread.
    /// </summary>
    public long RingDrops
    {
        get
        {
            long drops = Volatile.Read(ref _dispatchDrops);
            foreach (var worker in _workers)
            {
                drops += worker.Ring.Dropped;
            }

            return drops;
        }
    }

    /// <summary>What one worker has done and holds now. Any thread; values may be a packet behind.</summary>
    public WorkerMetrics WorkerMetricsOf(int worker)
    {
        var w = _workers[worker];
        var counters = w.Pipeline.LiveCounters;
        return new WorkerMetrics(
            Frames: counters.Frames,
            DnsMessages: counters.DnsMessages,
            RingSlotsUsed: w.Ring.Count,
            RingSlots: w.Ring.Slots,
            RingDrops: w.Ring.Dropped,
            TcpConnectionsOpen: w.Pipeline.TcpConnectionsOpen,
            FragmentDatagramsPending: w.Pipeline.FragmentDatagramsPending,
            ReassemblyBytesHeld: w.Pipeline.ReassemblyBytesHeld);
    }

    /// <summary>Malformed DNS messages with <paramref name="status"/>, summed over the workers. Any thread.</summary>
    public long Malformed(DnsParseStatus status)
    {
        long sum = 0;
        foreach (var worker in _workers)
        {
            sum += worker.Pipeline.LiveCounters.Malformed(status);
        }

        return sum;
    }

    /// <summary>
    /// The time from each window's end marker (written by the capture thread) to its results written by the sink:
    /// counts per bucket of <see cref="EmitLatencyBounds"/> (not cumulative; the last is above every bound) and the
    /// sum in seconds. Any thread; a scrape may see one window counted in a bucket but not yet in the sum.
    /// </summary>
    public (long[] Buckets, double SumSeconds) EmitLatency()
    {
        var buckets = new long[_emitLatencyBuckets.Length];
        for (int i = 0; i < buckets.Length; i++)
        {
            buckets[i] = Volatile.Read(ref _emitLatencyBuckets[i]);
        }

        return (buckets, (double)Volatile.Read(ref _emitLatencySumTicks) / Stopwatch.Frequency);
    }

    private static DnsParseStatus ParseStatusOf(in DnsPacketView view, DnsParseStatus? walked, bool walk)
    {
        if (walked is { } status)
        {
            return status;
        }

        // No reducer walked the message: walk it (once; the facts are cached) only when malformed ones are counted.
        return walk ? view.Facts.Status : DnsParseStatus.Ok;
    }

    // Capture thread. A plain increment is a single untorn 64-bit store; readers use Volatile.Read.
    private void CountFrameRead() => Volatile.Write(ref _framesRead, _framesRead + 1);

    private void CountDnsPacket() => Volatile.Write(ref _dnsPacketsTotal, _dnsPacketsTotal + 1);

    // Merger thread only: single writer, Volatile stores for readers on other threads.
    private void RecordEmitLatency(long windowEndTimestamp)
    {
        long ticks = Math.Max(0, Stopwatch.GetTimestamp() - windowEndTimestamp);
        double seconds = (double)ticks / Stopwatch.Frequency;
        int bucket = 0;
        while (bucket < EmitLatencyBounds.Length && seconds > EmitLatencyBounds[bucket])
        {
            bucket++;
        }

        Volatile.Write(ref _emitLatencyBuckets[bucket], _emitLatencyBuckets[bucket] + 1);
        Volatile.Write(ref _emitLatencySumTicks, _emitLatencySumTicks + ticks);
    }
}

/// <summary>One worker's counters and state, as <see cref="MonitorEngine.WorkerMetricsOf"/> reads them.</summary>
/// <param name="Frames">Frames the worker's pipeline took (DNS or not) since the start.</param>
/// <param name="DnsMessages">DNS messages its pipeline delivered to its reducers since the start.</param>
/// <param name="RingSlotsUsed">Frames waiting in its ring now.</param>
/// <param name="RingSlots">Its ring's size in slots.</param>
/// <param name="RingDrops">Frames its ring refused because it was full, since the start.</param>
/// <param name="TcpConnectionsOpen">TCP connections its reassembler tracks now.</param>
/// <param name="FragmentDatagramsPending">Incomplete IP datagrams it holds now.</param>
/// <param name="ReassemblyBytesHeld">Bytes its reassemblers hold now.</param>
public readonly record struct WorkerMetrics(
    long Frames, long DnsMessages, int RingSlotsUsed, int RingSlots, long RingDrops,
    int TcpConnectionsOpen, int FragmentDatagramsPending, long ReassemblyBytesHeld);
