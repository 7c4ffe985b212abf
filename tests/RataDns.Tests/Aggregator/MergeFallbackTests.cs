using System.Text;
using System.Text.Json;
using RataDns.Aggregator;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Original;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// What the store does with results that cannot be merged exactly: views without state (older monitors, other
/// tools) merge by the reducer's view rule and say so; a mix of both merges the states first; states of different
/// options are not forced together; a damaged state costs that result's state and a counted error, never the result.
/// The expected counts come from the packets each test makes.
/// </summary>
public class MergeFallbackTests
{
    private static readonly List<TestPacket> Traffic =
    [
        ReducerTestSupport.Query(1, "10.0.0.1", 1000, 0, ("a.example", 1)),
        ReducerTestSupport.Response(1, "10.0.0.1", 1000, 1, ("a.example", 1)),
        ReducerTestSupport.Query(2, "10.0.0.2", 1001, 2, ("b.example", 28)),
        ReducerTestSupport.Response(2, "10.0.0.2", 1001, 3, ("b.example", 28)),
    ];

    [Fact]
    public void Views_without_state_merge_by_the_reducers_rule_and_are_marked_approximate()
    {
        var store = new AggregatorStore();
        store.Add(Envelope("RcodeCounter", "ns1", 0, withState: false));
        store.Add(Envelope("RcodeCounter", "ns2", 0, withState: false));
        var merged = store.Merged("RcodeCounter", "all", "1m")!;
        Assert.Equal("views", merged.Merge);
        Assert.True(merged.Approximate);
        Assert.Equal(4, merged.Data!.Value.GetProperty("NOERROR").GetInt64()); // 2 responses per window
    }

    [Fact]
    public void A_mix_of_states_and_views_merges_the_states_first_and_is_approximate()
    {
        var store = new AggregatorStore();
        store.Add(Envelope("RcodeCounter", "new", 0, withState: true));
        store.Add(Envelope("RcodeCounter", "new", 1, withState: true));
        store.Add(Envelope("RcodeCounter", "old", 0, withState: false));
        var merged = store.Merged("RcodeCounter", "all", "1m")!;
        Assert.Equal("state+views", merged.Merge);
        Assert.True(merged.Approximate);
        Assert.Equal(6, merged.Data!.Value.GetProperty("NOERROR").GetInt64());

        var exact = store.Merged("RcodeCounter", "new", "1m")!;
        Assert.Equal("state", exact.Merge);
        Assert.False(exact.Approximate);
    }

    [Fact]
    public void States_of_different_options_are_not_merged_together()
    {
        var store = new AggregatorStore();
        store.Add(Envelope("TopNQ", "ns1", 0, withState: true, ("N", 1)));
        store.Add(Envelope("TopNQ", "ns2", 0, withState: true, ("N", 2)));
        var merged = store.Merged("TopNQ", "all", "1m")!;
        Assert.Equal("views", merged.Merge);
        Assert.True(merged.Approximate);
        Assert.Contains(merged.Problems, p => p.Contains("different options", StringComparison.Ordinal));
    }

    [Fact]
    public void A_damaged_state_costs_its_state_and_a_counted_error_not_the_result()
    {
        var warnings = new List<string>();
        var store = new AggregatorStore(new AggregatorOptions { Warn = warnings.Add });
        byte[] good = Envelope("RcodeCounter", "ns1", 0, withState: true);
        var damaged = System.Text.Json.Nodes.JsonNode.Parse(good)!.AsObject();
        byte[] state = Convert.FromBase64String(damaged["state"]!.GetValue<string>());
        damaged["state"] = Convert.ToBase64String(state[..^1]); // cut short: the last count is missing
        Assert.True(store.Add(Encoding.UTF8.GetBytes(damaged.ToJsonString())));
        store.Add(Envelope("RcodeCounter", "ns1", 1, withState: true));

        Assert.Equal(1, store.StateErrors);
        Assert.Equal(1, store.States);
        Assert.Contains(warnings, w => w.Contains("damaged state", StringComparison.Ordinal));
        var merged = store.Merged("RcodeCounter", "all", "1m")!;
        Assert.Equal(2, merged.Windows);
        Assert.Equal("state+views", merged.Merge);
        Assert.Equal(4, merged.Data!.Value.GetProperty("NOERROR").GetInt64());
    }

    /// <summary>A window of <see cref="Traffic"/> as a monitor publishes it on ZeroMQ (JSON), with or without its state.</summary>
    private static byte[] Envelope(string type, string server, int window, bool withState, params (string Key, int Value)[] options)
    {
        var configuration = new ReducerConfiguration
        {
            Name = type,
            Options = options.ToDictionary(o => o.Key, o => JsonDocument.Parse(o.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement.Clone(), StringComparer.OrdinalIgnoreCase),
        };
        var reducer = ReducerRegistry.Create(configuration);
        ReducerTestSupport.ObserveAll(reducer, Traffic);
        long start = window * 10 * ReducerTestSupport.Second;
        string data = ReducerTestSupport.Data(reducer, new ReducerWindow(start, start + (10 * ReducerTestSupport.Second), Traffic.Count));
        string state = withState ? $",\"state\":\"{Convert.ToBase64String(ReducerState.ToArray(reducer, configuration.Options))}\"" : "";
        return Encoding.UTF8.GetBytes(
            $"{{\"type\":\"{type}\",\"serverId\":\"{server}\",\"timeStamp\":{(window + 1) * 10},\"data\":{data},"
            + $"\"window\":{{\"start\":{window * 10},\"end\":{(window + 1) * 10},\"packets\":4,\"messages\":4,\"drops\":0,\"sequence\":{window},\"partial\":false}}{state}}}");
    }
}
