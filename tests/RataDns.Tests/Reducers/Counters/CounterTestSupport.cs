using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers.Counters;

/// <summary>One message and how it was carried, for the counter reducer tests.</summary>
internal sealed record CounterPacket(byte[] Message, TransportProtocol Transport = TransportProtocol.Udp, bool Ipv6 = false, EncryptedTransport Encryption = EncryptedTransport.None)
{
    private static readonly byte[] V4 = [192, 0, 2, 1];
    private static readonly byte[] V6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

    public void ObserveIn(Reducer reducer)
    {
        byte[] address = Ipv6 ? V6 : V4;
        var view = new DnsPacketView(Message, 0, Transport, address, 5353, address, 53) { Encryption = Encryption };
        reducer.Observe(in view);
    }
}

internal static class CounterTestSupport
{
    public const ushort QueryFlags = 0x0100;
    public const ushort ResponseFlags = 0x8180;

    /// <summary>A message with the given flags and one question per entry.</summary>
    public static TestMessageBuilder Message(ushort flags, params (string Name, ushort Type, ushort Class)[] questions)
    {
        var builder = new TestMessageBuilder { Id = 7, Flags = flags };
        foreach (var (name, type, @class) in questions)
        {
            builder.Question(name, type, @class);
        }

        return builder;
    }

    /// <summary>A query for www.example.com A (33 bytes).</summary>
    public static TestMessageBuilder Query() => Message(QueryFlags, ("www.example.com", 1, 1));

    /// <summary>A response for www.example.com A with the given header RCODE.</summary>
    public static TestMessageBuilder Response(byte rcode = 0) => Message((ushort)(ResponseFlags | rcode), ("www.example.com", 1, 1));

    /// <summary>
    /// Appends an OPT record (RFC 6891) to the additional section: root name, CLASS = UDP payload size,
    /// TTL = extended RCODE high byte, version, DO bit; <paramref name="options"/> as RDATA.
    /// </summary>
    public static TestMessageBuilder Opt(this TestMessageBuilder builder, ushort udpSize, byte rcodeHigh = 0, byte version = 0, bool dnssecOk = false, byte[]? options = null, int section = 3)
    {
        uint ttl = ((uint)rcodeHigh << 24) | ((uint)version << 16) | (dnssecOk ? 0x8000u : 0u);
        return builder.Section(section).Record(".", 41, udpSize, ttl, b => b.Bytes(options ?? []));
    }

    /// <summary>An EDNS Client Subnet option for 192.0.2.0/24 (code 8, RFC 7871).</summary>
    public static readonly byte[] ClientSubnetOption = [0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2];

    /// <summary>A DNS Cookie option with an 8-byte client cookie (code 10, RFC 7873).</summary>
    public static readonly byte[] CookieOption = [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];

    /// <summary>A message of exactly <paramref name="length"/> bytes: a header with no records, then zeros.</summary>
    public static byte[] OfLength(int length, bool response)
    {
        var message = new byte[length];
        if (length > 2)
        {
            message[2] = response ? (byte)0x81 : (byte)0x01;
        }

        return message;
    }

    /// <summary>An object's members as "name=value,..." (keys unescaped, whatever the writer's encoder did).</summary>
    public static string Pairs(System.Text.Json.JsonElement element) =>
        string.Join(",", element.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetRawText()}"));

    public static void ObserveEach(Reducer reducer, IEnumerable<CounterPacket> packets)
    {
        foreach (var packet in packets)
        {
            packet.ObserveIn(reducer);
        }
    }

    /// <summary>A window with something for every counter: EDNS, rcodes, opcodes, classes, TCP, IPv6, sizes.</summary>
    public static List<CounterPacket> CounterTraffic() =>
    [
        new(Query().ToArray()),
        new(Query().Opt(1232, dnssecOk: true).ToArray(), TransportProtocol.Udp, Ipv6: true),
        new(Response().Opt(1232).ToArray(), TransportProtocol.Udp, Ipv6: true),
        new(Message(QueryFlags, ("example.com", 28, 1), ("example.com", 65280, 3)).Opt(4096, options: ClientSubnetOption).ToArray(), TransportProtocol.Tcp),
        new(Response(3).ToArray(), TransportProtocol.Tcp),
        new(Response().Opt(1232, rcodeHigh: 1).ToArray()),
        new(Message(0x0800, ("example.com", 6, 1)).ToArray(), TransportProtocol.Tcp, Ipv6: true),
        new(Message(0x8800, ("example.com", 6, 1)).ToArray(), TransportProtocol.Tcp, Ipv6: true),
        new(Message(QueryFlags, ("printer.local", 12, 0x8001)).Opt(512, version: 1, options: CookieOption).ToArray()),
        new(OfLength(1400, response: true)),
        new([0x12]),
    ];
}
