using System.Globalization;
using System.Text;
using RataDns.DnsWire;

namespace RataDns.Capture.Pipeline;

/// <summary>
/// Everything a capture saw and everything it missed, updated as packets go by: frames, DNS messages by transport
/// and IP version, what was not DNS and why, malformed messages by reason, fragment and TCP reassembly, and the
/// drops reported by libpcap and by the rings. One thread writes the counters; readers on other threads see values
/// that may be a packet behind (64-bit reads do not tear on the platforms .NET runs on).
/// </summary>
public sealed class CaptureStatistics
{
    private const int MaxUnsupportedLinkTypes = 4;

    private readonly long[] _undecoded = new long[32];
    private readonly ushort[] _unsupportedTypes = new ushort[MaxUnsupportedLinkTypes];
    private readonly long[] _unsupportedFrames = new long[MaxUnsupportedLinkTypes];
    private int _unsupportedKinds;
    private readonly long[] _malformed = new long[16];

    public long Frames { get; internal set; }
    public long DnsMessages { get; internal set; }
    public long UdpMessages { get; internal set; }
    public long TcpMessages { get; internal set; }
    public long IPv4Messages { get; internal set; }
    public long IPv6Messages { get; internal set; }

    /// <summary>Datagrams to a DNS port with nothing in them: probes or scans, not DNS messages.</summary>
    public long EmptyUdpPayloads { get; internal set; }

    /// <summary>UDP datagrams cut by the snap length; their messages were kept and read as truncated.</summary>
    public long SnappedDatagrams { get; internal set; }

    /// <summary>TCP segments cut by the snap length: they cannot be used for stream reassembly.</summary>
    public long SnappedSegments { get; internal set; }

    public long FragmentsSeen { get; internal set; }
    public long DatagramsReassembled { get; internal set; }
    public long FragmentsExpired { get; internal set; }
    public long FragmentsEvicted { get; internal set; }
    public long FragmentsInvalid { get; internal set; }

    public long TcpSegments { get; internal set; }
    public long TcpRetransmissions { get; internal set; }
    public long TcpHoles { get; internal set; }
    public long TcpBytesSkipped { get; internal set; }
    public long TcpConnectionsTimedOut { get; internal set; }
    public long TcpEvictions { get; internal set; }

    /// <summary>Packets the kernel dropped before libpcap could read them (pcap_stats ps_drop).</summary>
    public long KernelDropped { get; internal set; }

    /// <summary>Packets the interface or driver dropped (pcap_stats ps_ifdrop).</summary>
    public long InterfaceDropped { get; internal set; }

    /// <summary>Frames dropped because a ring toward the workers was full.</summary>
    public long RingDropped { get; internal set; }

    /// <summary>Takes the latest drop counters of the live capture (libpcap's) and of the rings.</summary>
    public void RecordDrops(long kernelDropped, long interfaceDropped, long ringDropped)
    {
        KernelDropped = kernelDropped;
        InterfaceDropped = interfaceDropped;
        RingDropped = ringDropped;
    }

    /// <summary>
    /// Adds every counter of <paramref name="other"/> to this one (the statistics of several workers' pipelines
    /// summed into one report). The drop counters, which are capture-wide, are added too.
    /// </summary>
    public void Add(CaptureStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Frames += other.Frames;
        DnsMessages += other.DnsMessages;
        UdpMessages += other.UdpMessages;
        TcpMessages += other.TcpMessages;
        IPv4Messages += other.IPv4Messages;
        IPv6Messages += other.IPv6Messages;
        EmptyUdpPayloads += other.EmptyUdpPayloads;
        SnappedDatagrams += other.SnappedDatagrams;
        SnappedSegments += other.SnappedSegments;
        FragmentsSeen += other.FragmentsSeen;
        DatagramsReassembled += other.DatagramsReassembled;
        FragmentsExpired += other.FragmentsExpired;
        FragmentsEvicted += other.FragmentsEvicted;
        FragmentsInvalid += other.FragmentsInvalid;
        TcpSegments += other.TcpSegments;
        TcpRetransmissions += other.TcpRetransmissions;
        TcpHoles += other.TcpHoles;
        TcpBytesSkipped += other.TcpBytesSkipped;
        TcpConnectionsTimedOut += other.TcpConnectionsTimedOut;
        TcpEvictions += other.TcpEvictions;
        KernelDropped += other.KernelDropped;
        InterfaceDropped += other.InterfaceDropped;
        RingDropped += other.RingDropped;
        for (int i = 0; i < _undecoded.Length; i++)
        {
            _undecoded[i] += other._undecoded[i];
        }

        for (int i = 0; i < _malformed.Length; i++)
        {
            _malformed[i] += other._malformed[i];
        }

        for (int i = 0; i < Math.Min(other._unsupportedKinds, MaxUnsupportedLinkTypes); i++)
        {
            AddUnsupported(other._unsupportedTypes[i], other._unsupportedFrames[i]);
        }
    }

    /// <summary>
    /// Frames skipped because the decoder does not know their link type, by link type (the first few kinds seen;
    /// later ones count under the last), so a run can say which link layer it could not read.
    /// </summary>
    public IReadOnlyList<(LinkType LinkType, long Frames)> UnsupportedLinkTypes
    {
        get
        {
            int kinds = Math.Min(_unsupportedKinds, MaxUnsupportedLinkTypes);
            var list = new (LinkType, long)[kinds];
            for (int i = 0; i < kinds; i++)
            {
                list[i] = ((LinkType)_unsupportedTypes[i], _unsupportedFrames[i]);
            }

            return list;
        }
    }

