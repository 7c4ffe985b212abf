using System.Collections.Concurrent;
using System.Text.Json;

namespace RataDns.Aggregator.History;

/// <summary>
/// Window results kept in a database so the aggregator's history survives a restart: every stored result is queued
/// (never blocking the subscriber that received it) and written by one thread in batches, one transaction each;
/// rows older than <see cref="ResultArchiveOptions.Retention"/> (packet time, back from the newest row) are deleted.
/// A database that fails (down, unreachable, disk full) is reported once per kind of failure and the batch is written
/// again with a growing pause (up to 5 s) until it answers; meanwhile results wait in the queue, and those that do not
/// fit (<see cref="ResultArchiveOptions.QueueCapacity"/>) are counted in <see cref="Dropped"/>, never waited for.
/// </summary>
public abstract class ResultArchive : IDisposable
{
    private readonly BlockingCollection<ArchivedResult> _queue;
    private readonly Thread _writer;
    private readonly ResultArchiveOptions _options;
    private readonly Lock _flushLock = new();
    private long _queued;
    private long _written;
    private long _dropped;
    private long _errors;
    private long _failedRows;
    private string? _lastError;
    private DateTime _lastPrune = DateTime.MinValue;
    private double _newestEnd = double.NegativeInfinity;
    private volatile bool _ready;
    private bool _disposed;

    protected ResultArchive(ResultArchiveOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.QueueCapacity < 1 || options.BatchSize < 1 || options.Retention <= TimeSpan.Zero)
        {
            throw new ArgumentException("QueueCapacity and BatchSize must be at least 1 and Retention positive.", nameof(options));
        }

