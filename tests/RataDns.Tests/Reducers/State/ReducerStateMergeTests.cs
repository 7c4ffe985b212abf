using System.Net;
using System.Text.Json;
using FsCheck.Xunit;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Tests.Support;
using static RataDns.Tests.Reducers.State.StateTestSupport;

namespace RataDns.Tests.Reducers.State;

/// <summary>
/// Merging states read back gives what one reducer that saw all the traffic gives: exactly for exact reducers, and
/// for the Space-Saving and HyperLogLog ones while the traffic stays within their bounds; beyond them, within the
/// Space-Saving bound.
/// </summary>
public class ReducerStateMergeTests
{
    /// <summary>
    /// For every registered reducer: traffic split at random into two monitors (for ResponseLatency by client, so
    /// both directions of an exchange fall in the same part), each part's state written and read back, merged, and
    /// the merge written and read back again, gives the view of one reducer observing everything.
    /// </summary>
    [Property(MaxTest = 30)]
    public void Merge_of_read_states_equals_observing_all(int trafficSeed, int splitSeed, byte size)
    {
        var traffic = Traffic(trafficSeed, queries: 1 + (size % 80));
        foreach (string type in ReducerRegistry.KnownTypes)
        {
            var options = TestOptions(type);
            var random = new Random(splitSeed);
            var clientsInFirst = new Dictionary<string, bool>();
            var first = Create(type, options);
            var second = Create(type, options);
            var whole = Create(type, options);
            foreach (var packet in traffic)
            {
                bool inFirst = type == "ResponseLatency"
                    ? clientsInFirst.TryGetValue(packet.Client, out bool known) ? known : clientsInFirst[packet.Client] = random.Next(2) == 0
                    : random.Next(2) == 0;
                packet.ObserveIn(inFirst ? first : second);
                packet.ObserveIn(whole);
            }

            var merged = RoundTrip(first, options);
            merged.Merge(RoundTrip(second, options));
            Assert.Equal(View(whole), View(merged));
            Assert.Equal(View(whole), View(RoundTrip(merged, options)));
        }
    }

    /// <summary>
    /// More distinct keys than the summaries keep: after state round trips and merges, every key written still
    /// satisfies count - error &lt;= true count &lt;= count (true counts computed here from the traffic), and no
    /// count exceeds the true one by more than total / capacity.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Space_saving_bounds_hold_after_state_round_trips(int seed)
    {
        const int Capacity = 16;
        var random = new Random(seed);
        var packets = new List<StatePacket>();
        var trueNames = new Dictionary<string, long>(StringComparer.Ordinal);
        var trueClients = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < 3000; i++)
        {
            // Skewed: a few names and clients are heavy, many are rare (far more distinct ones than the capacity).
            int rank = (int)Math.Floor(Math.Pow(random.NextDouble(), 3) * 400);
            string name = $"n{rank}.example.com";
            string client = $"10.0.{random.Next(2)}.{(int)Math.Floor(Math.Pow(random.NextDouble(), 2) * 200)}";
            var builder = new TestMessageBuilder { Id = (ushort)i, Flags = 0x0100 };
            builder.Question(name, 1);
            packets.Add(new StatePacket(builder.ToArray(), i * Millisecond, TransportProtocol.Udp, IPAddress.Parse(client).GetAddressBytes(), 5000, [192, 0, 2, 53], 53));
            trueNames[name + "."] = trueNames.GetValueOrDefault(name + ".") + 1;
            trueClients[client] = trueClients.GetValueOrDefault(client) + 1;
        }

