using System.Diagnostics;
using System.Text.Json;
using RataDns.Aggregator;
using RataDns.Aggregator.History;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// History that survives a restart: results kept in SQLite are all there after the aggregator is killed (SIGKILL,
/// mid-stream) and started again, windows sent while it was away count as sequence gaps, retention deletes old rows,
/// and the history API reaches back past memory, merging long ranges into wider buckets.
/// </summary>
[Collection(NetMqCollection.Name)]
public class HistoryArchiveTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [SkippableTheory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public void Results_restored_from_the_archive_are_the_ones_stored_and_later_windows_count_the_gap(string backend)
    {
        using var database = Database.Make(backend);
        var windows = Windows("ns1", 0, 20).ToList();
        using (var archive = database.Open())
        {
            var store = new AggregatorStore(new AggregatorOptions { Archive = archive });
            windows.ForEach(w => Assert.True(store.Add(w)));
            archive.Flush(TimeSpan.FromMinutes(1));
            Assert.Equal(20, archive.Written);
        }

        using var reopened = database.Open();
        var restored = new AggregatorStore(new AggregatorOptions { Archive = reopened });
        Assert.Equal(20, restored.Restore(reopened));
        var history = restored.History("RcodeCounter", "ns1", DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue);
        Assert.Equal(windows.Select(w => w.End), history.Select(h => (h.To - DateTimeOffset.UnixEpoch).TotalSeconds));
        Assert.Equal(windows.Select(w => w.Data.GetRawText()), history.Select(h => h.Data!.Value.GetRawText()));

        // The monitor went on while the aggregator was away: windows 20 to 24 never arrived, 25 does.
        Assert.True(restored.Add(Windows("ns1", 25, 1).Single()));
        var monitor = Assert.Single(restored.Monitors());
        Assert.Equal(21, monitor.Windows);
        Assert.Equal(5, monitor.SequenceGaps);
    }

    [SkippableFact]
    public void Results_that_arrive_while_postgresql_is_down_are_written_once_it_answers_and_two_aggregators_share_it()
    {
        Skip.IfNot(PostgresServer.IsAvailable, PostgresServer.MissingReason);
        int port = RedisServer.FreePort();
        string uri = $"postgresql://postgres@127.0.0.1:{port}/ratadns";
        using var first = PostgresResultArchive.Open(uri, new ResultArchiveOptions(), out string? unreachable);
        Assert.NotNull(unreachable); // nothing listens yet: the archive starts anyway
        var store = new AggregatorStore(new AggregatorOptions { Archive = first });
        Windows("ns1", 0, 30).ToList().ForEach(w => store.Add(w));

        using var server = PostgresServer.Start("ratadns", port);
        using var second = PostgresResultArchive.Open(uri, new ResultArchiveOptions(), out string? reachable);
        Assert.Null(reachable);
        var other = new AggregatorStore(new AggregatorOptions { Archive = second });
        Windows("ns2", 0, 10).ToList().ForEach(w => other.Add(w));
        first.Flush(TimeSpan.FromMinutes(2));
        second.Flush(TimeSpan.FromMinutes(1));

        Assert.Equal(30, first.Written);
        Assert.Equal(0, first.Dropped);
        Assert.True(first.Errors > 0);
        Assert.Equal(40L, server.Scalar("ratadns", "SELECT COUNT(*) FROM ratadns_window_results"));
        Assert.Equal(30L, server.Scalar("ratadns", "SELECT COUNT(*) FROM ratadns_window_results WHERE server = 'ns1'"));
    }

    [Fact]
    public void History_past_memory_comes_from_the_archive_in_buckets_and_retention_deletes_old_rows()
    {
        string path = TempFile();
        try
        {
            // 600 one-second windows; memory keeps the last 60 s; at most 60 points per request.
            using var archive = SqliteResultArchive.Open(path, new ResultArchiveOptions { Retention = TimeSpan.FromSeconds(400), PruneInterval = TimeSpan.Zero });
            var store = new AggregatorStore(new AggregatorOptions { Archive = archive, HistoryLength = TimeSpan.FromSeconds(60), MaxHistoryPoints = 60 });
            var windows = Windows("ns1", 0, 600).ToList();
            windows.ForEach(w => store.Add(w));
            archive.Flush(TimeSpan.FromMinutes(1));

            // The last 300 s: 60 buckets of 5 windows, each the sum of its windows' rcodes (the reducer's own merge).
            var from = DateTimeOffset.UnixEpoch.AddSeconds(windows[300].End);
            var to = DateTimeOffset.UnixEpoch.AddSeconds(windows[^1].End);
            var history = store.History("RcodeCounter", "ns1", from, to);
            Assert.InRange(history.Count, 55, 61);
            long total = history.Sum(h => h.Data!.Value.GetProperty("NOERROR").GetInt64());
            Assert.Equal(windows.Skip(300).Sum(w => w.Data.GetProperty("NOERROR").GetInt64()), total);

            // Retention: 400 s back from the newest row; the rows before went at the last batch's prune.
            var kept = archive.Load(0, double.MaxValue);
            Assert.All(kept, r => Assert.True(r.Result.End >= windows[^1].End - 400 - 1, $"row ending {r.Result.End} kept"));
            Assert.Contains(kept, r => r.Result.End == windows[^1].End);
        }
        finally
        {
            DeleteDatabase(path);
        }
    }

    [SkippableTheory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public void Long_ranges_come_from_minute_and_hour_rollups_that_outlive_the_windows(string backend)
    {
        // 2 h 10 min of one-second windows; the windows themselves are kept 10 minutes, their rollups a day.
        using var database = Database.Make(backend);
        using var archive = database.Open(new ResultArchiveOptions { RawRetention = TimeSpan.FromMinutes(10), Retention = TimeSpan.FromDays(1), PruneInterval = TimeSpan.Zero, BatchSize = 500 });
        var store = new AggregatorStore(new AggregatorOptions { Archive = archive, HistoryLength = TimeSpan.FromMinutes(5), MaxHistoryPoints = 100 });
        var windows = Windows("ns1", 0, 7800).ToList();
        windows.ForEach(w => store.Add(w));
        archive.Flush(TimeSpan.FromMinutes(5));

        // Every closed minute and hour was rolled up (the last minute and hour are still open).
        double first = windows[0].End, last = windows[^1].End;
        Assert.Equal(Math.Floor(last / 60) - Math.Floor(first / 60), archive.Load(0, double.MaxValue, level: 1).Count);
        Assert.Equal(Math.Floor(last / 3600) - Math.Floor(first / 3600), archive.Load(0, double.MaxValue, level: 2).Count);
        Assert.All(archive.Load(0, double.MaxValue), r => Assert.True(r.Result.End >= last - 600 - 1));

        // The whole range, from rollups and the windows after them: nothing counted twice, nothing missing.
        var all = store.History("RcodeCounter", "ns1", DateTimeOffset.UnixEpoch.AddSeconds(first - 1), DateTimeOffset.UnixEpoch.AddSeconds(last));
        Assert.InRange(all.Count, 2, 101);
        Assert.Equal(windows.Sum(w => w.Data.GetProperty("NOERROR").GetInt64()), all.Sum(h => h.Data!.Value.GetProperty("NOERROR").GetInt64()));

        // An hour long gone from the windows: its minutes, exact.
        double hourFrom = Math.Ceiling(first / 3600) * 3600;
        var hour = store.History("RcodeCounter", "ns1", DateTimeOffset.UnixEpoch.AddSeconds(hourFrom), DateTimeOffset.UnixEpoch.AddSeconds(hourFrom + 3599));
        Assert.Equal(
            windows.Where(w => w.End >= hourFrom && w.End < hourFrom + 3600).Sum(w => w.Data.GetProperty("NXDOMAIN").GetInt64()),
            hour.Sum(h => h.Data!.Value.GetProperty("NXDOMAIN").GetInt64()));
    }

    [Fact]
    public void Rollups_carry_the_merged_state_so_an_hour_merges_exactly_from_its_minutes()
    {
        // TopNQ with its state: window i queries "n{i % 7}.example" i % 5 + 1 times (and "all.example" once).
        using var database = Database.Make("sqlite");
        using var archive = database.Open(new ResultArchiveOptions { RawRetention = TimeSpan.FromMinutes(2), Retention = TimeSpan.FromDays(1), PruneInterval = TimeSpan.Zero });
        var store = new AggregatorStore(new AggregatorOptions { Archive = archive, HistoryLength = TimeSpan.FromMinutes(2), MaxHistoryPoints = 2 });
        const int count = 3 * 3600 / 10;
        for (int i = 0; i < count; i++)
        {
            var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = "TopNQ" });
            var traffic = new List<TestPacket> { ReducerTestSupport.Query(1, "10.0.0.1", 1000, 0, ("all.example", 1)) };
            for (int q = 0; q <= i % 5; q++)
            {
                traffic.Add(ReducerTestSupport.Query((ushort)(q + 2), "10.0.0.2", 1001, 1, ($"n{i % 7}.example", 1)));
            }

            ReducerTestSupport.ObserveAll(reducer, traffic);

            double end = 1_700_006_400 + ((i + 1) * 10);
            long startNs = (long)((end - 10) * 1e9);
            var data = JsonDocument.Parse(ReducerTestSupport.Data(reducer, new ReducerWindow(startNs, startNs + (10 * ReducerTestSupport.Second), traffic.Count))).RootElement.Clone();
            store.Add(new WindowResult("TopNQ", "ns1", (long)end, end - 10, end, i, 0, data) { Packets = traffic.Count, State = new StoredState(ReducerState.ToArray(reducer)) });
        }

        archive.Flush(TimeSpan.FromMinutes(5));
        Assert.All(archive.Load(0, double.MaxValue, level: 1).Concat(archive.Load(0, double.MaxValue, level: 2)), r => Assert.NotNull(r.Result.State));

        // The first two hours, long gone from the windows: one point from two hour rollups, merged by state.
        double first = 1_700_006_400;
        var history = store.History("TopNQ", AggregatorScopes.All, DateTimeOffset.UnixEpoch.AddSeconds(first), DateTimeOffset.UnixEpoch.AddSeconds(first + 7200));
        var counts = history.SelectMany(h => h.Data!.Value.EnumerateArray()).GroupBy(e => e[0].GetString()!).ToDictionary(g => g.Key, g => g.Sum(e => e[1].GetInt64()));
        Assert.All(history, h => Assert.Equal("state", h.Merge));
        // The hours hold the windows ending in [first, first + 3600) and [first + 3600, first + 7200): 359 and 360 (the
        // window ending at first + 7200 is the third hour's, and the windows themselves are gone).
        Assert.True(history.Sum(h => h.Windows) == 2, string.Join(" | ", history.Select(h => $"{h.From:O}..{h.To:O} {h.Windows} {h.Merge} {h.Data}")));
        Assert.Equal(359 + 360, counts.GetValueOrDefault("all.example.", -1));
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_one_clear_error()
    {
        string path = TempFile();
        try
        {
            File.WriteAllText(path, "this is not an SQLite database, it is text long enough to have a header page of its own..........................");
            var e = Assert.Throws<IOException>(() => SqliteResultArchive.Open(path).Dispose());
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            DeleteDatabase(path);
        }
    }

    [SkippableTheory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public void An_aggregator_killed_mid_stream_and_restarted_has_what_it_stored_and_counts_what_it_missed(string backend)
    {
        using var database = Database.Make(backend);
        string sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");
        string path = database.Target;
        string config = TempFile();
        int zmqPort = RedisServer.FreePort();
        string[] types = ["RcodeCounter", "QtypeCounter", "TopNQ"];
        File.WriteAllText(config, $$"""
            {"ServerId": "restart", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{sample}}", "Speed": 1,
             "ZeroMq": {"Connect": "tcp://127.0.0.1:{{zmqPort}}", "State": true}, "Output": {"OutputMethod": "zmq"},
             "PreliminarReducers": [{{string.Join(", ", types.Select(t => $$"""{"Name": "{{t}}"}"""))}}] }
            """);
        try
        {
            // The reference: the monitor's windows (sequence 0 to N-1), the same for every type.
            int expectedWindows = ExpectedWindows(sample);
            int http1 = RedisServer.FreePort();
            var first = RataDnsProcess.Start(["aggregate", "--bind", $"tcp://127.0.0.1:{zmqPort}", "--http", $"http://127.0.0.1:{http1}", "--history", path]);
            RataDnsProcess? second = null;
            using var monitor = RataDnsProcess.Start(["monitor", "-c", config]);
            try
            {
                // Mid-stream: three windows of each type received and committed to the file; then SIGKILL.
                WaitFor(() => Servers(http1) is [var s] && s.GetProperty("windows").GetInt64() >= 3 * types.Length, "3 windows at the first aggregator", first);
                var before = Ends(http1, "RcodeCounter");
                long received = Servers(http1).Single().GetProperty("windows").GetInt64();
                WaitFor(() => Metric(http1, "ratadns_aggregator_history_written_total") >= received, "the received results to be committed", first);
                first.Kill();

                int http2 = RedisServer.FreePort();
                second = RataDnsProcess.Start(["aggregate", "--bind", $"tcp://127.0.0.1:{zmqPort}", "--http", $"http://127.0.0.1:{http2}", "--history", path]);
                WaitFor(() => monitor.HasExited, "the monitor's end", monitor);

                // Every window of every type is accounted for: restored or received, or counted as a gap (sent while the
                // aggregator was away, or in flight when it was killed). A hang guard waits for the last ones to arrive.
                WaitFor(
                    () => Servers(http2) is [var s] && s.GetProperty("windows").GetInt64() + s.GetProperty("sequenceGaps").GetInt64() == expectedWindows * types.Length,
                    $"{expectedWindows} windows of {types.Length} types accounted for",
                    second);
                var after = Ends(http2, "RcodeCounter");
                Assert.Superset(before.ToHashSet(), after.ToHashSet());
                Assert.Contains("restored", second.Error, StringComparison.Ordinal);
            }
            finally
            {
                first.Dispose();
                second?.Dispose();
            }
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static int ExpectedWindows(string sample)
    {
        string file = TempFile();
        try
        {
            string config = TempFile();
            File.WriteAllText(config, $$"""
                {"ServerId": "ref", "WindowMilliseconds": 1000, "InputMethod": "capture_file", "InputSource": "{{sample}}",
                 "Output": {"OutputMethod": "file", "OutputFile": "{{file}}"}, "PreliminarReducers": [{"Name": "RcodeCounter"}] }
                """);
            Assert.Equal(0, ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "-c", config, "-q"], out _, out string stderr));
            File.Delete(config);
            return File.ReadAllLines(file).Length;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<WindowResult> Windows(string server, long firstSequence, int count)
    {
        for (long i = firstSequence; i < firstSequence + count; i++)
        {
            double end = 1_700_000_000 + i + 1;
            var data = JsonDocument.Parse($$"""{"NOERROR": {{10 + (i % 7)}}, "NXDOMAIN": {{i % 3}}}""").RootElement.Clone();
            yield return new WindowResult("RcodeCounter", server, (long)end, end - 1, end, i, 0, data) { Packets = 20 };
        }
    }

    private static JsonElement[] Servers(int port)
    {
        try
        {
            using var document = JsonDocument.Parse(Http.GetStringAsync($"http://127.0.0.1:{port}/api/servers").GetAwaiter().GetResult());
            return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
        }
        catch (HttpRequestException)
        {
            return [];
        }
    }

    private static List<string> Ends(int port, string type)
    {
        string url = $"http://127.0.0.1:{port}/api/history/{type}?scope=restart&from=1970-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";
        using var document = JsonDocument.Parse(Http.GetStringAsync(url).GetAwaiter().GetResult());
        var items = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement : document.RootElement.GetProperty("results");
        return [.. items.EnumerateArray().Select(r => r.GetProperty("to").GetString()!)];
    }

    private static double Metric(int port, string name)
    {
        try
        {
            string text = Http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
            string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static void WaitFor(Func<bool> condition, string what, RataDnsProcess process)
    {
        // A hang guard, not a timing: on a loaded machine each step may take seconds.
        var patience = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(patience.Elapsed < TimeSpan.FromSeconds(120), $"waited 120 s for {what}; {process.Describe()}");
            Thread.Sleep(100);
        }
    }

    private static string TempFile() => Path.Combine(Path.GetTempPath(), $"ratadns-history-{Environment.ProcessId}-{Guid.NewGuid():N}.sqlite");

    private static void DeleteDatabase(string path)
    {
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }
    }

    /// <summary>A history database for one test: an SQLite file, or a PostgreSQL server with its database.</summary>
    private sealed class Database : IDisposable
    {
        private readonly PostgresServer? _server;

        private Database(string target, PostgresServer? server)
        {
            Target = target;
            _server = server;
        }

        /// <summary>What <c>--history</c> takes: the file's path or the database's URI.</summary>
        public string Target { get; }

        public static Database Make(string backend)
        {
            if (backend == "sqlite")
            {
                return new Database(TempFile(), null);
            }

            Skip.IfNot(PostgresServer.IsAvailable, PostgresServer.MissingReason);
            var server = PostgresServer.Start();
            return new Database(server.Uri("ratadns"), server);
        }

        public ResultArchive Open(ResultArchiveOptions? options = null) => _server is null
            ? SqliteResultArchive.Open(Target, options)
            : PostgresResultArchive.Open(Target, options, out _);

        public void Dispose()
        {
            if (_server is null)
            {
                DeleteDatabase(Target);
            }
            else
            {
                _server.Dispose();
            }
        }
    }
}
