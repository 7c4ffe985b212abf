using System.Runtime.InteropServices;

namespace RataDns.Capture.Live;

/// <summary>
/// The few libpcap functions that SharpPcap does not expose in a usable form, called through function pointers
/// taken from the same shared library SharpPcap loads: <c>pcap_datalink</c> (SharpPcap reports it only as a
/// PacketDotNet type, which RataDns does not use), <c>pcap_breakloop</c> (to wake a blocked read at once on
/// cancellation) and <c>pcap_stats</c> (SharpPcap drops <c>ps_ifdrop</c>). Loading it first also turns a missing
/// libpcap into one clear message before SharpPcap is touched.
/// </summary>
internal static unsafe class LibPcapLibrary
{
    // The names SharpPcap's resolver tries on Linux and macOS, most specific first; dlopen of a library already
    // loaded returns the same handle, so these are the functions SharpPcap calls.
    private static readonly string[] CandidateNames = OperatingSystem.IsWindows()
        ? ["wpcap.dll"]
        : OperatingSystem.IsMacOS()
            ? ["libpcap.dylib", "libpcap.A.dylib"]
            : ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so", "libpcap.so.0"];

    private static readonly Lazy<Exports?> LoadedExports = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The message for a machine without libpcap.</summary>
    public const string MissingMessage = "libpcap is not installed: apt-get install libpcap0.8";

    /// <summary>The loaded functions, or a <see cref="LiveCaptureException"/> saying libpcap is not installed.</summary>
    public static Exports Get() => LoadedExports.Value ?? throw new LiveCaptureException(MissingMessage);

    private static Exports? Load()
    {
        foreach (string name in CandidateNames)
        {
            if (NativeLibrary.TryLoad(name, out nint library)
                && NativeLibrary.TryGetExport(library, "pcap_datalink", out nint datalink)
                && NativeLibrary.TryGetExport(library, "pcap_breakloop", out nint breakloop)
                && NativeLibrary.TryGetExport(library, "pcap_stats", out nint stats))
            {
                return new Exports(
                    (delegate* unmanaged<nint, int>)datalink,
                    (delegate* unmanaged<nint, void>)breakloop,
                    (delegate* unmanaged<nint, PcapStat*, int>)stats);
            }
        }

        return null;
    }

    /// <summary>
    /// <c>struct pcap_stat</c>: three <c>u_int</c> counters on every platform (Windows appends <c>bs_capt</c>,
    /// which the reserved field covers, so the native side never writes past the struct).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PcapStat
    {
        public uint Received;
        public uint Dropped;
        public uint InterfaceDropped;
        public uint Reserved;
    }

    /// <summary>Function pointers into libpcap; each takes a raw <c>pcap_t*</c> the caller keeps alive.</summary>
    public sealed class Exports(
        delegate* unmanaged<nint, int> datalink,
        delegate* unmanaged<nint, void> breakloop,
        delegate* unmanaged<nint, PcapStat*, int> stats)
    {
        /// <summary><c>pcap_datalink</c>: the LINKTYPE_/DLT_ value of an activated handle.</summary>
        public int DataLink(nint pcap) => datalink(pcap);

        /// <summary>
        /// <c>pcap_breakloop</c>: makes the current or next read return PCAP_ERROR_BREAK. Safe from another thread
        /// (libpcap 1.10 on Linux also wakes a read blocked in poll).
        /// </summary>
        public void BreakLoop(nint pcap) => breakloop(pcap);

        /// <summary><c>pcap_stats</c>: 0 on success, a negative PCAP_ERROR value otherwise.</summary>
        public int Stats(nint pcap, out PcapStat stat)
        {
            PcapStat result = default;
            int rc = stats(pcap, &result);
            stat = result;
            return rc;
        }
    }
}
