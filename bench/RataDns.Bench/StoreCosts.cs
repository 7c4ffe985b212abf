using System.Diagnostics;
using System.Text;
using RataDns.Aggregator;
using RataDns.Aggregator.History;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --store-costs FILE WINDOWS MESSAGES_PER_WINDOW SERVERS
/// [sqlite:PATH] [postgresql://...]</c>: how many window results per second an aggregator ingests (memory only) and
/// stores (each history backend named): the first WINDOWS × MESSAGES_PER_WINDOW messages of a capture are cut into
/// one-second windows, every default reducer's view and state are made once per window as a monitor would send them
/// (JSON envelopes with the state in base64), and the same windows are sent as SERVERS monitors. Each run adds every
/// envelope to a fresh store (<c>AggregatorStore.Add</c>, the subscribers' path) and, with a backend, waits until the
/// archive has written every result and its rollups. Prints wall and CPU seconds and results per second.
/// </summary>
public static class StoreCosts
{
    public static int Run(string file, int windows, int perWindow, int servers, IReadOnlyList<string> backends, TextWriter output)
    {
        var messages = ReducerCosts.Load(file, windows * perWindow);
        windows = Math.Max(1, messages.Count / perWindow);
        var envelopes = new List<(double End, byte[] Json)>();
        long stateBytes = 0;
        foreach (string type in ReducerRegistry.DefaultSet)
        {
            var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
            for (int w = 0; w < windows; w++)
            {
                reducer.Clear();
                ReducerCosts.ObserveAll(reducer, messages.GetRange(w * perWindow, perWindow));
                byte[] state = ReducerState.ToArray(reducer);
                string data = View(reducer, w, perWindow);
                for (int s = 0; s < servers; s++)
                {
                    stateBytes += state.Length;
                    double end = 1_700_000_000 + w + 1;
                    envelopes.Add((end, Encoding.UTF8.GetBytes(
                        $"{{\"type\":\"{type}\",\"serverId\":\"ns{s}\",\"timeStamp\":{end},\"data\":{data},\"window\":{{\"start\":{end - 1},\"end\":{end},\"packets\":{perWindow},\"sequence\":{w}}},\"state\":\"{Convert.ToBase64String(state)}\"}}")));
                }
            }
        }

        // In time order, as monitors send them: every type of window w before window w + 1.
        envelopes.Sort((a, b) => a.End.CompareTo(b.End));
        output.WriteLine($"{messages.Count:N0} messages from {file}: {windows} windows x {ReducerRegistry.DefaultSet.Count} default reducers x {servers} servers = {envelopes.Count:N0} results, {stateBytes / 1e6 / envelopes.Count * 1000:F1} KB of state each on average");
        output.WriteLine("| history | results | wall s | CPU s | results/s | rollups | database MB |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (string backend in new[] { "none" }.Concat(backends))
        {
            GC.Collect();
            ResultArchive? archive = backend switch
            {
                "none" => null,
                _ when backend.StartsWith("sqlite:", StringComparison.Ordinal) => SqliteResultArchive.Open(Fresh(backend["sqlite:".Length..])),
                _ => PostgresResultArchive.Open(backend, null, out _),
            };
            using (archive)
            {
                var store = new AggregatorStore(new AggregatorOptions { Archive = archive });
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                foreach (var (_, json) in envelopes)
                {
                    store.Add(json);
                }

                archive?.Flush(TimeSpan.FromHours(1));
                clock.Stop();
                var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                string size = backend.StartsWith("sqlite:", StringComparison.Ordinal) ? $"{Size(backend["sqlite:".Length..]) / 1e6:F0}" : "-";
                output.WriteLine($"| {(archive?.Describe() ?? "none (memory)")} | {envelopes.Count:N0} | {clock.Elapsed.TotalSeconds:F2} | {used.TotalSeconds:F2} | {envelopes.Count / clock.Elapsed.TotalSeconds:N0} | {archive?.RollupsWritten ?? 0:N0} | {size} |");
                if (archive is null)
                {
                    // What a Prometheus scrape of this aggregator costs: the first merges every server's latest window.
                    var metrics = new AggregatorMetrics(store);
                    foreach (var (_, json) in envelopes.Skip(envelopes.Count - (ReducerRegistry.DefaultSet.Count * servers)))
                    {
                        store.Add(json); // each server's latest window once more, as it would arrive after the metrics started
                    }

                    var times = new List<double>();
                    long bytes = 0;
                    for (int pass = 0; pass < 3; pass++)
                    {
                        using var text = new MemoryStream();
                        var scrape = Stopwatch.StartNew();
                        metrics.Registry.CollectAndExportAsTextAsync(text).GetAwaiter().GetResult();
                        times.Add(scrape.Elapsed.TotalMilliseconds);
                        bytes = text.Length;
                    }

                    output.WriteLine($"(/metrics scrapes of that store: {times[0]:F0} ms the first, merging every server's latest window for server=\"all\", then {times.Skip(1).Min():F0} ms; {bytes / 1e3:F0} KB)");
                }

                if (archive is { Dropped: > 0 })
                {
                    output.WriteLine($"{archive.Describe()}: {archive.Dropped} results dropped ({archive.LastError})");
                    return 1;
                }
            }
        }

        return 0;
    }

    /// <summary>The reducer's view of window <paramref name="w"/> (one second), as a monitor writes it.</summary>
    private static string View(Reducer reducer, int w, int packets)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            long start = (1_700_000_000L + w) * 1_000_000_000L;
            reducer.WriteData(writer, new ReducerWindow(start, start + 1_000_000_000L, packets));
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Fresh(string path)
    {
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }

        return path;
    }

    private static long Size(string path) => new[] { "", "-wal" }.Select(s => new FileInfo(path + s)).Where(f => f.Exists).Sum(f => f.Length);
}
