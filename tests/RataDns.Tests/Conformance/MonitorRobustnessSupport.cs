using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Reducers;
using RataDns.Configuration;

namespace RataDns.Tests.Conformance;

/// <summary>What one in-process <c>ratadns monitor</c> run with every reducer type gave.</summary>
internal sealed record MonitorRun(int ExitCode, string Errors, IReadOnlyList<JsonElement> Results)
{
    /// <summary>The results of one reducer type, one per window, in window order.</summary>
    public IEnumerable<JsonElement> Of(string type) => Results.Where(r => r.GetProperty("type").GetString() == type);

    /// <summary>DNS messages over all windows (each window counted once, from the MalformedCounter result).</summary>
    public long Messages => Of("MalformedCounter").Sum(r => r.GetProperty("window").GetProperty("messages").GetInt64());

    /// <summary>A counter of the <c>--stats</c> report ("frames", "dns messages", ...), or -1 when absent.</summary>
    public long Statistic(string name)
    {
        foreach (var line in Errors.Split('\n'))
        {
            if (line.StartsWith(name + ": ", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(name.Length + 2), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    /// <summary>MalformedCounter's counts by reason over all windows ("ok" included).</summary>
    public SortedDictionary<string, long> MalformedReasons()
    {
        var reasons = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var result in Of("MalformedCounter"))
        {
            foreach (var reason in result.GetProperty("data").GetProperty("reasons").EnumerateObject())
            {
                reasons[reason.Name] = reasons.GetValueOrDefault(reason.Name) + reason.Value.GetProperty("count").GetInt64();
            }
        }

        return reasons;
    }
}

/// <summary>Runs <c>ratadns monitor</c> in process over a capture file with all reducer types, results to a file.</summary>
internal static class MonitorRobustness
{
    public static MonitorRun RunAllReducers(string capture, int windowPackets, IReadOnlyList<ushort>? ports = null, int workers = 2, bool statistics = false, FileReader reader = FileReader.Auto)
    {
        var results = Path.GetTempFileName();
        try
        {
            var reducers = ReducerRegistry.KnownTypes
                .Select(name => new Dictionary<string, object> { ["Name"] = name, ["OutputMethod"] = "file", ["OutputFile"] = results })
                .ToList();
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ServerId"] = "robustness",
                ["WindowSize"] = windowPackets,
                ["InputMethod"] = "capture_file",
                ["InputSource"] = capture,
                ["Ports"] = (ports ?? [53]).Select(p => (int)p).ToArray(),
                ["Workers"] = workers,
                ["PreliminarReducers"] = reducers,
            });
            var configuration = MonitorConfigurationLoader.Parse(json, "robustness.json");
            var errors = new StringWriter();
            int exit = MonitorCommand.Run(configuration, null, errors, CancellationToken.None, new MonitorRunOptions { PinThreads = false, Statistics = statistics, FileReader = reader });
            var lines = File.ReadAllLines(results).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            return new MonitorRun(exit, errors.ToString(), lines);
        }
        finally
        {
            File.Delete(results);
        }
    }
}
