using System.Text;
using RataDns.Capture;
using RataDns.DnsWire;

namespace RataDns.App.Commands;

/// <summary>What a run saw: frames, DNS messages by transport and IP version, what was not DNS and why, faults.</summary>
internal sealed class CaptureStatistics
{
    private readonly long[] _undecoded = new long[32];
    private readonly long[] _malformed = new long[16];

    public long Frames { get; set; }
    public long DnsMessages { get; private set; }
    public long Udp { get; private set; }
    public long Tcp { get; private set; }
    public long IPv4 { get; private set; }
    public long IPv6 { get; private set; }
    public long TcpPartialSegments { get; set; }
    public long EmptyUdpPayloads { get; set; }
    public long SnappedDatagrams { get; set; }

    public void CountUndecoded(PacketDecodeStatus status) => _undecoded[(int)status & 31]++;

    public void CountMessage(TransportProtocol transport, byte ipVersion, DnsParseStatus status)
    {
        DnsMessages++;
        if (transport == TransportProtocol.Udp)
        {
            Udp++;
        }
        else
        {
            Tcp++;
        }

        if (ipVersion == 4)
        {
            IPv4++;
        }
        else
        {
            IPv6++;
        }

        _malformed[(int)status & 15]++;
    }

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine($"frames: {Frames}");
        text.AppendLine($"dns messages: {DnsMessages} (udp {Udp}, tcp {Tcp}; ipv4 {IPv4}, ipv6 {IPv6})");
        for (int i = 1; i < _malformed.Length; i++)
        {
            if (_malformed[i] > 0)
            {
                text.AppendLine($"malformed {DnsParseStatusNames.Name((DnsParseStatus)i)}: {_malformed[i]}");
            }
        }

        for (int i = 1; i < _undecoded.Length; i++)
        {
            if (_undecoded[i] > 0)
            {
                text.AppendLine($"not decoded, {(PacketDecodeStatus)i}: {_undecoded[i]}");
            }
        }

        if (SnappedDatagrams > 0)
        {
            text.AppendLine($"udp datagrams cut by the snap length (their messages read as truncated): {SnappedDatagrams}");
        }

        if (EmptyUdpPayloads > 0)
        {
            text.AppendLine($"udp datagrams on a dns port with an empty payload: {EmptyUdpPayloads}");
        }

        if (TcpPartialSegments > 0)
        {
            text.AppendLine($"tcp segments with a message continued in another segment (not reassembled yet): {TcpPartialSegments}");
        }

        return text.ToString();
    }
}
