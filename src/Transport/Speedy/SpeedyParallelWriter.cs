using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using RataDns.DnsWire;

namespace RataDns.Transport.Speedy;

/// <summary>
/// <see cref="SpeedyStreamWriter"/> on several threads, for reading a capture file faster than one core formats JSON:
/// the caller's thread only copies each message (addresses, bytes, time) into a batch; formatter threads, each with its
/// own <see cref="SpeedyMessageWriter"/>, turn whole batches into framed JSON; batches reach the stream in the order
/// their messages came, so the output is byte for byte that of the single-threaded writer.
/// </summary>
/// <remarks>
/// <para>
/// A message's parse status is known only once it is formatted, after <see cref="Write"/> returned: Write answers
/// <see cref="DnsParseStatus.Ok"/> and the real statuses are tallied in <see cref="StatusCounts"/> (complete after
/// <see cref="Flush"/>). Batches are few and reused (at most four per formatter in flight): a caller faster than the
/// formatters waits for one to come back, so memory stays bounded and nothing is allocated per message once every
/// batch has grown to its working size.
/// </para>
/// <para>
/// A batch waits until it holds <see cref="BatchMessages"/> messages, so output lags input by up to that many: meant
/// for files, not for a live source whose few messages should appear at once. A failure to write (the reader of the
/// output went away) stops the writing and is thrown by the next <see cref="Write"/> or <see cref="Flush"/>.
/// </para>
/// </remarks>
public sealed class SpeedyParallelWriter : IDisposable
{
    /// <summary>Messages per batch: enough that handing a batch over costs nothing per message.</summary>
    public const int BatchMessages = 1024;

    private const int BatchesPerThread = 4;

    private readonly Stream _output;
    private readonly SpeedyOptions _options;
    private readonly BlockingCollection<Batch> _work = new();
    private readonly BlockingCollection<Batch> _free = new();
    private readonly Batch?[] _done;
    private readonly Thread[] _threads;
    private readonly object _commitLock = new();
    private readonly long[] _statuses = new long[16];
    private Batch? _current;
    private long _submitted;
    private long _written; // batches written, in order (under _commitLock)
    private ExceptionDispatchInfo? _fault;
    private bool _disposed;