        _queue = new BlockingCollection<ArchivedResult>(options.QueueCapacity);
        _writer = new Thread(WriteLoop) { Name = "ratadns archive", IsBackground = true };
    }

    /// <summary>Results written (committed).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Results not archived: the queue was full, or the database refused them.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Batches that failed.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>The last failure's message, or null.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>How long rows are kept.</summary>
    public TimeSpan Retention => _options.Retention;

    /// <summary>Where the rows go, for logs (a path, or a host and database; never a password).</summary>
    public abstract string Describe();

    /// <summary>Queues <paramref name="result"/> (its view and its state's bytes as received, and the arrival time).</summary>
    public void Append(WindowResult result, DateTimeOffset received)
    {
        ArgumentNullException.ThrowIfNull(result);
        var row = new ArchivedResult(result, result.Data.GetRawText(), result.State?.Container, received.ToUnixTimeMilliseconds() / 1000.0);
        if (_queue.IsAddingCompleted || !_queue.TryAdd(row))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        Interlocked.Increment(ref _queued);
    }

    /// <summary>
    /// Reads the results whose window end lies in [<paramref name="fromEnd"/>, <paramref name="toEnd"/>] (seconds since
    /// 1970, packet time), of one type and server when given, oldest first; at most <paramref name="limit"/> rows.
    /// Rows that cannot be read back (a view that is not JSON) are skipped.
    /// </summary>
    public abstract IReadOnlyList<RestoredResult> Load(double fromEnd, double toEnd, string? type = null, string? server = null, int limit = int.MaxValue);

    /// <summary>The newest window end stored, or null when there is none.</summary>
    public abstract double? NewestEnd();

    /// <summary>Waits until every result queued before the call is written or dropped (tests, an orderly stop).</summary>
    public void Flush(TimeSpan timeout)
    {
        long target = Interlocked.Read(ref _queued);
        var deadline = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref _written) + Interlocked.Read(ref _failedRows) < target && DateTime.UtcNow < deadline && _writer.IsAlive)
        {
            Thread.Sleep(10);
        }
    }

    /// <summary>Starts the writer thread (after the subclass has opened its database).</summary>
    protected void StartWriter() => _writer.Start();

    /// <summary>Creates the tables and indexes when absent (the writer calls it before its first batch, and again after a failure).</summary>
    protected abstract void EnsureSchema();

    /// <summary>Marks the schema as made (an opener that made it itself).</summary>
    protected void SchemaReady() => _ready = true;

    /// <summary>Writes <paramref name="batch"/> in one transaction.</summary>
    protected abstract void WriteBatch(IReadOnlyList<ArchivedResult> batch);

    /// <summary>Deletes the rows whose window ended before <paramref name="end"/>.</summary>
    protected abstract void DeleteBefore(double end);

    /// <summary>Reports a failure (to the log, once per message); the default writes nothing.</summary>
    protected virtual void Report(string message) => _options.Warn?.Invoke(message);

    private void WriteLoop()
    {
        var batch = new List<ArchivedResult>(_options.BatchSize);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        int backoff = 200;
        while (true)
        {
            try
            {
                if (batch.Count == 0)
                {
                    if (!_queue.TryTake(out var first, 500))
                    {
                        if (_queue.IsCompleted)
                        {
                            break;
                        }

                        continue;
                    }

                    batch.Add(first);
                }

                while (batch.Count < _options.BatchSize && _queue.TryTake(out var next))
                {
                    batch.Add(next);
                }
            }
            catch (InvalidOperationException)
            {
                // completed while waiting: write what the batch holds, then stop
            }

            if (batch.Count == 0)
            {
                break;
            }

            try
            {
                if (!_ready)
                {
                    EnsureSchema();
                    _ready = true;
                }

                WriteBatch(batch);
                Interlocked.Add(ref _written, batch.Count);
                _newestEnd = Math.Max(_newestEnd, batch.Max(r => r.Result.End));
                batch.Clear();
                backoff = 200;
                if (DateTime.UtcNow - _lastPrune > _options.PruneInterval)
                {
                    _lastPrune = DateTime.UtcNow;
                    DeleteBefore(_newestEnd - _options.Retention.TotalSeconds);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref _errors);
                Volatile.Write(ref _lastError, e.Message);
                if (reported.Count < 100 && reported.Add(e.GetType().Name + e.Message))
                {
                    Report($"history {Describe()}: {batch.Count} results wait to be written (retrying, up to {_options.QueueCapacity} kept): {e.Message}");
                }

                if (_queue.IsAddingCompleted)
                {
                    // Stopping with a database that fails: what is left cannot be kept.
                    Interlocked.Add(ref _dropped, batch.Count + _queue.Count);
                    Interlocked.Add(ref _failedRows, batch.Count + _queue.Count);
                    break;
                }

                // The batch is kept and written again once the database answers; meanwhile the queue fills, and only
                // what does not fit is dropped (counted). A failing database is not hammered.
                Thread.Sleep(backoff);
                backoff = Math.Min(backoff * 2, 5_000);
            }
        }
    }

    /// <summary>Writes what is queued (up to a few seconds), then closes.</summary>
    public void Dispose()
    {
        lock (_flushLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _queue.CompleteAdding();
        if (_writer.IsAlive)
        {
            _writer.Join(TimeSpan.FromSeconds(10));
        }

        Close();
        _queue.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the database.</summary>
    protected abstract void Close();

    /// <summary>Reads a stored view back; null when it is not JSON.</summary>
    protected static JsonElement? ParseView(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A queued row: the result, its view as JSON text, its state's bytes (or null), its arrival (seconds since 1970).</summary>
public sealed record ArchivedResult(WindowResult Result, string View, byte[]? State, double Received);

/// <summary>A result read back, with the wall-clock time it had arrived (seconds since 1970).</summary>
public sealed record RestoredResult(WindowResult Result, double Received);

/// <summary>How a <see cref="ResultArchive"/> writes and keeps.</summary>
public sealed record ResultArchiveOptions
{
    /// <summary>Rows older than this (packet time, back from the newest row) are deleted. 30 days by default.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Results waiting to be written at most; beyond, new ones are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 200_000;

    /// <summary>Results written per transaction at most.</summary>
    public int BatchSize { get; init; } = 2_000;

    /// <summary>How often old rows are deleted.</summary>
    public TimeSpan PruneInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Where failures are reported (once per message).</summary>
    public Action<string>? Warn { get; init; }
}
