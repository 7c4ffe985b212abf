using System.Diagnostics;
using System.Text;
using RataDns.Aggregator;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --merge-costs FILE WINDOWS MESSAGES_PER_WINDOW</c>: what
/// an aggregator pays to merge a span from states. The first WINDOWS × MESSAGES_PER_WINDOW messages of a capture are cut
/// into WINDOWS one-second windows of one monitor; each default reducer's window state is stored as a monitor would
/// send it; then each type is merged over the whole span (<c>AggregatorStore.Merged</c>, best of 3) and the time,
/// the states' mean size and the checking cost on arrival are printed.
/// </summary>
public static class MergeCosts
{
    public static int Run(string file, int windows, int perWindow, TextWriter output)
    {
        var messages = ReducerCosts.Load(file, windows * perWindow);
        windows = Math.Max(1, messages.Count / perWindow);
        output.WriteLine($"{messages.Count:N0} messages from {file}, {windows} windows of {perWindow:N0}");
        var store = new AggregatorStore(new AggregatorOptions { Spans = [new AggregatorSpan("all", TimeSpan.FromDays(1))] });
        var stateBytes = new Dictionary<string, long>();
        var addTime = new Dictionary<string, TimeSpan>();
        foreach (string type in ReducerRegistry.DefaultSet)
        {
            var reducer = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
            for (int w = 0; w < windows; w++)
            {
                reducer.Clear();
                ReducerCosts.ObserveAll(reducer, messages.GetRange(w * perWindow, perWindow));
                byte[] state = ReducerState.ToArray(reducer);
                stateBytes[type] = stateBytes.GetValueOrDefault(type) + state.Length;
                string envelope = $"{{\"type\":\"{type}\",\"serverId\":\"ns1\",\"timeStamp\":{w + 1},\"data\":{{}},\"window\":{{\"start\":{w},\"end\":{w + 1},\"packets\":{perWindow},\"sequence\":{w}}},\"state\":\"{Convert.ToBase64String(state)}\"}}";
                var clock = Stopwatch.StartNew();
                store.Add(Encoding.UTF8.GetBytes(envelope));
                addTime[type] = addTime.GetValueOrDefault(type) + clock.Elapsed;
            }
        }

        output.WriteLine($"| type | state KB per window | check on arrival, ms per window | merge of {windows} windows, ms |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (string type in ReducerRegistry.DefaultSet)
        {
            double best = double.MaxValue;
            for (int pass = 0; pass < 3; pass++)
            {
                var clock = Stopwatch.StartNew();
                var merged = store.Merged(type, "all", "all");
                clock.Stop();
                if (merged?.Merge != "state")
                {
                    output.WriteLine($"{type}: merged by {merged?.Merge}: {string.Join("; ", merged?.Problems ?? [])}");
                    return 1;
                }

                best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            }

            output.WriteLine($"| {type} | {stateBytes[type] / 1e3 / windows:F1} | {addTime[type].TotalMilliseconds / windows:F2} | {best:F1} |");
        }

        return 0;
    }
}
