using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Prometheus;
using RataDns.App.Commands;
using RataDns.Capture.Live;
using RataDns.DnsWire;
using RataDns.Engine;
using RataDns.Transport.PrometheusExposition;

namespace RataDns.App.Operations;

/// <summary>
/// The monitor's self-metrics, read on demand (a scrape, a status line) from the counters the engine, the live
/// capture and the outputs keep. Every counter is monotonic over the process lifetime. Reading never blocks the
/// threads that write them: single-writer counters are read with <see cref="Volatile"/>, the outputs' with
/// <see cref="Interlocked"/>, libpcap's through <see cref="LiveCapture.ReadStatistics"/> (its own lock, not taken
/// by the capture loop).
/// </summary>
internal sealed class MonitorMetrics
{
    private static readonly DnsParseStatus[] MalformedStatuses = [.. Enum.GetValues<DnsParseStatus>().Where(s => s != DnsParseStatus.Ok)];

    private readonly double _startTimeSeconds;
    private readonly string _version;
    private MonitorEngine? _engine;
    private ResultChannels? _channels;
    private Func<LiveCaptureStatistics>? _live;
    private LiveCaptureStatistics? _lastLive;
    private volatile bool _running;
    private CollectorRegistry? _dnsRegistry;
    private Capture.Dnstap.DnstapInputStatistics? _dnstap;

