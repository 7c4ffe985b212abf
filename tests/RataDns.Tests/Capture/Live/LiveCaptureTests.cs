using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using RataDns.Capture;
using RataDns.Capture.Live;
using RataDns.Capture.Ring;

namespace RataDns.Tests.Capture.Live;

/// <summary>
/// Live capture on the loopback interface: needs root (or CAP_NET_RAW) and libpcap, and is skipped, saying which,
/// without them. Only 127.0.0.1 is ever sent to.
/// </summary>
public sealed class LiveCaptureTests
{
    /// <summary>How long a test waits for something that must happen; a hang guard, not a measure of anything.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public void Captures_exactly_the_datagrams_sent_on_loopback_with_their_payloads()
    {
        SkipUnlessCaptureIsPossible();
        const int Count = 200;
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        using var capture = LiveCapture.Open(new LiveCaptureOptions { Interface = "lo", Filter = $"udp port {port}" });
        Assert.Equal(LinkType.Ethernet, capture.LinkType);
        var ring = new FrameRing(256, 2048);
        using var cts = new CancellationTokenSource();
        Exception? captureError = null;
        long allocatedByRun = -1;
        var captureThread = new Thread(() =>
        {
            try
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                capture.Run(ring, cts.Token);
                allocatedByRun = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                captureError = e;
            }
        });
        captureThread.Start();

        // The filter is in force once Open returns: datagrams sent now wait in the kernel buffer for Run.
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        using (var sender = new UdpClient())
        {
            for (int i = 0; i < Count; i++)
            {
                byte[] payload = Payload(i);
                sender.Send(payload, payload.Length, new IPEndPoint(IPAddress.Loopback, port));
            }
        }

        // Up to a minute for them to arrive: a hang guard; the count is what is asserted.
        var received = new List<(byte[] Data, long Timestamp, uint OriginalLength, LinkType LinkType)>();
        var clock = Stopwatch.StartNew();
        while (received.Count < Count && clock.Elapsed < HangGuard)
        {
            Drain(ring, received);
            Thread.Sleep(5);
        }

        // Anything beyond Count would show up by now.
        Thread.Sleep(300);
        Drain(ring, received);
        var statistics = capture.ReadStatistics();
        cts.Cancel();
        Assert.True(captureThread.Join(HangGuard), "Run did not return after cancellation");

        Assert.Null(captureError);
        Assert.Equal(Count, received.Count);
        Assert.Equal(0, ring.Dropped);
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        for (int i = 0; i < Count; i++)
        {
            var (data, timestamp, originalLength, linkType) = received[i];
            byte[] payload = Payload(i);
            Assert.True(data.AsSpan().EndsWith(payload), $"frame {i} does not end with datagram {i}'s payload");
            // Ethernet (14) + IPv4 (20) + UDP (8) + payload; loopback frames are not padded.
            Assert.Equal(14 + 20 + 8 + payload.Length, data.Length);
            Assert.Equal((uint)data.Length, originalLength);
            Assert.Equal(LinkType.Ethernet, linkType);
            Assert.InRange(timestamp, before - 1_000_000_000, after + 1_000_000_000);
            if (i > 0)
            {
                Assert.True(timestamp >= received[i - 1].Timestamp, "timestamps go backwards");
            }
        }

        // Once per Run (the cancellation registration), never per frame: 200 frames at even 24 bytes would be 4800.
        Assert.InRange(allocatedByRun, 0, 1024);

