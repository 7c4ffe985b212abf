using System.Net;
using System.Text.Json;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Tests.Reducers.Original;
using RataDns.Tests.Support;
using static RataDns.Tests.Reducers.Original.ReducerTestSupport;

namespace RataDns.Tests.Reducers.Extended;

internal static class ExtendedTestSupport
{
    public const long Millisecond = 1_000_000;
    public const long Microsecond = 1000;

    /// <summary>A query from <paramref name="client"/>:<paramref name="port"/> to the test server.</summary>
    public static TestPacket Q(string client, string name, ushort id = 1, ushort port = 5000, long time = 0, ushort type = 1) =>
        Query(id, client, port, time, (name, type));

    /// <summary>A response to <paramref name="client"/>:<paramref name="port"/> with the header RCODE <paramref name="rcode"/>.</summary>
    public static TestPacket R(string client, string name, ushort id = 1, ushort port = 5000, long time = 0, ushort type = 1, byte rcode = 0)
    {
        var builder = new TestMessageBuilder { Id = id, Flags = (ushort)(0x8180 | rcode) };
        builder.Question(name, type);
        return new TestPacket(builder.ToArray(), time, Server, 53, IPAddress.Parse(client), port);
    }

    /// <summary>A packet carrying raw <paramref name="message"/> bytes from <paramref name="client"/> to the server.</summary>
    public static TestPacket Raw(byte[] message, string client = "10.0.0.1", long time = 0) =>
        new(message, time, IPAddress.Parse(client), 5000, Server, 53);

    /// <summary>
    /// Asserts that observing <paramref name="traffic"/> in one reducer writes the same data as splitting it at
    /// every point (and interleaving it), observing each part in a partial and merging, in both directions.
    /// </summary>
    public static void AssertMergeEqualsWhole(Reducer prototype, IReadOnlyList<TestPacket> traffic, bool interleave = true, int step = 1)
    {
        var whole = prototype.CreateEmpty();
        ObserveAll(whole, traffic);
        string expected = Data(whole);
        for (int split = 0; split <= traffic.Count; split += step)
        {
            var first = prototype.CreateEmpty();
            var second = prototype.CreateEmpty();
            ObserveAll(first, traffic.Take(split));
            ObserveAll(second, traffic.Skip(split));
            var forward = prototype.CreateEmpty();
            forward.Merge(first);
            forward.Merge(second);
            Assert.Equal(expected, Data(forward));
            second.Merge(first);
            Assert.Equal(expected, Data(second));
        }

        if (interleave)
        {
            var even = prototype.CreateEmpty();
            var odd = prototype.CreateEmpty();
            ObserveAll(even, traffic.Where((_, i) => i % 2 == 0));
            ObserveAll(odd, traffic.Where((_, i) => i % 2 == 1));
            odd.Merge(even);
            Assert.Equal(expected, Data(odd));
        }
    }

    /// <summary>The "top" entries as (key, count, error).</summary>
    public static List<(string Key, long Count, long Error)> Top(Reducer reducer, string keyProperty)
    {
        var data = ParseData(reducer);
        return data.GetProperty("top").EnumerateArray()
            .Select(e => (e.GetProperty(keyProperty).GetString()!, e.GetProperty("count").GetInt64(), e.GetProperty("error").GetInt64()))
            .ToList();
    }

    /// <summary>
    /// Observes <paramref name="observes"/> views of preallocated messages, three times after a warm-up, and returns
    /// the fewest bytes allocated in one round: the runtime's one-off allocations (tiered JIT, on-stack
    /// replacement) land in a single round, an allocation per observe shows in every round.
    /// </summary>
    public static long AllocatedWhileObserving(Reducer reducer, IReadOnlyList<TestPacket> packets, int observes)
    {
        var messages = packets.Select(p => p.Message).ToArray();
        var sources = packets.Select(p => p.Source.GetAddressBytes()).ToArray();
        var destinations = packets.Select(p => p.Destination.GetAddressBytes()).ToArray();
        var times = packets.Select(p => p.Timestamp).ToArray();
        var ports = packets.Select(p => (p.SourcePort, p.DestinationPort)).ToArray();

        long tick = 0;
        void Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                int k = i % messages.Length;
                var view = new DnsPacketView(messages[k], times[k] + (tick++ * Microsecond), TransportProtocol.Udp, sources[k], ports[k].SourcePort, destinations[k], ports[k].DestinationPort);
                reducer.Observe(in view);
            }
        }

        Run(1000);
        long fewest = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(observes);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }

    public static JsonElement Get(this JsonElement element, string property) => element.GetProperty(property);
}
