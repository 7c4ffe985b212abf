using System.Net;
using System.Text;
using System.Text.Json;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers.Original;

/// <summary>One captured message for reducer tests: bytes, time and the addresses that carried it.</summary>
internal sealed record TestPacket(byte[] Message, long Timestamp, IPAddress Source, ushort SourcePort, IPAddress Destination, ushort DestinationPort)
{
    /// <summary>A dnstap response's query time (<see cref="DnsPacketView.ServerQueryTimeNanoseconds"/>); 0: none.</summary>
    public long ServerQueryTime { get; init; }

    public void ObserveIn(Reducer reducer)
    {
        var view = new DnsPacketView(
            Message,
            Timestamp,
            TransportProtocol.Udp,
            Source.GetAddressBytes(),
            SourcePort,
            Destination.GetAddressBytes(),
            DestinationPort)
        {
            ServerQueryTimeNanoseconds = ServerQueryTime,
        };
        reducer.Observe(in view);
    }
}

internal static class ReducerTestSupport
{
    public const long Second = 1_000_000_000;

    public static readonly IPAddress Server = IPAddress.Parse("192.0.2.53");

    /// <summary>A query from <paramref name="client"/>:<paramref name="port"/> to <see cref="Server"/>:53.</summary>
    public static TestPacket Query(ushort id, string client, ushort port, long time, params (string Name, ushort Type)[] questions)
    {
        var builder = new TestMessageBuilder { Id = id, Flags = 0x0100 };
        foreach (var (name, type) in questions)
        {
            builder.Question(name, type);
        }

        return new TestPacket(builder.ToArray(), time, IPAddress.Parse(client), port, Server, 53);
    }

    /// <summary>A response from <see cref="Server"/>:53 to <paramref name="client"/>:<paramref name="port"/>.</summary>
    public static TestPacket Response(ushort id, string client, ushort port, long time, params (string Name, ushort Type)[] questions)
    {
        var builder = new TestMessageBuilder { Id = id, Flags = 0x8180 };
        foreach (var (name, type) in questions)
        {
            builder.Question(name, type);
        }

        return new TestPacket(builder.ToArray(), time, Server, 53, IPAddress.Parse(client), port);
    }

    public static void ObserveAll(Reducer reducer, IEnumerable<TestPacket> packets)
    {
        foreach (var packet in packets)
        {
            packet.ObserveIn(reducer);
        }
    }

    public static string Data(Reducer reducer, ReducerWindow window)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            reducer.WriteData(writer, in window);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string Data(Reducer reducer) => Data(reducer, new ReducerWindow(0, 2 * Second, 0));

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static JsonElement ParseData(Reducer reducer) => Parse(Data(reducer));

    /// <summary>A mixed window: queries and answers, several questions, case variants, underscores, IPv6.</summary>
    public static List<TestPacket> MixedTraffic() =>
    [
        Query(1, "10.0.0.1", 5000, 0, ("www.Example.com", 1)),
        Response(1, "10.0.0.1", 5000, Second / 10, ("www.example.com", 1)),
        Query(2, "10.0.0.2", 5001, Second / 5, ("_ldap._tcp.corp", 1), ("example.com", 15)),
        Query(3, "10.0.0.2", 5002, Second / 4, ("_SIP.example.com", 2)),
        Query(4, "2001:db8::7", 6000, Second / 2, ("www.example.com", 28)),
        Response(9, "10.0.0.3", 7000, Second, ("orphan.example.net", 1)),
        Query(5, "10.0.0.1", 5003, Second, ("_srv.example.com", 33)),
        Query(2, "10.0.0.2", 5001, Second * 3 / 2, ("_ldap._tcp.corp", 1), ("example.com", 15)),
    ];
}