    internal void CountUnsupportedLinkType(LinkType linkType)
    {
        CountNotDecoded(PacketDecodeStatus.UnsupportedLinkType);
        AddUnsupported((ushort)linkType, 1);
    }

    private void AddUnsupported(ushort linkType, long frames)
    {
        for (int i = 0; i < _unsupportedKinds; i++)
        {
            if (_unsupportedTypes[i] == linkType)
            {
                _unsupportedFrames[i] += frames;
                return;
            }
        }

        if (_unsupportedKinds == MaxUnsupportedLinkTypes)
        {
            _unsupportedFrames[MaxUnsupportedLinkTypes - 1] += frames;
            return;
        }

        _unsupportedTypes[_unsupportedKinds] = linkType;
        _unsupportedFrames[_unsupportedKinds] = frames;
        _unsupportedKinds++;
    }

    /// <summary>DNS messages whose parse found a fault, for a status.</summary>
    public long Malformed(DnsParseStatus status) => _malformed[(int)status & 15];

    /// <summary>
    /// Replaces the parse-status tally of the messages counted so far with <paramref name="counts"/> (indexed by
    /// <see cref="DnsParseStatus"/>), for a handler that learns each message's status only after the pipeline counted
    /// it (the serializer formatting on other threads answers Ok, then tallies the real statuses). The counts must
    /// cover exactly the messages counted.
    /// </summary>
    public void RecountParseStatuses(ReadOnlySpan<long> counts)
    {
        long total = 0;
        foreach (long count in counts)
        {
            total += count;
        }

        if (counts.Length > _malformed.Length || total != DnsMessages)
        {
            throw new ArgumentException($"{total} statuses for {DnsMessages} messages counted", nameof(counts));
        }

        Array.Clear(_malformed);
        counts.CopyTo(_malformed);
    }

    /// <summary>Frames that were not DNS, for a decoder status.</summary>
    public long NotDecoded(PacketDecodeStatus status) => _undecoded[(int)status & 31];

    /// <summary>All frames that did not lead to a DNS message directly (fragments waiting, other traffic, faults).</summary>
    public long NonDnsFrames
    {
        get
        {
            long sum = 0;
            for (int i = 1; i < _undecoded.Length; i++)
            {
                sum += _undecoded[i];
            }

            return sum;
        }
    }

    internal void CountNotDecoded(PacketDecodeStatus status) => _undecoded[(int)status & 31]++;

    internal void CountMessage(TransportProtocol transport, byte ipVersion, DnsParseStatus status)
    {
        DnsMessages++;
        if (transport == TransportProtocol.Udp)
        {
            UdpMessages++;
        }
        else
        {
            TcpMessages++;
        }

        if (ipVersion == 6)
        {
            IPv6Messages++;
        }
        else
        {
            IPv4Messages++;
        }

        _malformed[(int)status & 15]++;
    }

    /// <summary>A readable report, one "name: value" per line, zero lines left out except the key ones.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        void Line(string name, long value, bool always = false)
        {
            if (always || value != 0)
            {
                text.Append(name).Append(": ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        Line("frames", Frames, always: true);
        Line("dns messages", DnsMessages, always: true);
        Line("  udp", UdpMessages, always: true);
        Line("  tcp", TcpMessages, always: true);
        Line("  ipv4", IPv4Messages, always: true);
        Line("  ipv6", IPv6Messages, always: true);
        for (int i = 1; i < _malformed.Length; i++)
        {
            Line($"  malformed {DnsParseStatusNames.Name((DnsParseStatus)i)}", _malformed[i]);
        }

        Line("non-dns frames", NonDnsFrames, always: true);
        for (int i = 1; i < _undecoded.Length; i++)
        {
            Line($"  {DecodeStatusName((PacketDecodeStatus)i)}", _undecoded[i]);
        }

        Line("  empty udp payloads", EmptyUdpPayloads);
        Line("udp datagrams cut by the snap length", SnappedDatagrams);
        Line("tcp segments cut by the snap length", SnappedSegments);
        Line("ip fragments", FragmentsSeen);
        Line("  datagrams reassembled", DatagramsReassembled);
        Line("  fragments expired", FragmentsExpired);
        Line("  fragments evicted", FragmentsEvicted);
        Line("  invalid fragments", FragmentsInvalid);
        Line("tcp segments", TcpSegments);
        Line("  retransmissions", TcpRetransmissions);
        Line("  holes", TcpHoles);
        Line("  bytes skipped", TcpBytesSkipped);
        Line("  connections timed out", TcpConnectionsTimedOut);
        Line("  connections evicted", TcpEvictions);
        Line("kernel drops", KernelDropped);
        Line("interface drops", InterfaceDropped);
        Line("ring drops", RingDropped);
        return text.ToString();
    }

    /// <summary>snake_case names of decoder statuses, for reports and counters.</summary>
    public static string DecodeStatusName(PacketDecodeStatus status)
    {
        var name = status.ToString();
        var text = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append(' ');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }
}
