using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Counters;

/// <summary>
/// TransportCounter: messages (queries, responses, and messages too short to tell) by transport and IP version,
/// <c>{"udp4": n, "udp6": n, "tcp4": n, "tcp6": n}</c>, always those four keys in that order; then, only when some
/// were seen (dnstap reports them, a packet capture cannot), the encrypted transports <c>"dot4"</c>, <c>"dot6"</c>
/// (DNS over TLS), <c>"doh4"</c>, <c>"doh6"</c> (HTTPS), <c>"doq4"</c>, <c>"doq6"</c> (QUIC), <c>"dnscrypt4"</c>,
/// <c>"dnscrypt6"</c>, each pair written together. A message over an encrypted transport is counted there only, not
/// as the UDP or TCP under it. The IP version is <see cref="DnsPacketView.IpVersion"/>; a transport other than UDP or
/// TCP is not counted.
/// </summary>
public sealed class TransportCounter : Reducer
{
    // Pairs (IPv4, IPv6) in the order written: udp, tcp, dot, doh, doq, dnscrypt.
    private static readonly string[] Keys = ["udp4", "udp6", "tcp4", "tcp6", "dot4", "dot6", "doh4", "doh6", "doq4", "doq6", "dnscrypt4", "dnscrypt6"];
    private const int PlainKeys = 4;
    private const int Layout = 2;
    private readonly long[] _counts = new long[12];

    /// <inheritdoc />
    public override string Type => "TransportCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        int pair = packet.Encryption switch
        {
            EncryptedTransport.None => packet.Transport switch
            {
                TransportProtocol.Udp => 0,
                TransportProtocol.Tcp => 1,
                _ => -1,
            },
            EncryptedTransport.Tls => 2,
            EncryptedTransport.Https => 3,
            EncryptedTransport.Quic => 4,
            EncryptedTransport.DnsCrypt => 5,
            _ => -1,
        };
        if (pair >= 0)
        {
            _counts[(2 * pair) + (packet.IpVersion == 6 ? 1 : 0)]++;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<TransportCounter>(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += same._counts[i];
        }
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        for (int i = 0; i < _counts.Length; i += 2)
        {
            if (i < PlainKeys || _counts[i] != 0 || _counts[i + 1] != 0)
            {
                writer.WriteNumber(Keys[i], _counts[i]);
                writer.WriteNumber(Keys[i + 1], _counts[i + 1]);
            }
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[2, udp4, udp6, tcp4, tcp6, dot4, dot6, doh4, doh6, doq4, doq6, dnscrypt4, dnscrypt6]</c>; layout 1
    /// (<c>[1, udp4, udp6, tcp4, tcp6]</c>, monitors before the encrypted transports) is still read.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(1 + _counts.Length);
        writer.Write(Layout);
        foreach (long count in _counts)
        {
            writer.Write(count);
        }
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        int items = StateReading.ArrayHeader(ref reader, 1 + _counts.Length, Type, "items");
        int layout = items > 0 ? reader.ReadInt32() : throw new InvalidDataException($"{Type} state: an empty array.");
        int counts = layout switch
        {
            1 => PlainKeys,
            Layout => _counts.Length,
            _ => throw new InvalidDataException($"{Type} state layout {layout}; this build reads layouts 1 and {Layout}."),
        };
        if (items != 1 + counts)
        {
            throw new InvalidDataException($"{Type} state: {items} items; layout {layout} has {1 + counts}.");
        }

        Array.Clear(_counts);
        for (int i = 0; i < counts; i++)
        {
            _counts[i] = StateReading.Count(ref reader, Type, Keys[i]);
        }
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset() => Array.Clear(_counts);

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new TransportCounter();
}
