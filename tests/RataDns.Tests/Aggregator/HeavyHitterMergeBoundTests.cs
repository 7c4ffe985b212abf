using System.Text.Json;
using RataDns.Aggregator;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Tests.Reducers.Original;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The aggregator's merge of heavy-hitter results keeps Space-Saving's guarantee across windows and monitors:
/// every merged entry's true count lies in [count - error, count], checked against the true counts of skewed
/// traffic seen by real TopClients reducers (small N and capacity, so lists are cut and summaries evict).
/// </summary>
public class HeavyHitterMergeBoundTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Merged_counts_bound_the_true_counts(int seed)
    {
        var random = new Random(seed);
        var truth = new Dictionary<string, long>();
        var results = new List<WindowResult>();
        for (int window = 0; window < 12; window++)
        {
            string server = window % 3 == 0 ? "ns1" : window % 3 == 1 ? "ns2" : "ns3";
            var reducer = ReducerRegistry.Create(new ReducerConfiguration
            {
                Name = "TopClients",
                Options = new Dictionary<string, JsonElement> { ["N"] = Number(5), ["Capacity"] = Number(20) },
            });
            var packets = new List<TestPacket>();
            for (int i = 0; i < 400; i++)
            {
                // Zipf-like over 60 clients, the popular ones shifting from window to window (so a merged top key is
                // missing from some windows' lists, where only the threshold bounds it).
                int k = (int)Math.Floor(Math.Pow(60, random.NextDouble())) - 1;
                string client = $"10.0.0.{((k + (window * 3)) % 60) + 1}";
                truth[client] = truth.GetValueOrDefault(client) + 1;
                packets.Add(ReducerTestSupport.Query((ushort)i, client, 40000, i, ("example.", 1)));
            }

            ReducerTestSupport.ObserveAll(reducer, packets);
            results.Add(new WindowResult("TopClients", server, window, window, window + 1, window / 3, 0, JsonDocument.Parse(ReducerTestSupport.Data(reducer)).RootElement.Clone()));
        }

        var merged = ViewMerger.Merge(ViewMergeRule.HeavyHitters, results)!.Value;
        Assert.Equal(truth.Values.Sum(), merged.GetProperty("total").GetInt64());
        var top = merged.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(5, top.Count);
        foreach (var entry in top)
        {
            string client = entry.GetProperty("client").GetString()!;
            long count = entry.GetProperty("count").GetInt64();
            long error = entry.GetProperty("error").GetInt64();
            long actual = truth.GetValueOrDefault(client);
            Assert.True(count - error <= actual && actual <= count, $"{client}: true {actual}, merged {count} - {error}");
        }
    }

    private static JsonElement Number(int value) => JsonDocument.Parse(value.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement.Clone();
}
