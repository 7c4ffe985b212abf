using RataDns.Capture.Ring;
using SharpPcap;
using SharpPcap.LibPcap;

namespace RataDns.Capture.Live;

/// <summary>
/// Captures frames from a network interface through libpcap (opened with SharpPcap) and copies each into a
/// <see cref="FrameRing"/>, on the thread that calls <see cref="Run"/>. Nothing else happens on that thread: no
/// parsing, no allocation, no blocking on the ring (a full ring is a counted drop).
/// </summary>
/// <remarks>
/// <para>Operator notes.</para>
/// <list type="bullet">
/// <item>Needs libpcap (<c>apt-get install libpcap0.8</c>) and the right to capture: root, or <c>CAP_NET_RAW</c>
/// alone (promiscuous mode too: libpcap asks for it with a packet socket membership, no <c>CAP_NET_ADMIN</c>).</item>
/// <item>Three places can lose frames, each counted: the kernel buffer
/// (<see cref="LiveCaptureStatistics.KernelDropped"/>: raise <see cref="LiveCaptureOptions.KernelBufferBytes"/>),
/// the ring (<see cref="FrameRing.Dropped"/>: more slots or faster workers), and the interface
/// (<see cref="LiveCaptureStatistics.InterfaceDropped"/>).</item>
/// <item>On <c>lo</c> the kernel counts each packet twice in <see cref="LiveCaptureStatistics.Received"/> (out and
/// in), but the capture delivers it once.</item>
/// <item>Timestamps are the kernel's, in nanoseconds where libpcap offers it (microseconds otherwise).</item>
/// </list>
/// <para>
/// Threads: <see cref="Run"/> on one thread (the capture thread, the ring's producer);
/// <see cref="ReadStatistics"/> from any thread; <see cref="Dispose"/> after <see cref="Run"/> has returned (if it
/// has not, Dispose wakes it and waits for it briefly first).
/// </para>
/// </remarks>
public sealed unsafe class LiveCapture : IDisposable
{
    // pcap_next_ex results (pcap/pcap.h).
    private const int NextPacket = 1;
    private const int NextTimeout = 0;
    private const int NextError = -1;
    private const int NextBreak = -2;

    private readonly LibPcapLiveDevice _device;
    private readonly LibPcapLibrary.Exports _libpcap;
    private readonly PacketHeaderLayout _headerLayout;
    private readonly Lock _statisticsLock = new();
    private readonly string _interfaceName;
    private readonly string _filter;
    private StatisticsCounters _statistics;
    private readonly int _readTimeoutMs;
    private int _running;
    private int _stopRequested;
    private bool _disposed;

    private LiveCapture(
        LibPcapLiveDevice device, LibPcapLibrary.Exports libpcap, LinkType linkType, bool nanosecondTimestamps, LiveCaptureOptions options)
    {
        _device = device;
        _libpcap = libpcap;
        LinkType = linkType;
        _headerLayout = PacketHeaderLayout.ForThisPlatform(nanosecondTimestamps);
        _interfaceName = options.Interface;
        _filter = options.Filter;
        _readTimeoutMs = options.ReadTimeoutMs;
    }

    /// <summary>The link-layer header type of the frames (e.g. Ethernet; Linux SLL on <c>any</c>).</summary>
    public LinkType LinkType { get; }

    /// <summary>The interface captured.</summary>
    public string InterfaceName => _interfaceName;

    /// <summary>The BPF filter in force.</summary>
    public string Filter => _filter;

