using RataDns.Capture;
using RataDns.Configuration;


namespace RataDns.Engine;

/// <summary>How a <see cref="MonitorEngine"/> runs.</summary>
public sealed record MonitorEngineOptions
{
    /// <summary>Cores - 1 (the capture thread keeps one), at least 1.</summary>
    public static int DefaultWorkers => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Worker threads that decode and reduce; each has its own ring and reducer partials.</summary>
    public int Workers { get; init; } = DefaultWorkers;

    public WindowConfiguration Window { get; init; } = MonitorConfiguration.DefaultWindow;

    public DnsPortSet Ports { get; init; } = new([53]);

    /// <summary>
    /// A live source: a full ring drops the frame (counted) instead of waiting, so capture never stalls. For files
    /// (false) the capture thread waits for room: nothing is lost.
    /// </summary>
    public bool Live { get; init; }

    /// <summary>Pin the capture thread and each worker to its own CPU where the OS allows it.</summary>
    public bool PinThreads { get; init; } = true;

    /// <summary>Slots of each worker's ring (a power of two).</summary>
    public int RingSlots { get; init; } = 1 << 14;

    /// <summary>The largest frame a slot keeps (the snap length); longer frames are cut.</summary>
    public int SlotCapacity { get; init; } = 65535;

    /// <summary>Bytes of frame data each worker's ring holds.</summary>
    public long RingBytes { get; init; } = 16L << 20;

    /// <summary>
    /// Called on the capture thread at each window boundary: the capture's own drop count so far (libpcap's kernel
    /// and interface drops); the increase since the last boundary is added to the window's drops.
    /// </summary>
    public Func<long>? ExternalDrops { get; init; }

    /// <summary>
    /// Walk every message so malformed ones are counted by reason in the pipelines' statistics, even when no reducer
    /// reads the message's facts (self-metrics). Off: only messages a reducer walked are counted.
    /// </summary>
    public bool CountMalformed { get; init; }

    /// <summary>Where the engine says how it placed its threads; null for silence.</summary>
    public TextWriter? Log { get; init; }
}