        foreach (string type in new[] { "TopNQ", "QueriesNameCounter", "NameCounter", "TopClients" })
        {
            var options = SmallCapacity(type, Capacity);
            var parts = Enumerable.Range(0, 3).Select(_ => Create(type, options)).ToArray();
            foreach (var packet in packets)
            {
                packet.ObserveIn(parts[random.Next(parts.Length)]);
            }

            // Windows of one monitor (MergeLater), then another monitor, with state round trips at each step.
            var merged = RoundTrip(parts[0], options);
            merged.MergeLater(RoundTrip(parts[1], options));
            merged = RoundTrip(merged, options);
            merged.Merge(RoundTrip(parts[2], options));
            merged = RoundTrip(merged, options);

            var truth = type == "TopClients" ? trueClients : trueNames;
            long slack = packets.Count / Capacity;
            var entries = Entries(type, View(merged, Window with { IncludeBounds = true }));
            Assert.NotEmpty(entries);
            foreach (var (key, count, error) in entries)
            {
                long actual = truth.GetValueOrDefault(key);
                Assert.True(count >= actual, $"{type} {key}: count {count} below the true {actual}");
                Assert.True(count - actual <= slack, $"{type} {key}: count {count} over the true {actual} by more than {slack}");
                if (error is { } e)
                {
                    Assert.True(count - e <= actual, $"{type} {key}: count {count} - error {e} above the true {actual}");
                }
            }
        }
    }

    /// <summary>
    /// ResponseLatency: windows of one monitor merge with MergeLater, which keeps the later window's pending level;
    /// monitors merge with Merge, which adds levels. Counters and buckets add either way.
    /// </summary>
    [Fact]
    public void ResponseLatency_MergeLater_keeps_the_later_pending_level_and_Merge_adds_levels()
    {
        var options = TestOptions("ResponseLatency");
        var monitor = Create("ResponseLatency", options);
        var queries = Enumerable.Range(1, 3).Select(i => Exchange(i, 0, response: false)).ToList();
        ObserveAll(monitor, queries);
        var window1 = RoundTrip(monitor, options);
        monitor.Reset();
        ObserveAll(monitor, [Exchange(1, 10, response: true), Exchange(2, 11, response: true), Exchange(4, 12, response: false)]);
        var window2 = RoundTrip(monitor, options);
        Assert.Equal(3, Json(window1).GetProperty("pending").GetInt64());
        Assert.Equal(2, Json(window2).GetProperty("pending").GetInt64());

        var later = RoundTrip(monitor, options);
        var overTime = RoundTrip(window1, options);
        overTime.MergeLater(later);
        var view = Json(overTime);
        Assert.Equal(2, view.GetProperty("pending").GetInt64());
        Assert.Equal(2, view.GetProperty("matched").GetInt64());

        var twoMonitors = RoundTrip(window1, options);
        twoMonitors.Merge(window2);
        Assert.Equal(5, Json(twoMonitors).GetProperty("pending").GetInt64());
        Assert.Equal(2, Json(twoMonitors).GetProperty("matched").GetInt64());

        // The carried level survives another round trip.
        Assert.Equal(2, Json(RoundTrip(overTime, options)).GetProperty("pending").GetInt64());
    }

    private static StatePacket Exchange(int id, int milliseconds, bool response)
    {
        var builder = new TestMessageBuilder { Id = (ushort)id, Flags = response ? (ushort)0x8180 : (ushort)0x0100 };
        builder.Question("www.example.com", 1);
        byte[] client = [10, 0, 0, 1];
        byte[] server = [192, 0, 2, 53];
        return response
            ? new StatePacket(builder.ToArray(), milliseconds * Millisecond, TransportProtocol.Udp, server, 53, client, 5000)
            : new StatePacket(builder.ToArray(), milliseconds * Millisecond, TransportProtocol.Udp, client, 5000, server, 53);
    }

    private static JsonElement Json(Reducer reducer)
    {
        using var document = JsonDocument.Parse(View(reducer));
        return document.RootElement.Clone();
    }

    /// <summary>(key, count, error if the view has it) of a TopN, name counter or heavy-hitter view.</summary>
    private static List<(string Key, long Count, long? Error)> Entries(string type, string view)
    {
        using var document = JsonDocument.Parse(view);
        var root = document.RootElement;
        return type switch
        {
            "TopNQ" => [.. root.EnumerateArray().Select(t => (t[0].GetString()!, t[1].GetInt64(), (long?)t[2].GetInt64()))],
            "QueriesNameCounter" or "NameCounter" => [.. root.EnumerateObject().Select(p => (p.Name, p.Value.GetInt64(), (long?)null))],
            _ => [.. root.GetProperty("top").EnumerateArray().Select(e => (
                (e.TryGetProperty("client", out var c) ? c : e.GetProperty("name")).GetString()!,
                e.GetProperty("count").GetInt64(),
                (long?)e.GetProperty("error").GetInt64()))],
        };
    }
}
