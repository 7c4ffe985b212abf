using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Counters;

/// <summary>
/// TransportCounter: messages (queries, responses, and messages too short to tell) by transport and IP version,
/// <c>{"udp4": n, "udp6": n, "tcp4": n, "tcp6": n}</c>, always all four keys in that order. The IP version is
/// <see cref="DnsPacketView.IpVersion"/>; a transport other than UDP or TCP is not counted.
/// </summary>
public sealed class TransportCounter : Reducer
{
    private long _udp4;
    private long _udp6;
    private long _tcp4;
    private long _tcp6;

    /// <inheritdoc />
    public override string Type => "TransportCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        bool ipv6 = packet.IpVersion == 6;
        switch (packet.Transport)
        {
            case TransportProtocol.Udp when ipv6:
                _udp6++;
                break;
            case TransportProtocol.Udp:
                _udp4++;
                break;
            case TransportProtocol.Tcp when ipv6:
                _tcp6++;
                break;
            case TransportProtocol.Tcp:
                _tcp4++;
                break;
            default:
                break;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<TransportCounter>(other);
        _udp4 += same._udp4;
        _udp6 += same._udp6;
        _tcp4 += same._tcp4;
        _tcp6 += same._tcp6;
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("udp4"u8, _udp4);
        writer.WriteNumber("udp6"u8, _udp6);
        writer.WriteNumber("tcp4"u8, _tcp4);
        writer.WriteNumber("tcp6"u8, _tcp6);
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary><c>[1, udp4, udp6, tcp4, tcp6]</c>.</summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(5);
        writer.Write(1);
        writer.Write(_udp4);
        writer.Write(_udp6);
        writer.Write(_tcp4);
        writer.Write(_tcp6);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 5, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _udp4 = StateReading.Count(ref reader, Type, "udp4");
        _udp6 = StateReading.Count(ref reader, Type, "udp6");
        _tcp4 = StateReading.Count(ref reader, Type, "tcp4");
        _tcp6 = StateReading.Count(ref reader, Type, "tcp6");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset()
    {
        _udp4 = 0;
        _udp6 = 0;
        _tcp4 = 0;
        _tcp6 = 0;
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new TransportCounter();
}