    /// <summary>
    /// Opens and activates the interface named in <paramref name="options"/> and installs its filter. Throws
    /// <see cref="LiveCaptureException"/> with a clear message when libpcap is missing, the interface is unknown
    /// (the message lists the ones there are), permission is lacking, or the filter does not compile.
    /// </summary>
    public static LiveCapture Open(LiveCaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Interface);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.SnapLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.KernelBufferBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ReadTimeoutMs);

        var libpcap = LibPcapLibrary.Get();
        var device = FindDevice(options.Interface);
        try
        {
            bool nanoseconds = Activate(device, options);
            if (!string.IsNullOrWhiteSpace(options.Filter))
            {
                InstallFilter(device, options);
            }

            int dataLink = WithRawHandle(device, libpcap.DataLink);
            if (dataLink < 0 || dataLink > ushort.MaxValue)
            {
                throw new LiveCaptureException($"libpcap reported no link type for interface '{options.Interface}' ({dataLink})");
            }

            if (!PacketDecoder.Supports((LinkType)dataLink))
            {
                // Every frame would be skipped: say so now rather than count nothing.
                throw new LiveCaptureException($"interface '{options.Interface}': link type {LinkTypeNames.Describe((LinkType)dataLink)} is not one RataDns decodes; capture on another interface (tcpdump -D lists them) or on 'any'");
            }

            return new LiveCapture(device, libpcap, (LinkType)dataLink, nanoseconds, options);
        }
        catch
        {
            device.Close();
            throw;
        }
    }

    /// <summary>
    /// Runs the capture loop on the calling thread until <paramref name="cancellationToken"/> is cancelled: every
    /// frame is copied into <paramref name="ring"/> with <see cref="FrameRing.TryWrite(ReadOnlySpan{byte}, long, LinkType, uint)"/>
    /// (a full ring counts a drop there) and nothing else is done with it. Cancellation wakes a blocked read at once
    /// (<c>pcap_breakloop</c>); at worst the loop notices it after <see cref="LiveCaptureOptions.ReadTimeoutMs"/>.
    /// Throws <see cref="LiveCaptureException"/> if libpcap reports an error (e.g. the interface went down).
    /// </summary>
    public void Run(FrameRing ring, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var writer = new RingWriter(ring);
        Run(ref writer, cancellationToken);
    }

    /// <summary>
    /// Runs the capture loop on the calling thread until <paramref name="cancellationToken"/> is cancelled, handing
    /// each frame to <paramref name="handler"/> on this thread (its bytes are libpcap's buffer: valid during the call
    /// only) and calling <see cref="ILiveFrameHandler.OnIdle"/> with the wall-clock time whenever a read times out,
    /// so time-based work goes on when traffic stops. The handler must be quick and must not block: the kernel
    /// buffer fills while it runs. Cancellation and errors behave as in <see cref="Run(FrameRing, CancellationToken)"/>.
    /// </summary>
    public void Run<THandler>(ref THandler handler, CancellationToken cancellationToken)
        where THandler : ILiveFrameHandler
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            throw new InvalidOperationException("LiveCapture.Run is already running on another thread");
        }

        PcapHandle? handle = null;
        bool addedRef = false;
        try
        {
            // Acquire, after the full fence of the CompareExchange above: see Dispose.
            if (Volatile.Read(ref _stopRequested) != 0)
            {
                throw new ObjectDisposedException(nameof(LiveCapture));
            }

            // Keep the pcap_t alive for the whole loop, whatever Dispose does meanwhile.
            handle = _device.Handle;
            handle.DangerousAddRef(ref addedRef);
            using var registration = cancellationToken.UnsafeRegister(
                static state => ((LiveCapture)state!).BreakLoop(), this);
            CaptureLoop(ref handler, cancellationToken);
        }
        finally
        {
            if (addedRef)
            {
                handle!.DangerousRelease();
            }

            // Release: Dispose, spinning on this flag, sees the loop finished before it closes the handle.
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// libpcap's counters since the capture was opened (<c>pcap_stats</c>), widened to 64 bits. Callable from any
    /// thread, e.g. once a second by a monitoring timer; allocates the returned record only.
    /// </summary>
    public LiveCaptureStatistics ReadStatistics()
    {
        lock (_statisticsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var handle = _device.Handle;
            bool addedRef = false;
            int rc;
            LibPcapLibrary.PcapStat stat;
            try
            {
                handle.DangerousAddRef(ref addedRef);
                rc = _libpcap.Stats(handle.DangerousGetHandle(), out stat);
            }
            finally
            {
                if (addedRef)
                {
                    handle.DangerousRelease();
                }
            }

            if (rc < 0)
            {
                throw new LiveCaptureException(
                    $"pcap_stats failed on interface '{_interfaceName}': {_device.LastError}");
            }

            _statistics.Received.Update(stat.Received);
            _statistics.KernelDropped.Update(stat.Dropped);
            _statistics.InterfaceDropped.Update(stat.InterfaceDropped);
            return new LiveCaptureStatistics(
                _statistics.Received.Total, _statistics.KernelDropped.Total, _statistics.InterfaceDropped.Total);
        }
    }

    /// <summary>Closes the interface. If <see cref="Run"/> is still running, wakes it and waits up to 5 s for it first.</summary>
    public void Dispose()
    {
        lock (_statisticsLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Full fence (store then load): with Run's full fence on _running (store) before it reads _stopRequested
        // (load), either Run sees the stop request or this sees Run running; never neither.
        Interlocked.Exchange(ref _stopRequested, 1);

        // Acquire: pairs with the release at the end of Run, so the loop is entirely finished when this reads 0.
        if (Volatile.Read(ref _running) != 0)
        {
            BreakLoop();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var deadline = TimeSpan.FromMilliseconds(Math.Max(5000, 4 * _readTimeoutMs));
            var spinner = default(SpinWait);
            // Waiting (SpinWait sleeps after its first rounds) only on this rare path: Dispose racing a running
            // loop, which breakloop ends at once and the read timeout ends at the latest.
            while (Volatile.Read(ref _running) != 0)
            {
                if (clock.Elapsed > deadline)
                {
                    // Closing under a running read would hand libpcap a dead handle: leave it open instead.
                    return;
                }

                spinner.SpinOnce();
            }
        }

        _device.Close();
    }

    private void CaptureLoop<THandler>(ref THandler handler, CancellationToken cancellationToken)
        where THandler : ILiveFrameHandler
    {
        var device = _device;
        var layout = _headerLayout;
        var linkType = LinkType;
        nint header = 0;
        nint data = 0;
        long frameNumber = 0;
        // _stopRequested is set by Dispose (with a full fence); reading it orders nothing else, Volatile only keeps
        // the read in the loop (not hoisted) so a Dispose from another thread is seen after pcap_breakloop.
        while (!cancellationToken.IsCancellationRequested && Volatile.Read(ref _stopRequested) == 0)
        {
            int rc = device.GetNextPacketPointers(ref header, ref data);
            if (rc == NextPacket)
            {
                layout.ReadUnsafe(header, out long timestamp, out uint captured, out uint original);
                var frame = new CapturedFrame(timestamp, linkType, 0, original, new ReadOnlySpan<byte>((void*)data, (int)captured), 0, ++frameNumber);
                handler.OnFrame(in frame);
            }
            else if (rc == NextTimeout || rc == NextBreak)
            {
                // Timeout: nothing arrived; break: pcap_breakloop (cancellation or Dispose). Look at both.
                handler.OnIdle((DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100);
                continue;
            }
            else
            {
                string error = rc == NextError ? device.LastError : $"pcap_next_ex returned {rc}";
                throw new LiveCaptureException($"capture on interface '{_interfaceName}' stopped: {error}");
            }
        }
    }

    /// <summary>Copies each frame into a ring (a full ring counts a drop there).</summary>
    private readonly struct RingWriter(FrameRing ring) : ILiveFrameHandler
    {
        public void OnFrame(in CapturedFrame frame) => ring.TryWrite(frame.Data, frame.TimestampNanoseconds, frame.LinkType, frame.OriginalLength);

        public void OnIdle(long nowNanoseconds)
        {
        }
    }

    private void BreakLoop()
    {
        var handle = _device.Handle;
        bool addedRef = false;
        try
        {
            handle.DangerousAddRef(ref addedRef);
            _libpcap.BreakLoop(handle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing to wake.
        }
        finally
        {
            if (addedRef)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static LibPcapLiveDevice FindDevice(string name)
    {
        LibPcapLiveDeviceList devices;
        try
        {
            // A fresh list: its device objects belong to this capture alone (the shared Instance would share them).
            devices = LibPcapLiveDeviceList.New();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            throw new LiveCaptureException(LibPcapLibrary.MissingMessage, e);
        }
        catch (PcapException e)
        {
            throw new LiveCaptureException($"libpcap could not list the capture interfaces: {e.Message}", e);
        }

        foreach (var device in devices)
        {
            if (string.Equals(device.Name, name, StringComparison.Ordinal))
            {
                return device;
            }
        }

        var names = new List<string>(devices.Count);
        foreach (var device in devices)
        {
            names.Add(device.Name);
        }

        throw new LiveCaptureException(names.Count == 0
            ? $"no capture interface named '{name}': libpcap lists no interfaces at all (capturing needs root or CAP_NET_RAW)"
            : $"no capture interface named '{name}'; available: {string.Join(", ", names)}");
    }

    /// <summary>Opens and activates the device; returns whether its timestamps are in nanoseconds.</summary>
    private static bool Activate(LibPcapLiveDevice device, LiveCaptureOptions options)
    {
        var failures = new List<string>();
        bool nanosecondsRefused = false;
        var configuration = new DeviceConfiguration
        {
            Mode = options.Promiscuous ? DeviceModes.Promiscuous : DeviceModes.None,
            Snaplen = options.SnapLength,
            ReadTimeout = options.ReadTimeoutMs,
            BufferSize = options.KernelBufferBytes,
            Immediate = options.Immediate,
            TimestampResolution = TimestampResolution.Nanosecond,
        };
        configuration.ConfigurationFailed += (_, e) =>
        {
            // Nanosecond timestamps are a wish (microseconds work); every other setting was asked for.
            if (e.Property == nameof(DeviceConfiguration.TimestampResolution))
            {
                nanosecondsRefused = true;
            }
            else
            {
                failures.Add($"{e.Property}: {e.Message}");
            }
        };

        try
        {
            device.Open(configuration);
        }
        catch (PcapException e)
        {
            throw new LiveCaptureException(DescribeOpenFailure(options.Interface, e), e);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            throw new LiveCaptureException(LibPcapLibrary.MissingMessage, e);
        }

        if (failures.Count > 0)
        {
            throw new LiveCaptureException(
                $"libpcap refused settings for interface '{options.Interface}': {string.Join("; ", failures)}");
        }

        return !nanosecondsRefused && device.TimestampResolution == TimestampResolution.Nanosecond;
    }

    private static string DescribeOpenFailure(string name, PcapException e)
    {
        // pcap_activate's PCAP_ERROR_PERM_DENIED (-8) and PCAP_ERROR_NO_SUCH_DEVICE (-5).
        return e.Error switch
        {
            PcapError.PermissionDenied =>
                $"no permission to capture on interface '{name}': run as root, as the systemd unit (AmbientCapabilities=CAP_NET_RAW), or give the binary CAP_NET_RAW (setcap cap_net_raw=eip)",
            PcapError.NoSuchDevice => $"interface '{name}' disappeared before it could be opened: {e.Message}",
            _ => $"libpcap could not open interface '{name}': {e.Message} ({e.Error})",
        };
    }

    private static void InstallFilter(LibPcapLiveDevice device, LiveCaptureOptions options)
    {
        try
        {
            device.Filter = options.Filter;
        }
        catch (PcapException e)
        {
            throw new LiveCaptureException(
                $"bad capture filter \"{options.Filter}\" for interface '{options.Interface}': {e.Message}", e);
        }
    }

    private static T WithRawHandle<T>(LibPcapLiveDevice device, Func<nint, T> call)
    {
        var handle = device.Handle;
        bool addedRef = false;
        try
        {
            handle.DangerousAddRef(ref addedRef);
            return call(handle.DangerousGetHandle());
        }
        finally
        {
            if (addedRef)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Where libpcap's <c>struct pcap_pkthdr</c> keeps its fields on this platform: a <c>struct timeval</c>
    /// (64-bit seconds and sub-seconds on 64-bit Linux, 64-bit seconds and a 32-bit sub-second field padded to 16
    /// bytes on macOS, two 32-bit fields on Windows and 32-bit systems), then <c>caplen</c> and <c>len</c>, two
    /// 32-bit fields. The sub-second field holds nanoseconds when the handle was set to nanosecond precision.
    /// </summary>
    private readonly struct PacketHeaderLayout(bool wideTimeval, bool wideFraction, int lengthsOffset, long fractionScale)
    {
        public static PacketHeaderLayout ForThisPlatform(bool nanoseconds)
        {
            long scale = nanoseconds ? 1 : 1000;
            if (nint.Size == 4 || OperatingSystem.IsWindows())
            {
                return new PacketHeaderLayout(wideTimeval: false, wideFraction: false, lengthsOffset: 8, scale);
            }

            return OperatingSystem.IsMacOS()
                ? new PacketHeaderLayout(wideTimeval: true, wideFraction: false, lengthsOffset: 16, scale)
                : new PacketHeaderLayout(wideTimeval: true, wideFraction: true, lengthsOffset: 16, scale);
        }

        /// <summary>Reads a header libpcap returned from <c>pcap_next_ex</c> (valid until the next read).</summary>
        public void ReadUnsafe(nint header, out long timestampNanoseconds, out uint captured, out uint original)
        {
            byte* p = (byte*)header;
            long seconds;
            long fraction;
            if (wideTimeval)
            {
                seconds = *(long*)p;
                fraction = wideFraction ? *(long*)(p + 8) : *(int*)(p + 8);
            }
            else
            {
                seconds = *(int*)p;
                fraction = *(int*)(p + 4);
            }

            timestampNanoseconds = (seconds * 1_000_000_000) + (fraction * fractionScale);
            captured = *(uint*)(p + lengthsOffset);
            original = *(uint*)(p + lengthsOffset + 4);
        }
    }

    /// <summary>A 32-bit libpcap counter widened to 64 bits: each reading adds the (wrapping) difference.</summary>
    private struct WideCounter
    {
        private uint _last;

        public long Total { get; private set; }

        public void Update(uint current)
        {
            Total += unchecked(current - _last);
            _last = current;
        }
    }

    private struct StatisticsCounters
    {
        public WideCounter Received;
        public WideCounter KernelDropped;
        public WideCounter InterfaceDropped;
    }
}

/// <summary>Receives a live capture's frames on the capture thread, and a call when a read times out with nothing.</summary>
public interface ILiveFrameHandler : ICaptureFrameHandler
{
    /// <summary>No frame arrived within the read timeout; <paramref name="nowNanoseconds"/> is the wall clock (Unix epoch).</summary>
    void OnIdle(long nowNanoseconds);
}