        // pcap_stats on lo counts each packet twice (out and in); the data holds it once.
        Assert.InRange(statistics.Received, Count, 2 * Count);
        Assert.Equal(0, statistics.KernelDropped);
    }

    [SkippableFact]
    public void Cancellation_wakes_an_idle_capture_at_once()
    {
        SkipUnlessCaptureIsPossible();
        // A read timeout of ten minutes: only pcap_breakloop can end the wait before the test's deadline. No
        // assertion on how long it took (the machine may be loaded); a wait left to the timeout misses the deadline.
        using var capture = LiveCapture.Open(new LiveCaptureOptions
        {
            Interface = "lo",
            Filter = "udp port 9 and host 127.0.0.254",
            ReadTimeoutMs = 600_000,
        });
        var ring = new FrameRing(16, 256);
        using var cts = new CancellationTokenSource();
        var thread = new Thread(() => capture.Run(ring, cts.Token));
        thread.Start();
        Thread.Sleep(200);

        cts.Cancel();
        Assert.True(thread.Join(HangGuard), "Run did not return: the cancellation did not break the pcap wait");

        Assert.Equal(0, ring.Written);
    }

    [SkippableFact]
    public void A_bad_filter_is_named_with_libpcaps_error()
    {
        SkipUnlessCaptureIsPossible();
        const string Filter = "udp port banana and (";

        var e = Assert.Throws<LiveCaptureException>(
            () => LiveCapture.Open(new LiveCaptureOptions { Interface = "lo", Filter = Filter }));

        Assert.Contains($"\"{Filter}\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("lo", e.Message, StringComparison.Ordinal);
        // libpcap's own words follow the filter (e.g. "syntax error" or "unknown port").
        Assert.True(e.Message.Length > Filter.Length + 40, e.Message);
    }

    [SkippableFact]
    public void An_unknown_interface_is_named_and_the_available_ones_listed()
    {
        SkipUnlessCaptureIsPossible();

        var e = Assert.Throws<LiveCaptureException>(
            () => LiveCapture.Open(new LiveCaptureOptions { Interface = "ratadns-nope0" }));

        Assert.Contains("'ratadns-nope0'", e.Message, StringComparison.Ordinal);
        Assert.Contains("available:", e.Message, StringComparison.Ordinal);
        Assert.Contains("lo", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_any_interface_gives_linux_cooked_frames()
    {
        SkipUnlessCaptureIsPossible();
        Skip.IfNot(OperatingSystem.IsLinux(), "the 'any' pseudo-interface is Linux's");

        using var capture = LiveCapture.Open(new LiveCaptureOptions { Interface = "any", Filter = "udp port 9 and host 127.0.0.254" });

        Assert.Equal(LinkType.LinuxSll, capture.LinkType);
        var statistics = capture.ReadStatistics();
        Assert.Equal(0, statistics.KernelDropped);
    }

    [SkippableFact]
    public void Statistics_can_be_read_while_Run_captures_on_another_thread()
    {
        SkipUnlessCaptureIsPossible();
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        using var capture = LiveCapture.Open(new LiveCaptureOptions { Interface = "lo", Filter = $"udp port {port}" });
        var ring = new FrameRing(4, 256);
        using var cts = new CancellationTokenSource();
        var thread = new Thread(() => capture.Run(ring, cts.Token));
        thread.Start();

        // 40 datagrams into a 4-slot ring nobody reads: 4 written, 36 counted as ring drops.
        using (var sender = new UdpClient())
        {
            for (int i = 0; i < 40; i++)
            {
                sender.Send(Payload(i), Payload(i).Length, new IPEndPoint(IPAddress.Loopback, port));
                _ = capture.ReadStatistics();
            }
        }

        var clock = Stopwatch.StartNew();
        while (ring.Written + ring.Dropped < 40 && clock.Elapsed < HangGuard)
        {
            Thread.Sleep(10);
        }

        var statistics = capture.ReadStatistics();
        cts.Cancel();
        Assert.True(thread.Join(HangGuard), "Run did not return after cancellation");

        Assert.Equal(4, ring.Written);
        Assert.Equal(36, ring.Dropped);
        Assert.InRange(statistics.Received, 40, 80);
    }

    [SkippableFact]
    public async Task Disposing_while_Run_is_running_stops_it()
    {
        SkipUnlessCaptureIsPossible();
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        // Immediate delivery and a read timeout of ten minutes: once Run has handed over a frame (so it is surely in
        // its loop), only Dispose's pcap_breakloop can end its next wait before the hang guard, and Dispose itself
        // would wait up to 40 minutes for a loop it failed to wake.
        var capture = LiveCapture.Open(new LiveCaptureOptions { Interface = "lo", Filter = $"udp port {port}", Immediate = true, ReadTimeoutMs = 600_000 });
        var running = new ManualResetEventSlim(false);
        var thread = new Thread(() =>
        {
            var handler = new SignallingHandler(running);
            capture.Run(ref handler, CancellationToken.None);
        });
        thread.Start();
        using (var sender = new UdpClient())
        {
            sender.Send(Payload(0), Payload(0).Length, new IPEndPoint(IPAddress.Loopback, port));
        }

        Assert.True(running.Wait(HangGuard), "Run never handed over the datagram");
        await Task.Run(capture.Dispose).WaitAsync(HangGuard);

        Assert.True(thread.Join(HangGuard), "Run did not return after Dispose");
        Assert.Throws<ObjectDisposedException>(() => capture.ReadStatistics());
    }

    /// <summary>Sets <c>running</c> at the first frame: Run is then in its capture loop.</summary>
    private readonly struct SignallingHandler(ManualResetEventSlim running) : ILiveFrameHandler
    {
        public void OnFrame(in CapturedFrame frame) => running.Set();

        public void OnIdle(long nowNanoseconds)
        {
        }
    }

    private static void Drain(FrameRing ring, List<(byte[] Data, long Timestamp, uint OriginalLength, LinkType LinkType)> received)
    {
        while (ring.TryRead(out var frame))
        {
            received.Add((frame.Data.ToArray(), frame.TimestampNanoseconds, frame.OriginalLength, frame.LinkType));
            ring.AdvanceRead();
        }
    }

    private static byte[] Payload(int i) => Encoding.ASCII.GetBytes($"ratadns-live-test-{i:D4}-" + new string('x', i % 100));

    private static void SkipUnlessCaptureIsPossible()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "live capture tests use Linux's loopback interface 'lo'");
        Skip.IfNot(Environment.IsPrivilegedProcess, "live capture needs root (or CAP_NET_RAW and CAP_NET_ADMIN); run the tests as root");
        Skip.IfNot(LibPcapIsInstalled(), "libpcap is not installed: apt-get install libpcap0.8");
    }

    private static bool LibPcapIsInstalled()
    {
        foreach (string name in new[] { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" })
        {
            if (NativeLibrary.TryLoad(name, out _))
            {
                return true;
            }
        }

        return false;
    }
}
