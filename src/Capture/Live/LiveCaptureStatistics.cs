namespace RataDns.Capture.Live;

/// <summary>
/// libpcap's counters (<c>pcap_stats</c>) since the capture was opened, widened to 64 bits (libpcap's are 32-bit
/// and wrap; <see cref="LiveCapture.ReadStatistics"/> extends them, so read them at least once per 2^32 frames).
/// </summary>
/// <param name="Received">
/// Frames that passed the filter, as counted by the kernel (Linux: <c>tp_packets</c>). On <c>lo</c> each packet is
/// seen on the way out and on the way in, so this counts it twice, though the capture delivers it once.
/// </param>
/// <param name="KernelDropped">Frames dropped because the kernel buffer was full (the capture thread fell behind).</param>
/// <param name="InterfaceDropped">Frames the network interface or driver dropped (Linux: the interface's rx drops), where known.</param>
public sealed record LiveCaptureStatistics(long Received, long KernelDropped, long InterfaceDropped);
