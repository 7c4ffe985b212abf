using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using RataDns.Capture.Dnstap;
using RataDns.Tests.Support;
using RataDns.Tests.Transport.ZeroMq;

namespace RataDns.Tests.Capture.Dnstap;

/// <summary>
/// The Frame Streams receiver (issue 17): fstrm_replay, the reference writer (bidirectional: READY, ACCEPT, START,
/// frames, STOP, FINISH), sends a file Unbound wrote over a unix socket and over TCP, one writer and several at once;
/// every frame arrives as the file holds it. A writer that breaks the rules loses its connection, not the receiver.
/// </summary>
public sealed class DnstapReceiverTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [SkippableTheory]
    [InlineData("unix", 1)]
    [InlineData("unix", 4)]
    [InlineData("tcp", 2)]
    public void Fstrm_replay_writers_deliver_every_frame_of_the_file(string transport, int writers)
    {
        foreach (string tool in new[] { "/usr/sbin/unbound", "/usr/bin/fstrm_capture", "/usr/bin/fstrm_replay", "/usr/bin/kdig" })
        {
            Skip.IfNot(File.Exists(tool), $"{tool} is missing (scripts/setup.sh installs unbound, fstrm-bin, knot-dnsutils)");
        }

        string file = DnstapFileTests.CaptureFromUnbound(_directory.Path);
        var expected = FramesOf(file);
        Assert.NotEmpty(expected);

        var received = new ConcurrentQueue<string>();
        var warnings = new ConcurrentQueue<string>();
        string endpoint = transport == "unix" ? $"unix:{Path.Combine(_directory.Path, "receiver.sock")}" : "tcp://127.0.0.1:0";
        using var receiver = FrameStreamReceiver.Listen(endpoint, frame => received.Enqueue(Convert.ToHexString(frame)), new FrameStreamReceiverOptions { Warn = warnings.Enqueue });

        string[] target = transport == "unix"
            ? ["-u", receiver.Endpoint["unix:".Length..]]
            : ["-a", "127.0.0.1", "-p", receiver.Endpoint[(receiver.Endpoint.LastIndexOf(':') + 1)..]];
        var replays = Enumerable.Range(0, writers).Select(writer => Task.Run(() =>
            ExternalTool.Run("/usr/bin/fstrm_replay", ["-t", FrameStreamReader.DnstapContentType, .. target, "-r", file], out _, out string errors) == 0 ? null : errors)).ToArray();
        Assert.True(Task.WaitAll(replays, TimeSpan.FromSeconds(120)), "fstrm_replay did not finish");
        Assert.All(replays, r => Assert.Null(r.Result));
        Assert.True(SpinWait.SpinUntil(() => received.Count >= expected.Count * writers, TimeSpan.FromSeconds(60)), $"{received.Count} of {expected.Count * writers} frames");

        // Each writer's frames, in its order; writers interleave.
        Assert.Equal(expected.Count * writers, received.Count);
        Assert.Equal(expected.SelectMany(f => Enumerable.Repeat(f, writers)).Order(), received.Order());
        Assert.Equal(writers, receiver.Accepted);
        Assert.Equal(0, receiver.Broken);
        Assert.Empty(warnings);
    }

    [Fact]
    public void A_writer_that_breaks_the_rules_loses_its_connection_and_the_next_one_is_served()
    {
        var received = new ConcurrentQueue<byte[]>();
        var warnings = new ConcurrentQueue<string>();
        string path = Path.Combine(_directory.Path, "hostile.sock");
        using var receiver = FrameStreamReceiver.Listen($"unix:{path}", frame => received.Enqueue(frame.ToArray()), new FrameStreamReceiverOptions { Warn = warnings.Enqueue, MaxConnections = 2 });

        // A data frame claiming 2 GB, then another content type.
        Send(path, [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3]);
        Send(path, FrameStreamReader.ControlFrame(FrameStreamReader.ControlReady, "protobuf:other"));
        Assert.True(SpinWait.SpinUntil(() => receiver.Broken == 2, TimeSpan.FromSeconds(60)), string.Join(" | ", warnings));
        Assert.Contains(warnings, w => w.Contains("more than the", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("not protobuf:dnstap.Dnstap", StringComparison.Ordinal));

        // A unidirectional writer (START without READY) after them: its two frames arrive.
        byte[] payload = [0x78, 0x01];
        var data = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)payload.Length);
        payload.CopyTo(data, 4);
        Send(path, [.. FrameStreamReader.ControlFrame(FrameStreamReader.ControlStart, FrameStreamReader.DnstapContentType), .. data, .. data, .. FrameStreamReader.ControlFrame(FrameStreamReader.ControlStop, null)]);
        Assert.True(SpinWait.SpinUntil(() => received.Count == 2, TimeSpan.FromSeconds(60)));
        Assert.All(received, f => Assert.Equal(payload, f));

        // A path that is a regular file is not replaced.
        string file = Path.Combine(_directory.Path, "not-a-socket");
        File.WriteAllText(file, "data");
        Assert.Contains("is not a socket", Assert.Throws<IOException>(() => FrameStreamReceiver.Listen($"unix:{file}", _ => { })).Message, StringComparison.Ordinal);
        Assert.Contains("another program listens there", Assert.Throws<IOException>(() => FrameStreamReceiver.Listen($"unix:{path}", _ => { })).Message, StringComparison.Ordinal);
    }

    private static void Send(string path, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(bytes);
        socket.Shutdown(SocketShutdown.Send);
        var buffer = new byte[256];
        try
        {
            while (socket.Receive(buffer) > 0)
            {
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The receiver closed a broken stream with bytes unread: a reset, as for any socket.
        }
    }

    private static List<string> FramesOf(string file)
    {
        var frames = new List<string>();
        using var stream = File.OpenRead(file);
        var reader = new FrameStreamReader(stream);
        while (reader.TryReadFrame(out var frame, out bool control) || control)
        {
            if (!control)
            {
                frames.Add(Convert.ToHexString(frame.Span));
            }
        }

        return frames;
    }
}
