using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.Capture.Ring;
using RataDns.DnsWire;

using RataDns.Reducers;

namespace RataDns.Engine;

/// <summary>
/// The monitor's engine: the capture thread hands each frame, by flow, to one of N worker threads through a
/// lock-free single-producer/single-consumer ring; each worker decodes (IP reassembly, TCP streams), parses and
/// reduces into its own partial reducers; at each window boundary a merger thread merges the workers' partials and
/// hands the result to the sink.
/// </summary>
/// <remarks>
/// <para>
/// Windows are decided on the capture thread, so they are exact whatever the number of workers: it counts DNS
/// packets (see <see cref="FlowDispatch.Classify(in CapturedFrame, DnsPortSet)"/>), reads their timestamps, and at a boundary writes a marker into
/// every worker's ring after the window's last frame. A worker that reads the marker exchanges its reducers with the
/// empty ones of a spare set (a reducer that keeps state across windows, such as pending queries, is merged into the
/// spare instead, then reset, so that state stays with the worker) and hands the set to the merger. The merger waits for
/// every worker's set of a window, merges them in worker order, and calls the sink: results come out in window order
/// and are identical for 1 or N workers when the reducers merge exactly.
/// </para>
/// <para>
/// Nothing is allocated per packet: rings and buffers are made up front, reducer sets (a few spares per worker) at
/// most once per window while the merger is behind (at the end of the first window, and when it falls behind).
/// A live source never waits on a full ring (the frame is dropped and counted in the window's drops); a file source
/// waits for room. Markers are never dropped: one that finds its ring full is kept and written before that worker's
/// next frame (frames that cannot pass it are dropped).
/// </para>
/// <para>
/// Threading contract: <see cref="Start"/>, <see cref="OnFrame"/>, <see cref="OnIdle"/>, <see cref="EndOfPass"/>
/// and <see cref="Complete"/> are called by one thread, the capture thread. The sink runs on the merger thread.
/// </para>
/// </remarks>
public sealed partial class MonitorEngine : IDisposable
{
    private const int MarkerWindowEnd = 1;
    private const int MarkerEndOfPass = 2;
    private const int MarkerFinish = 3;

    /// <summary>
    /// Reducer sets per worker beyond the live one, at most: windows that may wait for the merger at once. The first is
    /// made when the first window ends (not at start-up, which it would lengthen by a set's making: about 9 ms for the
    /// default set), the second only when the merger falls behind (a set of the full reducer list holds tens of MB).
    /// </summary>
    private const int MaxSpareSetsPerWorker = 2;

    /// <summary>A busy worker looks at the stop flag once per this many frames (an idle one at every empty poll).</summary>
    private const int StopCheckFrames = 1024;

    /// <summary>
    /// Polls of an empty ring (spinning briefly) before a worker sleeps until the capture thread wakes it with a batch.
    /// Few: a worker faster than its capture thread empties the ring often, and 20 polls (spins, then yields) cost
    /// 11% of the samples of a qps + TopNQ run in pause loops; the capture thread wakes a sleeper within a batch.
    /// </summary>
    private const int IdleSpins = 4;

    private readonly MonitorEngineOptions _options;
    private IWindowResultSink _sink; // merger thread once started; see SwitchSinkIfDue
    private readonly Worker[] _workers;
    private readonly Thread _merger;
    // Each closed window, with the Stopwatch time its end marker left the capture thread (for the emit latency).
    private readonly ConcurrentQueue<(WindowSummary Summary, long EndTimestamp)> _windows = new();
    private readonly SemaphoreSlim _mergerSignal = new(0);
    private readonly ulong _flowSeed;
    private readonly int _packetCount;
    private readonly long _durationNanoseconds;
    private IReadOnlyList<int> _cpus; // set again by ScanFile, before any thread starts
    private readonly bool _live; // the options' flag, read for every frame: kept here, beside the capture thread's fields

    // Capture-thread state.
    private WindowCutter _cutter;
    private long _windowDrops;
    private long _dispatchDrops;
    private long _externalDropsSeen;
    private bool _anyPendingMarker;
    private bool _started;
    private bool _completed;
    private long _windowsWritten;

