using Npgsql;
using NpgsqlTypes;

namespace RataDns.Aggregator.History;

/// <summary>
/// The aggregator's history in PostgreSQL (Npgsql): one row per window result, written with binary COPY in one
/// transaction per batch; several aggregators may write one database (rows carry their server). The schema is in
/// docs/history.md. A database that is down at start or later is retried; results wait in the queue meanwhile.
/// </summary>
public sealed class PostgresResultArchive : ResultArchive
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _description;

    private PostgresResultArchive(NpgsqlDataSource dataSource, string description, ResultArchiveOptions options)
        : base(options)
    {
        _dataSource = dataSource;
        _description = description;
    }

    /// <summary>
    /// Opens the database a connection string names: a <c>postgresql://user:password@host:port/database</c> URI or
    /// Npgsql's <c>Host=...;Database=...</c>. When the server does not answer, says so in <paramref name="unreachable"/>
    /// and starts anyway (the writer retries).
    /// </summary>
    /// <exception cref="ArgumentException">The connection string cannot be read.</exception>
    public static PostgresResultArchive Open(string connection, ResultArchiveOptions? options, out string? unreachable)
    {
        ArgumentException.ThrowIfNullOrEmpty(connection);
        var builder = Parse(connection);
        builder.ApplicationName ??= "ratadns aggregate";
        builder.Timeout = builder.Timeout == 15 ? 5 : builder.Timeout;
        string description = $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        var archive = new PostgresResultArchive(NpgsqlDataSource.Create(builder), description, options ?? new ResultArchiveOptions());
        unreachable = null;
        try
        {
            archive.EnsureSchema();
            archive.SchemaReady();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            unreachable = e.Message;
        }

        archive.StartWriter();
        return archive;
    }

    /// <summary>Whether <paramref name="text"/> names a PostgreSQL database rather than a file.</summary>
    public static bool Names(string text) =>
        text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || text.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    public override string Describe() => _description;

    public override IReadOnlyList<RestoredResult> Load(double fromEnd, double toEnd, string? type = null, string? server = null, int limit = int.MaxValue, int level = 0)
    {
        using var command = _dataSource.CreateCommand("""
            SELECT server, type, sequence, start_s, end_s, time_stamp, drops, packets, received_s, data, state
            FROM ratadns_window_results
            WHERE level = $6 AND end_s >= $1 AND end_s <= $2 AND ($3::text IS NULL OR type = $3) AND ($4::text IS NULL OR server = $4)
            ORDER BY end_s, id LIMIT $5
            """);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = fromEnd });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = double.IsPositiveInfinity(toEnd) ? double.MaxValue : toEnd });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)type ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)server ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = limit });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)level });
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
        using var command = _dataSource.CreateCommand("SELECT MAX(end_s) FROM ratadns_window_results WHERE level = 0");
        return command.ExecuteScalar() is double end ? end : null;
    }

    protected override IReadOnlyList<(string Type, string Server, double End)> NewestEnds(int level)
    {
        using var command = _dataSource.CreateCommand("SELECT type, server, MAX(end_s) FROM ratadns_window_results WHERE level = $1 GROUP BY type, server");
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)level });
        var ends = new List<(string, string, double)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ends.Add((reader.GetString(0), reader.GetString(1), reader.GetDouble(2)));
        }

        return ends;
    }

    protected override void EnsureSchema()
    {
        using var command = _dataSource.CreateCommand("""
            CREATE TABLE IF NOT EXISTS ratadns_window_results (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                level SMALLINT NOT NULL, server TEXT NOT NULL, type TEXT NOT NULL, sequence BIGINT NOT NULL,
                start_s DOUBLE PRECISION NOT NULL, end_s DOUBLE PRECISION NOT NULL, time_stamp BIGINT NOT NULL,
                drops BIGINT NOT NULL, packets BIGINT NOT NULL, received_s DOUBLE PRECISION NOT NULL,
                data TEXT NOT NULL, state BYTEA);
            CREATE INDEX IF NOT EXISTS ratadns_window_results_level_end ON ratadns_window_results (level, end_s);
            CREATE INDEX IF NOT EXISTS ratadns_window_results_level_type_server_end ON ratadns_window_results (level, type, server, end_s);
            """);
        command.ExecuteNonQuery();
    }

    protected override void WriteBatch(IReadOnlyList<ArchivedResult> batch)
    {
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var import = connection.BeginBinaryImport(
            "COPY ratadns_window_results (level, server, type, sequence, start_s, end_s, time_stamp, drops, packets, received_s, data, state) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in batch)
            {
                var r = row.Result;
                import.StartRow();
                import.Write((short)row.Level, NpgsqlDbType.Smallint);
                import.Write(r.ServerId, NpgsqlDbType.Text);
                import.Write(r.Type, NpgsqlDbType.Text);
                import.Write(r.Sequence, NpgsqlDbType.Bigint);
                import.Write(r.Start, NpgsqlDbType.Double);
                import.Write(r.End, NpgsqlDbType.Double);
                import.Write(r.TimeStamp, NpgsqlDbType.Bigint);
                import.Write(r.Drops, NpgsqlDbType.Bigint);
                import.Write(r.Packets, NpgsqlDbType.Bigint);
                import.Write(row.Received, NpgsqlDbType.Double);
                import.Write(row.View, NpgsqlDbType.Text);
                if (row.State is { } state)
                {
                    import.Write(state, NpgsqlDbType.Bytea);
                }
                else
                {
                    import.WriteNull();
                }
            }

            import.Complete();
        }

        transaction.Commit();
    }

    protected override void DeleteBefore(double end, int level)
    {
        using var command = _dataSource.CreateCommand("DELETE FROM ratadns_window_results WHERE level = $2 AND end_s < $1");
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = end });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)level });
        command.ExecuteNonQuery();
    }

    protected override void Close() => _dataSource.Dispose();

    /// <summary>A URI (<c>postgresql://user:password@host:port/database?k=v</c>) or a key=value connection string.</summary>
    private static NpgsqlConnectionStringBuilder Parse(string text)
    {
        if (!Names(text) || text.Contains('=') && !text.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(text);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"not a PostgreSQL connection string: {e.Message}", nameof(text), e);
            }
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("expected postgresql://user[:password]@host[:port]/database", nameof(text));
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        if (uri.UserInfo.Length > 0)
        {
            string[] user = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(user[0]);
            if (user.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(user[1]);
            }
        }

        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
        }

        return builder;
    }
}
