using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace RataDns.Tests.Support;

/// <summary>
/// A real PostgreSQL for tests: Debian's server binaries, a fresh cluster (initdb, trust authentication) in a
/// temporary directory, <c>postgres</c> in the foreground on 127.0.0.1 and a free port, run as the <c>postgres</c>
/// user when the tests run as root (it refuses root); stopped by pid and its directory removed.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    public const string MissingReason = "the PostgreSQL server is not installed (/usr/lib/postgresql/*/bin/postgres); scripts/setup.sh installs it";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private PostgresServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string for database <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database = "postgres") => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>The URI form, as an operator writes it for <c>--history</c>.</summary>
    public string Uri(string database) => $"postgresql://postgres@127.0.0.1:{Port}/{database}";

    private static string? BinDirectory =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "postgres"))).Order().LastOrDefault()
            : null;

    private static bool IsRoot => Environment.UserName == "root";

    public static bool IsAvailable => BinDirectory is not null && (!IsRoot || File.Exists("/usr/sbin/runuser"));

    /// <summary>Makes a cluster, starts it, returns once it accepts connections (within a minute), with database <paramref name="database"/> made.</summary>
    public static PostgresServer Start(string database = "ratadns", int? port = null)
    {
        string bin = BinDirectory ?? throw new InvalidOperationException(MissingReason);
        string directory = Directory.CreateTempSubdirectory("ratadns-postgres-").FullName;
        string data = Path.Combine(directory, "data");
        if (IsRoot)
        {
            if (ExternalTool.Run("chown", ["postgres:postgres", directory], out _, out string chownError) != 0)
            {
                throw new InvalidOperationException($"chown postgres {directory}: {chownError}");
            }
        }

        int exit = ExternalTool.Run(IsRoot ? "/usr/sbin/runuser" : Path.Combine(bin, "initdb"),
            [.. IsRoot ? new[] { "-u", "postgres", "--", Path.Combine(bin, "initdb") } : [], "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
            out string initOutput, out string initError);
        if (exit != 0)
        {
            throw new InvalidOperationException($"initdb failed ({exit}): {initOutput}{initError}");
        }

        int chosen = port ?? RedisServer.FreePort();
        var info = new ProcessStartInfo(IsRoot ? "/usr/sbin/runuser" : Path.Combine(bin, "postgres"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in IsRoot ? new[] { "-u", "postgres", "--", Path.Combine(bin, "postgres") } : [])
        {
            info.ArgumentList.Add(a);
        }

        foreach (string a in new[] { "-D", data, "-p", chosen.ToString(CultureInfo.InvariantCulture), "-k", directory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off" })
        {
            info.ArgumentList.Add(a);
        }

        var server = new PostgresServer(Process.Start(info)!, directory, chosen);
        server._process.OutputDataReceived += server.Collect;
        server._process.ErrorDataReceived += server.Collect;
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();

        // A hang guard, not a timing: a loaded machine may take seconds to start it.
        long deadline = Environment.TickCount64 + 60_000;
        while (Environment.TickCount64 < deadline && !server._process.HasExited)
        {
            try
            {
                using var connection = new NpgsqlConnection(server.ConnectionString());
                connection.Open();
                using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
                create.ExecuteNonQuery();
                return server;
            }
            catch (NpgsqlException)
            {
                Thread.Sleep(100);
            }
        }

        string output;
        lock (server._output)
        {
            output = server._output.ToString();
        }

        server.Dispose();
        throw new InvalidOperationException($"postgres did not accept connections on port {chosen} within 60 s: {output}");
    }

    /// <summary>Runs one SQL statement and returns its first column's value.</summary>
    public object? Scalar(string database, string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString(database));
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    /// <summary>Kills the server (runuser and postgres, all its processes), as a crash would, and removes the cluster.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // runuser, the postmaster and its backends: killing runuser alone would leave the server running.
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // gone already
        }
        finally
        {
            _process.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by an exiting backend: the temporary directory is left
        }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        lock (_output)
        {
            _output.AppendLine(e.Data);
        }
    }
}
