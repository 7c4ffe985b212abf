using System.Net;
using System.Text;
using System.Text.Json;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Tests.Reducers.Counters;
using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers.State;

/// <summary>One captured message with everything a reducer may look at (transport and IP version included).</summary>
internal sealed record StatePacket(byte[] Message, long Time, TransportProtocol Transport, byte[] Source, ushort SourcePort, byte[] Destination, ushort DestinationPort)
{
    /// <summary>The client of the exchange: a query's source, a response's destination.</summary>
    public string Client => Convert.ToHexString(Message.Length > 2 && (Message[2] & 0x80) != 0 ? Destination : Source);

    public void ObserveIn(Reducer reducer)
    {
        var view = new DnsPacketView(Message, Time, Transport, Source, SourcePort, Destination, DestinationPort);
        reducer.Observe(in view);
    }
}

internal static class StateTestSupport
{
    public const long Millisecond = 1_000_000;

    /// <summary>The window every view is written for (the rate reducers divide by it).</summary>
    public static readonly ReducerWindow Window = new(0, 10_000 * Millisecond, 0);

    private static readonly byte[] ServerV4 = IPAddress.Parse("192.0.2.53").GetAddressBytes();
    private static readonly byte[] ServerV6 = IPAddress.Parse("2001:db8::53").GetAddressBytes();

    private static readonly string[] Names =
    [
        "www.example.com", "Mail.Example.com", "_ldap._tcp.corp", "_sip.example.org", "a.b.c.d.example.net",
        "example.com", "WWW.EXAMPLE.COM", "x.y", "printer.local", "_dmarc.example.org", "ns1.example.net", "com",
    ];

    private static readonly ushort[] Types = [1, 28, 2, 15, 6, 33, 16, 65280];

    /// <summary>Options that keep the tests small and give every bounded reducer a bound the tests can reach.</summary>
    public static IReadOnlyDictionary<string, JsonElement> TestOptions(string type) => type switch
    {
        "TopN" or "TopNQ" or "TldCounter" or "SldCounter" or "TopClients" or "TopNxdomainNames" or "TopRefusedNames" or "TopServfailNames"
            => Options("""{"N": 5, "Capacity": 64}"""),
        "QueriesNameCounter" or "AnswersNameCounter" or "NameCounter" => Options("""{"Capacity": 64}"""),
        "QueriesWithUnderscoredName" or "PacketHasUnderscore" or "QueriesSummary" or "PacketSummary" or "AlonePackets"
            => Options("""{"Capacity": 256}"""),
        "ResponseLatency" => Options("""{"PendingCapacity": 1024}"""),
        "MalformedCounter" => Options("""{"Examples": 2}"""),
        "DistinctCounter" => Options("""{"Precision": 8, "Seed": "state tests"}"""),
        _ => new Dictionary<string, JsonElement>(),
    };

    /// <summary>Options with a capacity of <paramref name="capacity"/> keys for a Space-Saving reducer.</summary>
    public static IReadOnlyDictionary<string, JsonElement> SmallCapacity(string type, int capacity) =>
        type is "QueriesNameCounter" or "AnswersNameCounter" or "NameCounter"
            ? Options($$"""{"Capacity": {{capacity}}}""")
            : Options($$"""{"N": {{Math.Min(3, capacity)}}, "Capacity": {{capacity}}}""");

    public static Reducer Create(string type, IReadOnlyDictionary<string, JsonElement> options) =>
        ReducerRegistry.Create(new ReducerConfiguration { Name = type, Options = options });

    /// <summary>What an aggregator does with a container: an instance of its type and options, the state read into it.</summary>
    public static Reducer Read(byte[] container)
    {
        var header = ReducerState.ReadHeader(container);
        var instance = Create(header.Type, header.Options).CreateEmpty();
        ReducerState.ReadInto(instance, header.Body);
        return instance;
    }

    /// <summary>read(state(<paramref name="reducer"/>)) with the options it was made with.</summary>
    public static Reducer RoundTrip(Reducer reducer, IReadOnlyDictionary<string, JsonElement> options) =>
        Read(ReducerState.ToArray(reducer, options));

    public static string View(Reducer reducer) => View(reducer, Window);

    public static string View(Reducer reducer, ReducerWindow window)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            reducer.WriteData(writer, in window);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static void ObserveAll(Reducer reducer, IEnumerable<StatePacket> packets)
    {
        foreach (var packet in packets)
        {
            packet.ObserveIn(reducer);
        }
    }

