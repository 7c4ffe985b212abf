using System.Diagnostics;
using RataDns.Capture;
using RataDns.Capture.Pipeline;

namespace RataDns.Engine;

/// <summary>
/// Reading a capture file on the worker itself (<see cref="ScanFile"/>): no capture thread, no ring, no copy.
/// </summary>
/// <remarks>
/// <para>
/// With one worker, the capture thread's work for a file (read a frame, classify it, copy it into the ring, wake the
/// worker) costs more than light reducer sets themselves: a 10M-packet replay with QueriesPerSecond + TopNQ took
/// 4.1 CPU seconds through the ring and 3.0 on the worker alone (bench/README.md). The worker then maps the file, reads
/// every frame in place, classifies it and cuts windows exactly as the capture thread would (a
/// <see cref="WindowCutter"/> of its own), and reduces it at once; the merger and the results are those of the ring
/// path, byte for byte. Heavier sets gain more from the second core a capture thread brings, and several workers
/// need the dispatch: both keep the ring path (the caller chooses; see MonitorCommand).
/// </para>
/// <para>
/// Every <see cref="ScanCheckFrames"/> frames the worker publishes the engine's frame and packet counters and the
/// read's progress, and stops when asked to (cancellation) or when another thread failed.
/// </para>
/// </remarks>
public sealed partial class MonitorEngine
{
    /// <summary>Frames between a scanning worker's checkpoints (a power of two): counters, progress, stop.</summary>
    private const int ScanCheckFrames = 4096;

    private CaptureFileScan? _scan;
    private CaptureFileReader? _scanReader;

    /// <summary>
    /// Reads the file of <paramref name="scan"/> to its end (every pass) on the engine's only worker, in place of
    /// <see cref="Start"/> and <see cref="OnFrame"/>, then completes the engine as <see cref="Complete"/> does (the last
    /// window is written partial). Returns what stopped the read early (a damaged record), or null; the frames before
    /// it are processed either way. Rethrows a failure of the worker or of the sink; a file that cannot be opened or is
    /// not a capture throws before any thread starts.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine has more than one worker, or was started.</exception>
    public CaptureReadError? ScanFile(CaptureFileScan scan)
    {
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentOutOfRangeException.ThrowIfLessThan(scan.Passes, 1);
        if (_started || _workers.Length != 1)
        {
            throw new InvalidOperationException("Only an engine of one worker, not started, reads a file itself.");
        }

        // Opened here, so a file that is missing or not a capture fails on the caller's thread, before any thread runs.
        _scanReader = CaptureFileReader.Open(scan.Path);
        _scan = scan;
        // No capture thread to keep a CPU for: the worker is pinned wherever a CPU is allowed.
        _cpus = _options.PinThreads && ThreadAffinity.AllowedCpus() is { Count: >= 2 } cpus ? cpus : [];
        Start();
        _completed = true;
        _workers[0].Join();
        _merger.Join();
        ThrowIfFaulted();
        return _workers[0].ScanError;
    }

    private sealed partial class Worker
    {
        private WindowCutter _cutter;

        /// <summary>Why the worker's read of the file stopped early, or null.</summary>
        public CaptureReadError? ScanError { get; private set; }

        /// <summary>Reads the whole file (every pass), reducing every frame; hands every window over.</summary>
        private void Scan(CaptureFileScan scan)
        {
            var engine = _engine;
            _cutter = new WindowCutter(engine._durationNanoseconds, engine._packetCount);
            var handler = new ScanHandler(this, scan);
            var reader = engine._scanReader!;
            engine._scanReader = null;
            try
            {
                for (int pass = 0; ; pass++)
                {
                    try
                    {
                        reader.ReadAll(ref handler);
                    }
                    catch (ScanStoppedException)
                    {
                        break;
                    }

                    handler.EndOfPass(reader.Length);
                    if (reader.Error is { } error)
                    {
                        ScanError = error;
                        break;
                    }

                    if (pass + 1 == scan.Passes)
                    {
                        break;
                    }

                    Pipeline.EndOfPass(ref _sink);
                    reader.Dispose();
                    reader = CaptureFileReader.Open(scan.Path);
                }
            }
            finally
            {
                reader.Dispose();
            }

            Pipeline.Finish(ref _sink);
            EndScanWindow(partial: true);
        }

