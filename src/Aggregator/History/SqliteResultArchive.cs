using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace RataDns.Aggregator.History;

/// <summary>
/// The aggregator's history in an SQLite file (the system's libsqlite3): one row per window result, in WAL mode so
/// reads (the history API) do not wait for the writer. The schema is in docs/history.md.
/// </summary>
public sealed class SqliteResultArchive : ResultArchive
{
    private static int s_initialised;

    private readonly string _path;
    private readonly SqliteConnection _writeConnection;
    private readonly string _connectionString;

    private SqliteResultArchive(string path, ResultArchiveOptions options)
        : base(options)
    {
        _path = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        _writeConnection = new SqliteConnection(_connectionString);
    }

    /// <summary>
    /// Opens (creating when absent) the file at <paramref name="path"/> and starts writing.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or is not an SQLite database of this schema.</exception>
    public static SqliteResultArchive Open(string path, ResultArchiveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Initialise();
        var archive = new SqliteResultArchive(Path.GetFullPath(path), options ?? new ResultArchiveOptions());
        try
        {
            archive._writeConnection.Open();
            archive.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
            archive.EnsureSchema();
            archive.SchemaReady();
        }
        catch (SqliteException e)
        {
            archive._writeConnection.Dispose();
            throw new IOException($"history file {path}: {e.Message}", e);
        }

        archive.StartWriter();
        return archive;
    }

    public override string Describe() => "sqlite:" + _path;

    protected override void EnsureSchema() => Execute("""
        CREATE TABLE IF NOT EXISTS window_results (
            level INTEGER NOT NULL, server TEXT NOT NULL, type TEXT NOT NULL, sequence INTEGER NOT NULL,
            start_s REAL NOT NULL, end_s REAL NOT NULL, time_stamp INTEGER NOT NULL,
            drops INTEGER NOT NULL, packets INTEGER NOT NULL, received_s REAL NOT NULL,
            data TEXT NOT NULL, state BLOB);
        CREATE INDEX IF NOT EXISTS window_results_level_end ON window_results (level, end_s);
        CREATE INDEX IF NOT EXISTS window_results_level_type_server_end ON window_results (level, type, server, end_s);
        """);

    public override IReadOnlyList<RestoredResult> Load(double fromEnd, double toEnd, string? type = null, string? server = null, int limit = int.MaxValue, int level = 0)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT server, type, sequence, start_s, end_s, time_stamp, drops, packets, received_s, data, state
            FROM window_results
            WHERE level = $level AND end_s >= $from AND end_s <= $to AND ($type IS NULL OR type = $type) AND ($server IS NULL OR server = $server)
            ORDER BY end_s, rowid LIMIT $limit
            """;
        command.Parameters.AddWithValue("$from", fromEnd);
        command.Parameters.AddWithValue("$to", toEnd);
        command.Parameters.AddWithValue("$type", (object?)type ?? DBNull.Value);
        command.Parameters.AddWithValue("$server", (object?)server ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$level", level);
        var results = new List<RestoredResult>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (ReadRow(reader) is { } row)
            {
                results.Add(row);
            }
        }

        return results;
    }

    public override double? NewestEnd()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(end_s) FROM window_results WHERE level = 0";
        return command.ExecuteScalar() is double end ? end : null;
    }

    protected override IReadOnlyList<(string Type, string Server, double End)> NewestEnds(int level)
    {
        using var command = _writeConnection.CreateCommand();
        command.CommandText = "SELECT type, server, MAX(end_s) FROM window_results WHERE level = $level GROUP BY type, server";
        command.Parameters.AddWithValue("$level", level);
        var ends = new List<(string, string, double)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ends.Add((reader.GetString(0), reader.GetString(1), reader.GetDouble(2)));
        }

        return ends;
    }

    protected override void WriteBatch(IReadOnlyList<ArchivedResult> batch)
    {
        using var transaction = _writeConnection.BeginTransaction();
        using var command = _writeConnection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO window_results (level, server, type, sequence, start_s, end_s, time_stamp, drops, packets, received_s, data, state)
            VALUES ($level, $server, $type, $sequence, $start, $end, $stamp, $drops, $packets, $received, $data, $state)
            """;
        var level = command.Parameters.Add("$level", SqliteType.Integer);
        var server = command.Parameters.Add("$server", SqliteType.Text);
        var type = command.Parameters.Add("$type", SqliteType.Text);
        var sequence = command.Parameters.Add("$sequence", SqliteType.Integer);
        var start = command.Parameters.Add("$start", SqliteType.Real);
        var end = command.Parameters.Add("$end", SqliteType.Real);
        var stamp = command.Parameters.Add("$stamp", SqliteType.Integer);
        var drops = command.Parameters.Add("$drops", SqliteType.Integer);
        var packets = command.Parameters.Add("$packets", SqliteType.Integer);
        var received = command.Parameters.Add("$received", SqliteType.Real);
        var data = command.Parameters.Add("$data", SqliteType.Text);
        var state = command.Parameters.Add("$state", SqliteType.Blob);
        command.Prepare();
        foreach (var row in batch)
        {
            var r = row.Result;
            level.Value = row.Level;
            server.Value = r.ServerId;
            type.Value = r.Type;
            sequence.Value = r.Sequence;
            start.Value = r.Start;
            end.Value = r.End;
            stamp.Value = r.TimeStamp;
            drops.Value = r.Drops;
            packets.Value = r.Packets;
            received.Value = row.Received;
            data.Value = row.View;
            state.Value = (object?)row.State ?? DBNull.Value;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    protected override void DeleteBefore(double end, int level)
    {
        using var command = _writeConnection.CreateCommand();
        command.CommandText = "DELETE FROM window_results WHERE level = $level AND end_s < $end";
        command.Parameters.AddWithValue("$end", end);
        command.Parameters.AddWithValue("$level", level);
        command.ExecuteNonQuery();
    }

    protected override void Close() => _writeConnection.Dispose();

    private void Execute(string sql)
    {
        using var command = _writeConnection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Points SQLitePCLRaw's provider at the system library: Debian's libsqlite3-0 installs libsqlite3.so.0 only
    /// (the unversioned name comes with the -dev package).
    /// </summary>
    private static void Initialise()
    {
        if (Interlocked.Exchange(ref s_initialised, 1) == 1)
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(SQLitePCL.SQLite3Provider_sqlite3).Assembly, static (name, assembly, path) =>
            name == "sqlite3" && NativeLibrary.TryLoad("libsqlite3.so.0", assembly, path, out nint handle) ? handle : IntPtr.Zero);
        SQLitePCL.Batteries_V2.Init();
    }
}
