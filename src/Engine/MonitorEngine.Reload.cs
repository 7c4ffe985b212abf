using System.Collections.Concurrent;

using RataDns.Reducers;

namespace RataDns.Engine;

/// <summary>
/// Replacing the reducer set of a running engine (a configuration reload) without stopping the capture.
/// </summary>
/// <remarks>
/// <para>
/// A request (<see cref="ReplaceReducers"/>, from any thread) waits until the capture thread closes the window in
/// progress. At that boundary the capture thread writes a swap marker instead of the plain window-end marker: each
/// worker hands its old set over for the closing window exactly as at any boundary, then takes the new set it was
/// given before the marker. The closing window is therefore reduced entirely by the old set and every later window
/// entirely by the new one: each packet is counted by exactly one set, none is lost and none is counted twice.
/// </para>
/// <para>
/// The merger switches sinks at the same boundary: before the first window of the new set it completes the old sink,
/// calls the request's callback (where the caller closes the old outputs and opens the new ones, on the merger
/// thread, which owns them) and writes later windows to the new sink. Sets of the old reducers that come back from the
/// merger after the swap are dropped by the worker, not reused. State a reducer keeps across windows (pending queries
/// of a latency reducer) is not carried over to the new set: the new set starts empty.
/// </para>
/// </remarks>
public sealed partial class MonitorEngine
{
    /// <summary>A window-end marker after which the worker takes its next reducer set.</summary>
    private const int MarkerWindowEndSwap = 4;

    private readonly ConcurrentQueue<SinkSwitch> _sinkSwitches = new();
    private ReducerSwap? _pendingSwap;
    private long _reducerSwaps;

    /// <summary>Reducer sets replaced so far (swaps that took effect at a window boundary; read from any thread).</summary>
    public long ReducerSwaps => Interlocked.Read(ref _reducerSwaps);

    /// <summary>
    /// Any thread: from the next window boundary on, windows are reduced by copies of <paramref name="prototypes"/>
    /// (made with <see cref="Reducer.CreateEmpty"/>) and written to <paramref name="sink"/>; the window in progress
    /// finishes with the current set. A request not yet applied is replaced by a later one (returns true then). If the
    /// input ends first, the request is dropped and <paramref name="switched"/> is never called.
    /// </summary>
    /// <param name="prototypes">The new reducers; the instances themselves are not used for packets.</param>
    /// <param name="sink">Where the windows of the new set go.</param>
    /// <param name="switched">
    /// Called on the merger thread after the old sink's <see cref="IWindowResultSink.Complete"/> and before the new
    /// sink's first window, with the sequence number of that window.
    /// </param>
    public bool ReplaceReducers(IReadOnlyList<Reducer> prototypes, IWindowResultSink sink, Action<long>? switched = null)
    {
        ArgumentNullException.ThrowIfNull(prototypes);
        ArgumentNullException.ThrowIfNull(sink);

        // Every worker's sets are made here, on the caller's thread: the capture thread only hands them over.
        var generations = new WorkerGeneration[_workers.Length];
        for (int i = 0; i < generations.Length; i++)
        {
            generations[i] = new WorkerGeneration(
                prototypes,
                [.. prototypes.Select(p => p.CreateEmpty())],
                [.. prototypes.Select(p => p.CreateEmpty())]);
        }

        return Interlocked.Exchange(ref _pendingSwap, new ReducerSwap(generations, sink, switched)) is not null;
    }

    /// <summary>
    /// Capture thread, at a boundary between two windows: queues the pending set to every worker and the sink switch
    /// to the merger, and returns the marker that makes the workers change sets.
    /// </summary>
    private int TakePendingSwap()
    {
        var swap = Interlocked.Exchange(ref _pendingSwap, null);
        if (swap is null)
        {
            return MarkerWindowEnd;
        }

        for (int i = 0; i < _workers.Length; i++)
        {
            // Enqueued before the marker is written to the ring: the ring's release makes it visible to the worker.
            _workers[i].NextGenerations.Enqueue(swap.Generations[i]);
        }

        _sinkSwitches.Enqueue(new SinkSwitch(_cutter.Sequence + 1, swap.Sink, swap.Switched));
        return MarkerWindowEndSwap;
    }

    /// <summary>Merger thread: before window <paramref name="sequence"/>, changes to the sink of a swap due by then.</summary>
    private void SwitchSinkIfDue(long sequence)
    {
        while (_sinkSwitches.TryPeek(out var next) && next.FromSequence <= sequence)
        {
            _sinkSwitches.TryDequeue(out _);
            _sink.Complete();
            next.Switched?.Invoke(next.FromSequence);
            _sink = next.Sink;
            Interlocked.Increment(ref _reducerSwaps);
        }
    }

    /// <summary>A request to change reducer sets: each worker's new sets and the sink of their windows.</summary>
    private sealed record ReducerSwap(WorkerGeneration[] Generations, IWindowResultSink Sink, Action<long>? Switched);

    /// <summary>The merger changes to <paramref name="Sink"/> before window <paramref name="FromSequence"/>.</summary>
    private readonly record struct SinkSwitch(long FromSequence, IWindowResultSink Sink, Action<long>? Switched);

    /// <summary>One worker's reducers of a new configuration: the prototypes, the live set and one spare set.</summary>
    private sealed record WorkerGeneration(IReadOnlyList<Reducer> Prototypes, Reducer[] Live, Reducer[] Spare);

    private sealed partial class Worker
    {
        /// <summary>The sets (arrays) of the current reducers: a set of an older configuration is not reused.</summary>
        private readonly HashSet<Reducer[]> _ownSets = new(ReferenceEqualityComparer.Instance);

        /// <summary>Reducer sets to take at the next swap markers, in order (capture thread writes, worker reads).</summary>
        public ConcurrentQueue<WorkerGeneration> NextGenerations { get; } = new();

        /// <summary>A new empty set of the current reducers, known as one of this worker's own.</summary>
        private Reducer[] NewOwnSet()
        {
            Reducer[] set = [.. _prototypes.Select(p => p.CreateEmpty())];
            _ownSets.Add(set);
            return set;
        }

        /// <summary>Takes a spare set of the current reducers; sets of replaced reducers are dropped on the way.</summary>
        private bool TryTakeOwnSpare(out Reducer[] set)
        {
            while (Spare.TryDequeue(out set!))
            {
                if (_ownSets.Contains(set))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>After handing over the last window of the old set: the new reducers become live.</summary>
        private void TakeNextGeneration()
        {
            if (!NextGenerations.TryDequeue(out var next))
            {
                throw new InvalidOperationException("A reducer swap marker without a reducer set.");
            }

            _prototypes = next.Prototypes;
            _live = next.Live;
            _ownSets.Clear();
            _ownSets.Add(next.Spare);
            Spare.Enqueue(next.Spare);
            _spareSets = 1;
        }
    }
}