        /// <summary>Closes the window in progress: its summary and the worker's set go to the merger.</summary>
        private void EndScanWindow(bool partial)
        {
            var engine = _engine;
            bool swap = !partial && Volatile.Read(ref engine._pendingSwap) is not null && engine.QueueScanSwap(_cutter.Sequence + 1);
            var summary = _cutter.Close(partial, drops: 0);
            engine._windows.Enqueue((summary, Stopwatch.GetTimestamp()));
            HandOver(summary.Sequence, last: partial);
            if (swap)
            {
                TakeNextGeneration();
            }
        }

        /// <summary>The scanning worker's frame handler: classifies every frame, cuts windows, reduces it.</summary>
        private struct ScanHandler(Worker worker, CaptureFileScan scan) : ICaptureFrameHandler
        {
            private readonly DnsPortSet _ports = worker._engine._options.Ports;
            private long _frames;
            private long _dnsPackets;
            private long _passStart;

            public void OnFrame(in CapturedFrame frame)
            {
                if ((_frames & (ScanCheckFrames - 1)) == 0)
                {
                    Checkpoint(_passStart + frame.FileOffset);
                }

                _frames++;
                bool dns = FlowDispatch.Classify(in frame, _ports, out var hint);
                long time = frame.TimestampNanoseconds;
                if (dns)
                {
                    if (worker._cutter.EndsBefore(time))
                    {
                        worker.EndScanWindow(partial: false);
                    }

                    worker._cutter.Enter();
                }

                worker.Pipeline.OnFrame(in frame, in hint, ref worker._sink);
                if (!dns)
                {
                    return;
                }

                _dnsPackets++;
                if (worker._cutter.Count(time))
                {
                    worker.EndScanWindow(partial: false);
                }
            }

            /// <summary>The end of one pass over the file (<paramref name="length"/> bytes): counters and progress catch up.</summary>
            public void EndOfPass(long length)
            {
                _passStart += length;
                Publish(_passStart);
            }

            private readonly void Checkpoint(long position)
            {
                Publish(position);
                if (worker._engine._stopping || scan.Cancellation.IsCancellationRequested)
                {
                    throw new ScanStoppedException(); // what was read is still reported (not after a failure elsewhere)
                }
            }

            private readonly void Publish(long position)
            {
                var engine = worker._engine;
                Volatile.Write(ref engine._framesRead, _frames);
                Volatile.Write(ref engine._dnsPacketsTotal, _dnsPackets);
                scan.Progress?.Invoke(_frames, position);
            }
        }
    }

    /// <summary>Ends the scanning worker's read of the file at a checkpoint.</summary>
    private sealed class ScanStoppedException : Exception
    {
    }

    /// <summary>
    /// The scanning worker, at the boundary before window <paramref name="next"/>: queues a pending reload's set and the
    /// sink switch from that window on; returns whether there was one.
    /// </summary>
    private bool QueueScanSwap(long next)
    {
        var swap = Interlocked.Exchange(ref _pendingSwap, null);
        if (swap is null)
        {
            return false;
        }

        _workers[0].NextGenerations.Enqueue(swap.Generations[0]);
        _sinkSwitches.Enqueue(new SinkSwitch(next, swap.Sink, swap.Switched));
        return true;
    }
}

/// <summary>A capture file for <see cref="MonitorEngine.ScanFile"/> to read.</summary>
/// <param name="Path">The pcap or pcapng file.</param>
/// <param name="Passes">How many times to read it (1 or more; streams end and fragments are dropped between passes).</param>
/// <param name="Cancellation">Stops the read (within a few thousand frames); what was read is still reported.</param>
/// <param name="Progress">
/// Called now and then on the worker's thread with the frames read and the bytes of input behind them (every pass).
/// </param>
public sealed record CaptureFileScan(string Path, int Passes = 1, CancellationToken Cancellation = default, Action<long, long>? Progress = null);