    public MonitorMetrics()
    {
        using var process = Process.GetCurrentProcess();
        _startTimeSeconds = (process.StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
        _version = typeof(MonitorMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
    }

    /// <summary>
    /// The DNS statistics exposed after the self-metrics (made from the windows' results, <see cref="DnsStatisticsSink"/>);
    /// made on first use, so a monitor without an endpoint never loads the Prometheus library.
    /// </summary>
    public DnsStatistics CreateDnsStatistics()
    {
        var registry = Metrics.NewCustomRegistry();
        var statistics = new DnsStatistics(registry);
        Volatile.Write(ref _dnsRegistry, registry);
        return statistics;
    }

    /// <summary>The dnstap input whose messages, skips and writers are reported (a socket or a Frame Streams file).</summary>
    public void AttachDnstap(Capture.Dnstap.DnstapInputStatistics dnstap) => Volatile.Write(ref _dnstap, dnstap);

    /// <summary>The outputs whose sent and dropped results are reported.</summary>
    public void AttachOutputs(ResultChannels channels) => Volatile.Write(ref _channels, channels);

    /// <summary>The engine has started; <paramref name="live"/> reads libpcap's counters (null for files).</summary>
    public void Attach(MonitorEngine engine, Func<LiveCaptureStatistics>? live)
    {
        Volatile.Write(ref _live, live);
        Volatile.Write(ref _engine, engine);
        _running = true;
    }

    /// <summary>The input is over and every window written: libpcap's last counters are kept (the capture closes next).</summary>
    public void InputEnded()
    {
        _ = LiveStatistics();
        Volatile.Write(ref _live, null);
        _running = false;
    }

    /// <summary>A snapshot for the status line.</summary>
    public StatusSample Sample()
    {
        var engine = Volatile.Read(ref _engine);
        var live = LiveStatistics();
        long frames = 0, dns = 0, malformed = 0, ringDrops = 0, windows = 0;
        double fullest = 0;
        if (engine is not null)
        {
            frames = engine.FramesRead;
            ringDrops = engine.RingDrops;
            windows = engine.WindowsWritten;
            for (int i = 0; i < engine.Workers; i++)
            {
                var worker = engine.WorkerMetricsOf(i);
                dns += worker.DnsMessages;
                fullest = Math.Max(fullest, (double)worker.RingSlotsUsed / worker.RingSlots);
            }

            foreach (var status in MalformedStatuses)
            {
                malformed += engine.Malformed(status);
            }
        }

        return new StatusSample(
            Stopwatch.GetTimestamp(), frames, dns, malformed, live?.KernelDropped ?? 0, live?.InterfaceDropped ?? 0, ringDrops,
            fullest, windows, Environment.WorkingSet);
    }

    /// <summary>Every metric in the Prometheus text format 0.0.4.</summary>
    public string Render()
    {
        var w = new PrometheusTextWriter();
        var engine = Volatile.Read(ref _engine);
        var live = LiveStatistics();

        w.Family("ratadns_build_info", "gauge", "Always 1; the labels say which build and runtime run.");
        w.Sample("ratadns_build_info", [("version", _version), ("runtime", RuntimeInformation.FrameworkDescription)], 1);
        w.Family("ratadns_process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
        w.Sample("ratadns_process_start_time_seconds", _startTimeSeconds);
        w.Family("ratadns_capture_running", "gauge", "1 while the input is read, 0 before it starts and once it has ended.");
        w.Sample("ratadns_capture_running", _running ? 1 : 0);

        w.Family("ratadns_frames_read_total", "counter", "Frames read from the capture source (passed to a worker or dropped).");
        w.Sample("ratadns_frames_read_total", engine?.FramesRead ?? 0);
        w.Family("ratadns_dns_packets_total", "counter", "Frames to or from a DNS port, counted into windows.");
        w.Sample("ratadns_dns_packets_total", engine?.DnsPackets ?? 0);

        long dnsMessages = 0;
        if (engine is not null)
        {
            for (int i = 0; i < engine.Workers; i++)
            {
                dnsMessages += engine.WorkerMetricsOf(i).DnsMessages;
            }
        }

        w.Family("ratadns_dns_messages_total", "counter", "DNS messages decoded (UDP payloads and reassembled TCP messages) and given to the reducers.");
        w.Sample("ratadns_dns_messages_total", dnsMessages);
        w.Family("ratadns_malformed_messages_total", "counter", "DNS messages whose parse found a fault, by the first fault's reason.");
        foreach (var status in MalformedStatuses)
        {
            w.Sample("ratadns_malformed_messages_total", "reason", DnsParseStatusNames.Name(status), engine?.Malformed(status) ?? 0);
        }

        w.Family("ratadns_dropped_frames_total", "counter", "Frames lost: by the kernel or the interface (libpcap, live capture) or at a full ring toward a worker.");
        w.Sample("ratadns_dropped_frames_total", "where", "kernel", live?.KernelDropped ?? 0);
        w.Sample("ratadns_dropped_frames_total", "where", "interface", live?.InterfaceDropped ?? 0);
        w.Sample("ratadns_dropped_frames_total", "where", "ring", engine?.RingDrops ?? 0);

        if (Volatile.Read(ref _dnstap) is { } dnstap)
        {
            w.Family("ratadns_dnstap_frames_total", "counter", "dnstap data frames read (one dnstap payload each).");
            w.Sample("ratadns_dnstap_frames_total", dnstap.Frames);
            w.Family("ratadns_dnstap_messages_total", "counter", "dnstap messages turned into packets for the reducers.");
            w.Sample("ratadns_dnstap_messages_total", dnstap.Messages);
            w.Family("ratadns_dnstap_skipped_total", "counter", "dnstap payloads skipped: no DNS message (or no known socket family), not a MESSAGE, not decodable.");
            w.Sample("ratadns_dnstap_skipped_total", "reason", "no_dns_message", dnstap.WithoutDns);
            w.Sample("ratadns_dnstap_skipped_total", "reason", "not_message", dnstap.NotMessages);
            w.Sample("ratadns_dnstap_skipped_total", "reason", "undecodable", dnstap.Undecodable);
            w.Family("ratadns_dnstap_writers_total", "counter", "Writers (DNS servers) that connected to the dnstap socket.");
            w.Sample("ratadns_dnstap_writers_total", dnstap.Writers);
            w.Family("ratadns_dnstap_broken_streams_total", "counter", "Writers whose stream broke the Frame Streams rules and lost their connection.");
            w.Sample("ratadns_dnstap_broken_streams_total", dnstap.BrokenStreams);
        }

        var channels = Volatile.Read(ref _channels)?.Distinct ?? [];
        w.Family("ratadns_output_results_sent_total", "counter", "Results (one per reducer and window) an output sent.");
        foreach (var c in channels)
        {
            w.Sample("ratadns_output_results_sent_total", "output", c.Describe(), c.Statistics.Sent);
        }

        w.Family("ratadns_output_results_dropped_total", "counter", "Results an output dropped (queue full, peer slow or away, write error).");
        foreach (var c in channels)
        {
            w.Sample("ratadns_output_results_dropped_total", "output", c.Describe(), c.Statistics.Dropped);
        }

        w.Family("ratadns_output_errors_total", "counter", "Connection failures and write errors of an output.");
        foreach (var c in channels)
        {
            w.Sample("ratadns_output_errors_total", "output", c.Describe(), c.Statistics.Errors);
        }

        if (engine is not null)
        {
            RenderWorkers(w, engine);
        }

        w.Family("ratadns_windows_emitted_total", "counter", "Windows whose results were written to the outputs.");
        w.Sample("ratadns_windows_emitted_total", engine?.WindowsWritten ?? 0);
        RenderEmitLatency(w, engine);
        RenderRuntime(w);
        return w.ToString() + RenderDnsStatistics();
    }

    /// <summary>The DNS statistics in the same text format, written by the Prometheus library; empty without them.</summary>
    private string RenderDnsStatistics()
    {
        var registry = Volatile.Read(ref _dnsRegistry);
        if (registry is null)
        {
            return string.Empty;
        }

        using var text = new MemoryStream();
        registry.CollectAndExportAsTextAsync(text).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length);
    }

    private static void RenderWorkers(PrometheusTextWriter w, MonitorEngine engine)
    {
        var workers = new WorkerMetrics[engine.Workers];
        var names = new string[workers.Length];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = engine.WorkerMetricsOf(i);
            names[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        void PerWorker(string name, string type, string help, Func<WorkerMetrics, double> value)
        {
            w.Family(name, type, help);
            for (int i = 0; i < workers.Length; i++)
            {
                w.Sample(name, "worker", names[i], value(workers[i]));
            }
        }

        PerWorker("ratadns_worker_frames_total", "counter", "Frames a worker took from its ring (DNS or not).", m => m.Frames);
        PerWorker("ratadns_worker_dns_messages_total", "counter", "DNS messages a worker gave to its reducers.", m => m.DnsMessages);
        PerWorker("ratadns_ring_slots_used", "gauge", "Frames waiting in a worker's ring.", m => m.RingSlotsUsed);
        PerWorker("ratadns_ring_slots", "gauge", "Size of a worker's ring, in slots.", m => m.RingSlots);
        PerWorker("ratadns_tcp_connections_open", "gauge", "TCP connections a worker's reassembler tracks.", m => m.TcpConnectionsOpen);
        PerWorker("ratadns_ip_datagrams_pending", "gauge", "Incomplete IP datagrams (fragments waiting) a worker holds.", m => m.FragmentDatagramsPending);
        PerWorker("ratadns_reassembly_bytes_held", "gauge", "Bytes a worker's TCP and IP fragment reassembly holds.", m => m.ReassemblyBytesHeld);
    }

    private static void RenderEmitLatency(PrometheusTextWriter w, MonitorEngine? engine)
    {
        const string name = "ratadns_window_emit_latency_seconds";
        w.Family(name, "histogram", "Time from a window's end (its marker leaving the capture thread) to its results written to the outputs.");
        var (buckets, sum) = engine?.EmitLatency() ?? (new long[MonitorEngine.EmitLatencyBounds.Length + 1], 0);
        long cumulative = 0;
        for (int i = 0; i < MonitorEngine.EmitLatencyBounds.Length; i++)
        {
            cumulative += buckets[i];
            w.Sample(name + "_bucket", "le", PrometheusTextWriter.Number(MonitorEngine.EmitLatencyBounds[i]), cumulative);
        }

        cumulative += buckets[^1];
        w.Sample(name + "_bucket", "le", "+Inf", cumulative);
        w.Sample(name + "_sum", sum);
        w.Sample(name + "_count", cumulative);
    }

    private static void RenderRuntime(PrometheusTextWriter w)
    {
        w.Family("ratadns_gc_collections_total", "counter", "Garbage collections, by generation.");
        for (int g = 0; g <= GC.MaxGeneration; g++)
        {
            w.Sample("ratadns_gc_collections_total", "generation", g.ToString(CultureInfo.InvariantCulture), GC.CollectionCount(g));
        }

        w.Family("ratadns_gc_allocated_bytes_total", "counter", "Bytes allocated on the managed heap since the start.");
        w.Sample("ratadns_gc_allocated_bytes_total", GC.GetTotalAllocatedBytes(precise: false));
        w.Family("ratadns_gc_heap_bytes", "gauge", "Size of the managed heap after the last collection.");
        w.Sample("ratadns_gc_heap_bytes", GC.GetGCMemoryInfo().HeapSizeBytes);
        w.Family("ratadns_gc_pause_seconds_total", "counter", "Time the runtime was paused for garbage collection.");
        w.Sample("ratadns_gc_pause_seconds_total", GC.GetTotalPauseDuration().TotalSeconds);
        w.Family("ratadns_process_resident_memory_bytes", "gauge", "Resident set size (working set) of the process.");
        w.Sample("ratadns_process_resident_memory_bytes", Environment.WorkingSet);
        w.Family("ratadns_process_cpu_seconds_total", "counter", "User and system CPU time of the process.");
        w.Sample("ratadns_process_cpu_seconds_total", Environment.CpuUsage.TotalTime.TotalSeconds);
    }

    /// <summary>libpcap's latest counters (live capture), or the last ones read once the capture has closed.</summary>
    private LiveCaptureStatistics? LiveStatistics()
    {
        var read = Volatile.Read(ref _live);
        if (read is not null)
        {
            try
            {
                Volatile.Write(ref _lastLive, read());
            }
            catch (Exception e) when (e is ObjectDisposedException or LiveCaptureException)
            {
                // The capture closed between the check and the read: its last counters stand.
            }
        }

        return Volatile.Read(ref _lastLive);
    }
}

/// <summary>What the status line reports, read at <paramref name="Timestamp"/> (<see cref="Stopwatch"/> ticks).</summary>
internal readonly record struct StatusSample(
    long Timestamp, long Frames, long DnsMessages, long Malformed, long KernelDrops, long InterfaceDrops, long RingDrops,
    double FullestRing, long Windows, long ResidentBytes);
