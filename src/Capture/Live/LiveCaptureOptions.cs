namespace RataDns.Capture.Live;

/// <summary>
/// How <see cref="LiveCapture.Open"/> opens an interface. The defaults suit a busy DNS server: the whole frame,
/// a 32 MiB kernel buffer to ride out bursts, immediate delivery (no batching delay) and the BPF filter
/// <c>port 53</c> applied in the kernel.
/// </summary>
public sealed class LiveCaptureOptions
{
    /// <summary>
    /// The interface name as libpcap knows it (<c>tcpdump -D</c> lists them), e.g. <c>eth0</c>; <c>any</c> captures
    /// on every interface with a Linux "cooked" link header (<see cref="LinkType.LinuxSll"/>) and no promiscuous mode.
    /// </summary>
    public required string Interface { get; init; }

    /// <summary>
    /// The BPF filter in pcap-filter(7) syntax, compiled and run in the kernel; empty captures everything. For DNS on
    /// other ports, e.g. <c>port 53 or port 5353</c>. Fragments after the first carry no port: to reassemble
    /// fragmented DNS over UDP use e.g. <c>port 53 or (ip[6:2] &amp; 0x1fff != 0)</c>.
    /// </summary>
    public string Filter { get; init; } = "port 53";

    /// <summary>The most bytes kept of each frame (snaplen); longer frames are cut, their original length kept.</summary>
    public int SnapLength { get; init; } = 65535;

    /// <summary>Promiscuous mode: needed on a port mirror (SPAN) where the traffic is not addressed to this host.</summary>
    public bool Promiscuous { get; init; }

    /// <summary>
    /// The kernel's capture buffer (<c>pcap_set_buffer_size</c>): frames wait here while the capture thread is busy.
    /// When it fills, the kernel drops and counts in <see cref="LiveCaptureStatistics.KernelDropped"/>; raise it for
    /// bursty traffic.
    /// </summary>
    public int KernelBufferBytes { get; init; } = 32 << 20;

    /// <summary>
    /// Immediate mode (<c>pcap_set_immediate_mode</c>): each frame is delivered as soon as it arrives instead of in
    /// kernel batches; costs a little more CPU per frame at very high rates, gives low latency at low rates.
    /// </summary>
    public bool Immediate { get; init; } = true;

    /// <summary>
    /// The read timeout (<c>pcap_set_timeout</c>) in milliseconds: without immediate mode, the longest a batch waits;
    /// in any mode, how often the capture loop looks up from an idle interface.
    /// </summary>
    public int ReadTimeoutMs { get; init; } = 100;
}