    /// <summary>Starts <paramref name="threads"/> formatter threads (at least 1) writing to <paramref name="output"/>.</summary>
    public SpeedyParallelWriter(Stream output, SpeedyOptions options, int threads)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _output = output;
        _options = options;
        int batches = threads * BatchesPerThread;
        _done = new Batch?[batches];
        for (int i = 0; i < batches; i++)
        {
            _free.Add(new Batch());
        }

        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(FormatLoop) { Name = $"ratadns json {i}", IsBackground = true };
            _threads[i].Start();
        }
    }

    /// <summary>Messages written to the stream so far (all of them after <see cref="Flush"/>).</summary>
    public long MessagesWritten { get; private set; }

    /// <summary>Messages written whose parse status was not Ok.</summary>
    public long Malformed { get; private set; }

    /// <summary>Messages written by parse status (indexed by <see cref="DnsParseStatus"/>); complete after <see cref="Flush"/>.</summary>
    public ReadOnlySpan<long> StatusCounts => _statuses;

    /// <summary>
    /// Copies one DNS message into the current batch (handing the batch to a formatter when it is full) and returns
    /// <see cref="DnsParseStatus.Ok"/>: the message's own status goes to <see cref="StatusCounts"/> once formatted.
    /// </summary>
    public DnsParseStatus Write(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message, long timestampNanoseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Volatile.Read(ref _fault)?.Throw();
        var batch = _current ??= _free.Take();
        if (!batch.TryAdd(source, destination, message, timestampNanoseconds))
        {
            Submit();
            batch = _current = _free.Take();
            batch.Add(source, destination, message, timestampNanoseconds); // an empty batch grows to take any message
        }

        if (batch.Count == BatchMessages)
        {
            Submit();
        }

        return DnsParseStatus.Ok;
    }

    /// <summary>Hands over the last batch, waits until every message is written, flushes the stream.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_current is not null)
        {
            Submit();
        }

        lock (_commitLock)
        {
            while (_written < _submitted)
            {
                Monitor.Wait(_commitLock);
            }
        }

        Volatile.Read(ref _fault)?.Throw();
        _output.Flush();
    }

    /// <summary>Writes what is left (unless writing already failed) and stops the formatter threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (_fault is null)
            {
                Flush();
            }
        }
        finally
        {
            _disposed = true;
            _work.CompleteAdding();
            foreach (var thread in _threads)
            {
                thread.Join();
            }

            _work.Dispose();
            _free.Dispose();
        }
    }

    private void Submit()
    {
        var batch = _current!;
        _current = null;
        batch.Sequence = _submitted++;
        _work.Add(batch);
    }

    private void FormatLoop()
    {
        var messages = new SpeedyMessageWriter(_options);
        foreach (var batch in _work.GetConsumingEnumerable())
        {
            if (Volatile.Read(ref _fault) is null)
            {
                try
                {
                    batch.Format(messages, _options.Framing);
                }
                catch (Exception e)
                {
                    Fail(e);
                }
            }

            Commit(batch);
        }
    }

    /// <summary>Marks <paramref name="batch"/> formatted; writes it and every following formatted batch when its turn has come.</summary>
    private void Commit(Batch batch)
    {
        lock (_commitLock)
        {
            _done[batch.Sequence % _done.Length] = batch;
            while (_done[_written % _done.Length] is { } next && next.Sequence == _written)
            {
                _done[_written % _done.Length] = null;
                if (_fault is null)
                {
                    try
                    {
                        _output.Write(next.Output, 0, next.OutputLength);
                        MessagesWritten += next.Count;
                        for (int i = 0; i < _statuses.Length; i++)
                        {
                            _statuses[i] += next.Statuses[i];
                        }

                        Malformed += next.Count - next.Statuses[(int)DnsParseStatus.Ok];
                    }
                    catch (Exception e)
                    {
                        Fail(e);
                    }
                }

                _written++;
                next.Clear();
                _free.Add(next);
            }

            Monitor.PulseAll(_commitLock);
        }
    }

    private void Fail(Exception e) => Interlocked.CompareExchange(ref _fault, ExceptionDispatchInfo.Capture(e), null);

    /// <summary>Up to <see cref="BatchMessages"/> messages copied in, then their framed JSON.</summary>
    private sealed class Batch
    {
        private readonly Entry[] _entries = new Entry[BatchMessages];
        private byte[] _input = new byte[256 << 10];
        private int _inputLength;

        public long Sequence { get; set; }

        public int Count { get; private set; }

        public byte[] Output { get; private set; } = new byte[512 << 10];

        public int OutputLength { get; private set; }

        public long[] Statuses { get; } = new long[16];

        public bool TryAdd(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message, long timestamp)
        {
            int needed = source.Length + destination.Length + message.Length;
            if (_inputLength + needed > _input.Length)
            {
                return false;
            }

            ref var entry = ref _entries[Count++];
            entry.Timestamp = timestamp;
            entry.Source = Append(source);
            entry.Destination = Append(destination);
            entry.Message = Append(message);
            return true;
        }

        public void Add(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message, long timestamp)
        {
            int needed = source.Length + destination.Length + message.Length;
            if (_inputLength + needed > _input.Length)
            {
                var input = _input;
                Array.Resize(ref input, Math.Max(_input.Length * 2, _inputLength + needed));
                _input = input;
            }

            TryAdd(source, destination, message, timestamp);
        }

        public void Format(SpeedyMessageWriter messages, SpeedyFraming framing)
        {
            Span<byte> scratch = stackalloc byte[SpeedyStreamWriter.FrameScratchLength];
            for (int i = 0; i < Count; i++)
            {
                ref readonly var entry = ref _entries[i];
                var status = messages.Write(Slice(entry.Source), Slice(entry.Destination), Slice(entry.Message), entry.Timestamp);
                Statuses[(int)status & 15]++;
                var json = messages.Json;
                AppendOutput(SpeedyStreamWriter.FrameStart(framing, json.Length, scratch));
                AppendOutput(json);
                AppendOutput(SpeedyStreamWriter.FrameEnd(framing));
            }
        }

        public void Clear()
        {
            Count = 0;
            _inputLength = 0;
            OutputLength = 0;
            Array.Clear(Statuses);
        }

        private (int Start, int Length) Append(ReadOnlySpan<byte> bytes)
        {
            int start = _inputLength;
            bytes.CopyTo(_input.AsSpan(start));
            _inputLength += bytes.Length;
            return (start, bytes.Length);
        }

        private ReadOnlySpan<byte> Slice((int Start, int Length) part) => _input.AsSpan(part.Start, part.Length);

        private void AppendOutput(ReadOnlySpan<byte> bytes)
        {
            if (OutputLength + bytes.Length > Output.Length)
            {
                var output = Output;
                Array.Resize(ref output, Math.Max(Output.Length * 2, OutputLength + bytes.Length));
                Output = output;
            }

            bytes.CopyTo(Output.AsSpan(OutputLength));
            OutputLength += bytes.Length;
        }

        private struct Entry
        {
            public long Timestamp;
            public (int Start, int Length) Source;
            public (int Start, int Length) Destination;
            public (int Start, int Length) Message;
        }
    }
}