    /// <summary>
    /// Varied traffic, deterministic for a seed: queries from a few IPv4 and IPv6 clients over UDP and TCP, with one
    /// or two questions among <paramref name="names"/> names (case variants, underscores), EDNS (DO bit, client
    /// subnet, versions), other opcodes; responses to most of them a few milliseconds later with varied rcodes
    /// (extended ones too); unsolicited responses and malformed messages. Times rise by a millisecond or less, so
    /// everything lies within ResponseLatency's default timeout.
    /// </summary>
    public static List<StatePacket> Traffic(int seed, int queries, int names = 12)
    {
        var random = new Random(seed);
        var packets = new List<StatePacket>();
        long time = Millisecond;
        var waiting = new List<StatePacket>();
        for (int i = 0; i < queries; i++)
        {
            time += random.Next(1, (int)Millisecond);
            bool ipv6 = random.Next(4) == 0;
            byte[] client = ipv6
                ? IPAddress.Parse($"2001:db8::{random.Next(1, 6):x}").GetAddressBytes()
                : IPAddress.Parse($"10.0.0.{random.Next(1, 6)}").GetAddressBytes();
            byte[] server = ipv6 ? ServerV6 : ServerV4;
            ushort port = (ushort)(5000 + random.Next(3));
            var transport = random.Next(5) == 0 ? TransportProtocol.Tcp : TransportProtocol.Udp;
            ushort id = (ushort)random.Next(1, 40);
            string name = NameAt(random, names);
            ushort type = Types[random.Next(Types.Length)];
            int kind = random.Next(20);
            if (kind == 0)
            {
                // Malformed: a query cut inside its question, or a lone byte.
                byte[] whole = Message(0x0100, id, random, name, type, edns: false);
                byte[] cut = random.Next(2) == 0 ? whole[..Math.Max(3, whole.Length - 3)] : [0x12];
                packets.Add(new StatePacket(cut, time, transport, client, port, server, 53));
                continue;
            }

            if (kind == 1)
            {
                // A response nobody asked for.
                packets.Add(new StatePacket(Message(0x8180, id, random, name, type, edns: false), time, transport, server, 53, client, port));
                continue;
            }

            ushort flags = kind == 2 ? (ushort)0x2800 : (ushort)0x0100; // UPDATE now and then
            byte[] query = kind == 3
                ? MessageWithTwoQuestions(flags, id, name, NameAt(random, names), type)
                : Message(flags, id, random, name, type, edns: random.Next(3) != 0);
            var packet = new StatePacket(query, time, transport, client, port, server, 53);
            packets.Add(packet);
            if (random.Next(5) != 0)
            {
                waiting.Add(packet);
            }

            // Answer some waiting queries, in no particular order.
            while (waiting.Count > 0 && random.Next(3) == 0)
            {
                var asked = waiting[random.Next(waiting.Count)];
                waiting.Remove(asked);
                time += random.Next(1, (int)Millisecond);
                byte[] response = (byte[])asked.Message.Clone();
                response[2] |= 0x80;
                response[3] = (byte)((response[3] & 0xF0) | 0x80 | Rcodes[random.Next(Rcodes.Length)]);
                packets.Add(new StatePacket(response, time, asked.Transport, asked.Destination, asked.DestinationPort, asked.Source, asked.SourcePort));
            }
        }

        return packets;
    }

    private static readonly byte[] Rcodes = [0, 0, 0, 2, 3, 3, 5];

    private static string NameAt(Random random, int names) =>
        names <= Names.Length ? Names[random.Next(names)] : $"n{random.Next(names)}.example.com";

    private static byte[] Message(ushort flags, ushort id, Random random, string name, ushort type, bool edns)
    {
        var builder = new TestMessageBuilder { Id = id, Flags = flags };
        builder.Question(name, type, random.Next(10) == 0 ? (ushort)3 : (ushort)1);
        if (edns)
        {
            builder.Opt(
                (ushort)(random.Next(2) == 0 ? 1232 : random.Next(400, 5000)),
                version: (byte)(random.Next(8) == 0 ? 1 : 0),
                dnssecOk: random.Next(2) == 0,
                options: random.Next(4) == 0 ? CounterTestSupport.ClientSubnetOption : null);
        }

        return builder.ToArray();
    }

    private static byte[] MessageWithTwoQuestions(ushort flags, ushort id, string first, string second, ushort type)
    {
        var builder = new TestMessageBuilder { Id = id, Flags = flags };
        builder.Question(first, type);
        builder.Question(second, 1);
        return builder.ToArray();
    }

    private static Dictionary<string, JsonElement> Options(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.OrdinalIgnoreCase);
    }
}
