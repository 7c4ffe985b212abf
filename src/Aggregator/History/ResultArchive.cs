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
    private long _rollups;
    private readonly Dictionary<(string Type, string Server), double>[] _open = [[], [], []];
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
        var row = new ArchivedResult(result, result.Data.GetRawText(), result.State?.Container, received.ToUnixTimeMilliseconds() / 1000.0, 0);
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
    /// <paramref name="level"/> 0 reads the windows as received; 1 and 2 their rollups (<see cref="RollupSeconds"/>).
    /// Rows that cannot be read back (a view that is not JSON) are skipped.
    /// </summary>
    public abstract IReadOnlyList<RestoredResult> Load(double fromEnd, double toEnd, string? type = null, string? server = null, int limit = int.MaxValue, int level = 0);

    /// <summary>
    /// The length of the rollups of each level, in seconds of packet time: level 1 merges the windows of each minute,
    /// level 2 the minutes of each hour (index 0, the windows themselves, is 0).
    /// </summary>
    public static IReadOnlyList<double> RollupSeconds { get; } = [0, 60, 3600];

    /// <summary>How long the windows themselves are kept; their rollups are kept for <see cref="Retention"/>.</summary>
    public TimeSpan RawRetention => _options.RawRetention < _options.Retention ? _options.RawRetention : _options.Retention;

    /// <summary>Rollups written, all levels.</summary>
    public long RollupsWritten => Interlocked.Read(ref _rollups);

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

    /// <summary>Deletes the rows of <paramref name="level"/> whose window ended before <paramref name="end"/>.</summary>
    protected abstract void DeleteBefore(double end, int level);

    /// <summary>The newest end of each (type, server) at <paramref name="level"/> (the writer's open rollup buckets after a restart).</summary>
    protected abstract IReadOnlyList<(string Type, string Server, double End)> NewestEnds(int level);

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
                    OpenBuckets();
                }

                WriteBatch(batch);
                _newestEnd = Math.Max(_newestEnd, batch.Max(r => r.Result.End));
                var written = batch.ToList();
                batch.Clear();
                backoff = 200;
                try
                {
                    RollUp(written);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The windows are written; only their rollups are missing (long ranges then read the windows).
                    Interlocked.Increment(ref _errors);
                    if (reported.Count < 100 && reported.Add("rollup" + e.Message))
                    {
                        Report($"history {Describe()}: rollups not written: {e.Message}");
                    }
                }

                Interlocked.Add(ref _written, written.Count);
                if (DateTime.UtcNow - _lastPrune > _options.PruneInterval)
                {
                    _lastPrune = DateTime.UtcNow;
                    DeleteBefore(_newestEnd - RawRetention.TotalSeconds, 0);
                    DeleteBefore(_newestEnd - _options.Retention.TotalSeconds, 1);
                    DeleteBefore(_newestEnd - _options.Retention.TotalSeconds, 2);
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

    /// <summary>After a restart: the buckets the newest rows of each level fall in are the open ones.</summary>
    private void OpenBuckets()
    {
        for (int level = 0; level < 2; level++)
        {
            foreach (var (type, server, end) in NewestEnds(level))
            {
                _open[level][(type, server)] = Math.Floor(end / RollupSeconds[level + 1]);
            }
        }
    }

    /// <summary>
    /// Rolls up the buckets that <paramref name="rows"/> (of one level) closed: a row of a later bucket than the open one
    /// of its type and server closes that bucket, whose rows are read back, merged (by state where every row has one)
    /// and written one level up; the next level is rolled up the same way.
    /// </summary>
    private void RollUp(List<ArchivedResult> rows)
    {
        while (rows.Count > 0)
        {
            int level = rows[0].Level;
            if (level >= 2)
            {
                return;
            }

            double seconds = RollupSeconds[level + 1];
            var closed = new List<(string Type, string Server, double Bucket)>();
            foreach (var row in rows)
            {
                var key = (row.Result.Type, row.Result.ServerId);
                double bucket = Math.Floor(row.Result.End / seconds);
                if (_open[level].TryGetValue(key, out double open) && bucket > open)
                {
                    closed.Add((key.Type, key.ServerId, open));
                }

                if (!_open[level].TryGetValue(key, out double current) || bucket > current)
                {
                    _open[level][key] = bucket;
                }
            }

            var rollups = new List<ArchivedResult>();
            foreach (var (type, server, bucket) in closed.Distinct())
            {
                double from = bucket * seconds;
                var members = Load(from, from + seconds, type, server, level: level).Select(r => r.Result).Where(r => r.End < from + seconds).ToList();
                foreach (var member in members)
                {
                    StateCheck.Check(member, _options.Catalog, out _);
                }

                if (ResultMerger.MergeToResult(type, members, _options.Catalog, server) is { } merged)
                {
                    rollups.Add(new ArchivedResult(merged, merged.Data.GetRawText(), merged.State?.Container, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, level + 1));
                }
            }

            if (rollups.Count > 0)
            {
                WriteBatch(rollups);
                Interlocked.Add(ref _rollups, rollups.Count);
            }

            rows = rollups;
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

    /// <summary>
    /// One row of <c>SELECT server, type, sequence, start_s, end_s, time_stamp, drops, packets, received_s, data, state</c>
    /// (both backends read that column order); null when its view is not JSON.
    /// </summary>
    protected static RestoredResult? ReadRow(System.Data.Common.DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (ParseView(reader.GetString(9)) is not { } data)
        {
            return null;
        }

        byte[]? state = reader.IsDBNull(10) ? null : reader.GetFieldValue<byte[]>(10);
        var result = new WindowResult(reader.GetString(1), reader.GetString(0), reader.GetInt64(5), reader.GetDouble(3), reader.GetDouble(4), reader.GetInt64(2), reader.GetInt64(6), data)
        {
            Packets = reader.GetInt64(7),
            State = state is { Length: > 0 } ? new StoredState(state) : null,
        };
        return new RestoredResult(result, reader.GetDouble(8));
    }

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

/// <summary>A row: the result, its view as JSON text, its state's bytes (or null), its arrival (seconds since 1970), its level (0: a window; 1, 2: rollups).</summary>
public sealed record ArchivedResult(WindowResult Result, string View, byte[]? State, double Received, int Level);

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

    /// <summary>How long the windows themselves are kept (their minute and hour rollups stay for <see cref="Retention"/>). A day by default: what a restart reads back.</summary>
    public TimeSpan RawRetention { get; init; } = TimeSpan.FromDays(1);

    /// <summary>The reducers whose states rollups merge (plugins included when the aggregator loads them).</summary>
    public ReducerCatalog Catalog { get; init; } = new();
}