    // Shared: the first failure of a worker or the merger, and the stop flag.
    private ExceptionDispatchInfo? _fault;
    private volatile bool _stopping;

    /// <summary>
    /// Makes an engine whose workers each run a copy of <paramref name="reducers"/> (made with
    /// <see cref="Reducer.CreateEmpty"/>; the given instances themselves are not used for packets).
    /// </summary>
    public MonitorEngine(IReadOnlyList<Reducer> reducers, IWindowResultSink sink, MonitorEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(reducers);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        _options = options;
        _live = options.Live;
        _sink = sink;
        _packetCount = options.Window.PacketCount ?? 0;
        _durationNanoseconds = options.Window.Duration is { } d ? d.Ticks * 100 : 0;
        _cutter = new WindowCutter(_durationNanoseconds, _packetCount);
        _flowSeed = (ulong)Random.Shared.NextInt64();
        _cpus = options.PinThreads ? ThreadAffinity.AllowedCpus() : [];
        if (_cpus.Count < options.Workers + 1)
        {
            // Pinned threads sharing a CPU would wait on each other's time slices: let the scheduler place them.
            _cpus = [];
        }
        _workers = new Worker[options.Workers];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Worker(this, i, reducers);
        }

        _merger = new Thread(MergeLoop) { Name = "ratadns merger", IsBackground = true };
    }

    /// <summary>The number of worker threads.</summary>
    public int Workers => _workers.Length;

    /// <summary>Windows written to the sink so far (read from any thread).</summary>
    public long WindowsWritten => Interlocked.Read(ref _windowsWritten);

    /// <summary>
    /// Starts the workers and the merger, and pins the calling thread (the capture thread) and each worker to its
    /// own CPU when <see cref="MonitorEngineOptions.PinThreads"/> is set; says what it did on the log.
    /// </summary>
    public void Start()
    {
        if (_started)
        {
            throw new InvalidOperationException("The engine is already started.");
        }

        _started = true;
        string placement;
        if (_scan is not null)
        {
            placement = _cpus.Count >= 2
                ? $"the worker reads the file itself, on CPU {CpuOf(0)}"
                : $"the worker reads the file itself, not pinned{(_options.PinThreads ? string.Empty : " (disabled)")}";
        }
        else if (_cpus.Count >= 2)
        {
            string? failure = ThreadAffinity.TryPinCurrentThread(_cpus[0]);
            placement = failure is null
                ? $"capture thread on CPU {_cpus[0]}, " + string.Join(", ", _workers.Select(w => $"worker {w.Index} on CPU {CpuOf(w.Index)}"))
                : $"threads not pinned: {failure}";
        }
        else
        {
            placement = !_options.PinThreads
                ? "threads not pinned (disabled)"
                : $"threads not pinned: {_workers.Length + 1} threads (capture and workers) for {ThreadAffinity.AllowedCpus().Count} usable CPUs";
        }

        _options.Log?.WriteLine($"{_workers.Length} worker{(_workers.Length == 1 ? string.Empty : "s")}, {Environment.ProcessorCount} CPUs; {placement}");
        foreach (var worker in _workers)
        {
            worker.Start();
        }

        _merger.Start();
    }

    /// <summary>Capture thread: takes one frame into the current window and hands it to its flow's worker.</summary>
    public void OnFrame(in CapturedFrame frame)
    {
        ThrowIfFaulted();
        CountFrameRead();
        uint hash = 0;
        FrameDecodeHint hint;
        bool dns = _workers.Length == 1
            ? FlowDispatch.Classify(in frame, _options.Ports, out hint)
            : FlowDispatch.Classify(in frame, _options.Ports, _flowSeed, out hash, out hint);
        long time = frame.TimestampNanoseconds;
        if (dns)
        {
            if (_cutter.EndsBefore(time))
            {
                EndWindow(partial: false, MarkerWindowEnd);
            }

            _cutter.Enter();
        }

        int w = _workers.Length == 1 ? 0 : FlowDispatch.WorkerOf(hash, _workers.Length);
        if (!Send(w, in frame, in hint))
        {
            _windowDrops++;
            return;
        }

        if (!dns)
        {
            return;
        }

        CountDnsPacket();
        if (_cutter.Count(time))
        {
            EndWindow(partial: false, MarkerWindowEnd);
        }
    }

    /// <summary>
    /// Capture thread, live sources: no frame for a while. A time window whose end (plus a second for frames still
    /// in flight) has passed on the wall clock is closed, so a server that goes quiet still reports its last window.
    /// </summary>
    public void OnIdle(long nowNanoseconds)
    {
        ThrowIfFaulted();
        if (_anyPendingMarker)
        {
            FlushAllPendingMarkers();
        }

        if (_cutter.IsOverdue(nowNanoseconds))
        {
            EndWindow(partial: false, MarkerWindowEnd);
        }
    }

    /// <summary>Capture thread: one pass over a looped file is over (streams are finished; fragments dropped).</summary>
    public void EndOfPass()
    {
        foreach (var worker in _workers)
        {
            SendMarker(worker.Index, MarkerEndOfPass, 0);
        }
    }

    /// <summary>
    /// Capture thread: the input is over (end of file, interruption). Workers finish their TCP streams, the last
    /// window is written marked partial (when it holds anything), and every thread ends. Rethrows a failure of a
    /// worker or of the sink.
    /// </summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (!_started)
        {
            Start();
        }

        EndWindow(partial: true, MarkerFinish);
        FlushAllPendingMarkers(wait: true);
        foreach (var worker in _workers)
        {
            worker.Join();
        }

        _merger.Join();
        ThrowIfFaulted();
    }

    /// <summary>The capture statistics of every worker's pipeline summed, plus the drops of the dispatch. After <see cref="Complete"/>.</summary>
    public CaptureStatistics Statistics()
    {
        var total = new CaptureStatistics();
        long ringDrops = _dispatchDrops;
        foreach (var worker in _workers)
        {
            total.Add(worker.Pipeline.Statistics);
            ringDrops += worker.Ring.Dropped;
        }

        total.RecordDrops(total.KernelDropped, total.InterfaceDropped, ringDrops);
        return total;
    }

    /// <summary>Stops every thread without writing anything more (after a failure, or when abandoning a run).</summary>
    public void Dispose()
    {
        _stopping = true;
        _mergerSignal.Release();
        if (_started)
        {
            foreach (var worker in _workers)
            {
                worker.Join();
            }

            _merger.Join();
        }

        foreach (var worker in _workers)
        {
            worker.Signals.Dispose();
        }

        _mergerSignal.Dispose();
    }

    private int CpuOf(int worker) => _cpus[(1 + worker) % _cpus.Count];

    private void ThrowIfFaulted() => Volatile.Read(ref _fault)?.Throw();

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _fault, ExceptionDispatchInfo.Capture(e), null);
        _stopping = true;
        _mergerSignal.Release();
    }

    /// <summary>Closes the current window: its summary goes to the merger, a marker to every worker.</summary>
    private void EndWindow(bool partial, int marker)
    {
        long drops = _windowDrops;
        if (_options.ExternalDrops is { } external)
        {
            long seen = external();
            drops += Math.Max(0, seen - _externalDropsSeen);
            _externalDropsSeen = Math.Max(seen, _externalDropsSeen);
        }

        if (marker == MarkerWindowEnd && Volatile.Read(ref _pendingSwap) is not null)
        {
            marker = TakePendingSwap(); // the next window is reduced by the new set
        }

        var summary = _cutter.Close(partial, drops);
        _windows.Enqueue((summary, System.Diagnostics.Stopwatch.GetTimestamp()));
        foreach (var worker in _workers)
        {
            SendMarker(worker.Index, marker, summary.Sequence);
        }

        _windowDrops = 0;
    }

    private bool Send(int w, in CapturedFrame frame, in FrameDecodeHint hint)
    {
        var worker = _workers[w];
        if (_anyPendingMarker && worker.PendingMarkers.Count > 0 && !FlushPendingMarkers(worker, wait: !_live))
        {
            _dispatchDrops++;
            return false; // live: the worker is behind its window marker; the frame cannot overtake it
        }

        var ring = worker.Ring;
        if (_live)
        {
            if (!ring.TryWrite(in frame, in hint))
            {
                return false;
            }
        }
        else if (!ring.TryWriteOrRetry(in frame, in hint))
        {
            WaitForRoom(worker, in frame, in hint);
        }

        worker.Signals.WakeConsumer(ring);
        return true;
    }

    private void WaitForRoom(Worker worker, in CapturedFrame frame, in FrameDecodeHint hint)
    {
        // A file is read faster than a worker reduces it. Waiting for the single slot the worker frees next would
        // keep both threads on the ring's cursors for every frame (spinning, and the cursors' cache line moving
        // between the two CPUs): the capture thread sleeps instead until the worker has emptied half its ring,
        // which holds milliseconds of work, so the worker never runs dry while it sleeps.
        int resume = worker.Ring.Slots / 2;
        while (worker.Ring.Count > resume)
        {
            ThrowIfFaulted();
            worker.Signals.WaitForRoom(worker.Ring, resume);
        }

        var spin = default(SpinWait);
        while (!worker.Ring.TryWriteOrRetry(in frame, in hint))
        {
            // Slots are free: the arena (large frames) is the limit; the worker frees it as it reads.
            ThrowIfFaulted();
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }

    private void SendMarker(int w, int kind, long value)
    {
        var worker = _workers[w];
        if (worker.PendingMarkers.Count == 0 && worker.Ring.TryWriteMarker(kind, value))
        {
            worker.Signals.WakeConsumer();
            return;
        }

        worker.PendingMarkers.Enqueue((kind, value));
        _anyPendingMarker = true;
        if (!_live)
        {
            FlushPendingMarkers(worker, wait: true);
        }
    }

    private void FlushAllPendingMarkers(bool wait = false)
    {
        bool any = false;
        foreach (var worker in _workers)
        {
            any |= !FlushPendingMarkers(worker, wait);
        }

        _anyPendingMarker = any;
    }

    /// <summary>Writes a worker's held-back markers; returns whether none is left.</summary>
    private bool FlushPendingMarkers(Worker worker, bool wait)
    {
        var spin = default(SpinWait);
        while (worker.PendingMarkers.TryPeek(out var marker))
        {
            if (worker.Ring.TryWriteMarker(marker.Kind, marker.Value))
            {
                worker.Signals.WakeConsumer();
                worker.PendingMarkers.Dequeue();
                spin.Reset();
                continue;
            }

            if (!wait)
            {
                return false;
            }

            ThrowIfFaulted();
            spin.SpinOnce(sleep1Threshold: 20);
        }

        return true;
    }

    private void MergeLoop()
    {
        var sets = new Reducer[_workers.Length][];
        try
        {
            while (!_stopping)
            {
                if (!_windows.TryPeek(out var closed) || !AllWorkersDone(closed.Summary.Sequence))
                {
                    _mergerSignal.Wait(100);
                    continue;
                }

                _windows.TryDequeue(out _);
                var (window, windowEndTimestamp) = closed;
                SwitchSinkIfDue(window.Sequence);
                long messages = 0;
                for (int i = 0; i < _workers.Length; i++)
                {
                    _workers[i].Done.TryDequeue(out var handoff);
                    sets[i] = handoff.Set;
                    messages += handoff.Messages;
                }

                var merged = sets[0];
                for (int i = 1; i < sets.Length; i++)
                {
                    for (int r = 0; r < merged.Length; r++)
                    {
                        merged[r].Merge(sets[i][r]);
                    }
                }

                // Only the window Complete closes is partial: it is the last one.
                bool last = window.Partial;
                if (window.Packets > 0 || messages > 0)
                {
                    _sink.OnWindow(window with { Messages = messages }, merged);
                    Interlocked.Increment(ref _windowsWritten);
                    RecordEmitLatency(windowEndTimestamp);
                }

                for (int i = 0; i < sets.Length; i++)
                {
                    foreach (var reducer in sets[i])
                    {
                        reducer.Clear();
                    }

                    _workers[i].Spare.Enqueue(sets[i]);
                    sets[i] = null!;
                }

                if (last)
                {
                    _sink.Complete();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private bool AllWorkersDone(long sequence)
    {
        foreach (var worker in _workers)
        {
            if (!worker.Done.TryPeek(out var handoff) || handoff.Sequence != sequence)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A worker's partial results for one window.</summary>
    private readonly record struct Handoff(long Sequence, Reducer[] Set, long Messages);

    /// <summary>One worker thread: its ring, its pipeline, its live reducers and spare sets.</summary>
    private sealed partial class Worker
    {
        private readonly MonitorEngine _engine;
        private readonly Thread _thread;
        private Reducer[] _live;
        private IReadOnlyList<Reducer> _prototypes;
        // Written for every message, so kept off this object, whose fields the capture thread reads for every frame
        // (Ring, Signals, PendingMarkers): sharing a cache line with them cost both threads a miss per frame.
        private readonly MessageState _state = new();
        private readonly bool _countMalformed;
        private int _spareSets;
        private WorkerSink _sink;

        public Worker(MonitorEngine engine, int index, IReadOnlyList<Reducer> prototypes)
        {
            _engine = engine;
            Index = index;
            var options = engine._options;
            _countMalformed = options.CountMalformed; // the engine's own fields change with every frame: read once
            Ring = new FrameRing(options.RingSlots, options.SlotCapacity, options.RingBytes);
            Pipeline = new DnsCapturePipeline(options.Ports);
            _prototypes = prototypes;
            _live = [.. prototypes.Select(p => p.CreateEmpty())];
            _sink = new WorkerSink(this);
            _thread = new Thread(Run) { Name = $"ratadns worker {index}", IsBackground = true };
        }

        public int Index { get; }

        public FrameRing Ring { get; }

        /// <summary>How the capture thread and this worker wake each other when the ring is full or empty.</summary>
        public RingSignals Signals { get; } = new();

        public DnsCapturePipeline Pipeline { get; }

        /// <summary>Markers the capture thread could not write yet (capture thread only).</summary>
        public Queue<(int Kind, long Value)> PendingMarkers { get; } = new();

        /// <summary>Sets handed to the merger, in window order.</summary>
        public ConcurrentQueue<Handoff> Done { get; } = new();

        /// <summary>Empty sets given back by the merger.</summary>
        public ConcurrentQueue<Reducer[]> Spare { get; } = new();

        public void Start() => _thread.Start();

        public void Join()
        {
            if (_thread.IsAlive)
            {
                _thread.Join();
            }
        }

        /// <summary>Feeds the message to the reducers; returns its parse status when known (see <see cref="MonitorEngineOptions.CountMalformed"/>).</summary>
        public DnsParseStatus Observe(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            var state = _state;
            state.Cache.Clear();
            var view = new DnsPacketView(
                message, timestampNanoseconds, packet.Transport, packet.SourceAddress, packet.SourcePort, packet.DestinationAddress, packet.DestinationPort, ref state.Cache)
            {
                Encryption = packet.Encryption,
                ServerQueryTimeNanoseconds = packet.ServerQueryTimeNanoseconds,
            };
            Observe(in view);
            return ParseStatusOf(in view, state.Cache.WalkedStatus, _countMalformed);
        }

        private void Observe(in DnsPacketView packet)
        {
            _state.Messages++;
            foreach (var reducer in _live)
            {
                reducer.Observe(in packet);
            }
        }

        private void Run()
        {
            try
            {
                if (_engine._cpus.Count >= 2)
                {
                    ThreadAffinity.TryPinCurrentThread(_engine.CpuOf(Index));
                }

                if (_engine._scan is { } scan)
                {
                    Scan(scan);
                    return;
                }

                var idle = default(SpinWait);
                int sinceStopCheck = 0;
                while (true)
                {
                    // The stop flag lives on the engine beside fields the capture thread writes for every frame:
                    // reading it for every frame shared their cache line (runs were bimodal, 3.6 s vs 5-6 s of CPU).
                    // It is read when the ring is empty, and every StopCheckFrames frames while it is not.
                    if (!Ring.TryRead(out var frame, out var hint))
                    {
                        if (_engine._stopping)
                        {
                            break;
                        }

                        if (idle.Count < IdleSpins)
                        {
                            idle.SpinOnce(sleep1Threshold: -1);
                        }
                        else
                        {
                            Signals.WaitForFrames(Ring);
                        }

                        continue;
                    }

                    if (++sinceStopCheck == StopCheckFrames)
                    {
                        sinceStopCheck = 0;
                        if (_engine._stopping)
                        {
                            break;
                        }
                    }

                    idle.Reset();
                    if (!FrameRing.IsMarker(in frame, out int kind, out long value))
                    {
                        Pipeline.OnFrame(in frame, in hint, ref _sink);
                        Ring.AdvanceRead();
                        Signals.WakeProducer(Ring);
                        continue;
                    }

                    Ring.AdvanceRead();
                    Signals.WakeProducer(Ring);
                    switch (kind)
                    {
                        case MarkerEndOfPass:
                            Pipeline.EndOfPass(ref _sink);
                            break;

                        case MarkerWindowEnd:
                            HandOver(value);
                            break;

                        case MarkerWindowEndSwap:
                            HandOver(value);
                            TakeNextGeneration();
                            break;

                        case MarkerFinish:
                            Pipeline.Finish(ref _sink);
                            HandOver(value, last: true);
                            return;
                    }
                }
            }
            catch (Exception e)
            {
                _engine.Fail(e);
            }
        }

        /// <summary>
        /// Moves the window's partial state into a spare set and gives it to the merger; the <paramref name="last"/>
        /// window's live set goes itself, as nothing is reduced after it (a short run then makes no spare set at all).
        /// </summary>
        private void HandOver(long sequence, bool last = false)
        {
            if (last)
            {
                Done.Enqueue(new Handoff(sequence, _live, _state.Messages));
                _live = [];
                _state.Messages = 0;
                _engine._mergerSignal.Release();
                return;
            }

            Reducer[]? set;
            var wait = default(SpinWait);
            while (!TryTakeOwnSpare(out set))
            {
                if (_engine._stopping)
                {
                    return;
                }

                if (_spareSets < MaxSpareSetsPerWorker)
                {
                    // The first window's end, or the merger is behind: one more set, rather than stalling this worker.
                    set = NewOwnSet();
                    _spareSets++;
                    break;
                }

                wait.SpinOnce(sleep1Threshold: 10);
            }

            for (int r = 0; r < _live.Length; r++)
            {
                if (_live[r].KeepsStateAcrossWindows)
                {
                    set[r].Merge(_live[r]);
                    _live[r].Reset();
                }
                else
                {
                    // The spare is empty (the merger cleared it): exchange the two instances, nothing is copied.
                    (set[r], _live[r]) = (_live[r], set[r]);
                }
            }

            Done.Enqueue(new Handoff(sequence, set, _state.Messages));
            _state.Messages = 0;
            _engine._mergerSignal.Release();
        }
    }

    /// <summary>
    /// What a worker writes for every message (its count and the view's cache), alone on its cache lines: a line of
    /// padding on each side keeps any other object, and the fields other threads read, off them.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private sealed class MessageState
    {
#pragma warning disable IDE0044, IDE0051, CS0169 // padding: never read or written
        private CacheLinePadding _before;
#pragma warning restore IDE0044, IDE0051, CS0169
        public long Messages;
        public DnsPacketCache Cache;
#pragma warning disable IDE0044, IDE0051, CS0169
        private CacheLinePadding _after;
#pragma warning restore IDE0044, IDE0051, CS0169
    }

    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private struct CacheLinePadding
    {
    }

    /// <summary>Feeds every DNS message a worker's pipeline finds to that worker's reducers.</summary>
    private readonly struct WorkerSink(Worker worker) : IDnsMessageHandler
    {
        public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            return worker.Observe(in packet, message, timestampNanoseconds);
        }
    }
}
