using System.Net;
using System.Net.Sockets;
using System.Text;
using RataDns.Tests.Support;
using RataDns.Transport.Publishing;
using RataDns.Transport.Redis;

namespace RataDns.Tests.Transport.Redis;

/// <summary>
/// The RESP publisher against a hand-driven TCP peer and a real redis-server. No test measures how long anything
/// took (CI runs on a loaded 2-core machine): "never blocks" is shown by making the thing Publish or Dispose could
/// wait on take an hour (a peer that never replies, timeouts and retry delays of an hour, a server that is only
/// started after the loop), so a wait would be caught by a hang guard of a minute, and by counting what was queued
/// and dropped. How long a Publish takes is a benchmark figure, not asserted here.
/// </summary>
public sealed class RedisPublisherTests
{
    /// <summary>Longer than anything a working test waits for; a wait this long means something hung.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>What a wait on the network would last in the "never blocks" tests: far beyond <see cref="Patience"/>.</summary>
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void Sends_one_resp_publish_command_per_result_and_counts_it_sent_on_the_integer_reply()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var publisher = new RedisPublisher(Options(((IPEndPoint)listener.LocalEndpoint).Port), TextWriter.Null);
        using var connection = listener.AcceptTcpClient();
        var stream = connection.GetStream();

        Assert.True(PublishOn(publisher, "TopN", "{\"é\":1}"u8));
        byte[] expected = "*3\r\n$7\r\nPUBLISH\r\n$4\r\nTopN\r\n$8\r\n{\"é\":1}\r\n"u8.ToArray();
        Assert.Equal(expected, ReadExactly(stream, expected.Length));
        stream.Write(":2\r\n"u8);

        WaitUntil(() => publisher.Statistics.Sent == 1);
        Assert.Equal(0, publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
        Assert.Equal("redis 127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port, publisher.Describe());
    }

    [Fact]
    public void An_error_reply_drops_that_result_counts_an_error_and_keeps_the_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var log = new LineLog();
        using var publisher = new RedisPublisher(Options(((IPEndPoint)listener.LocalEndpoint).Port), log);
        using var connection = listener.AcceptTcpClient();
        var stream = connection.GetStream();

        Assert.True(PublishOn(publisher, "a", "1"u8));
        ReadExactly(stream, "*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$1\r\n1\r\n".Length);
        stream.Write("-ERR something went wrong\r\n"u8);
        WaitUntil(() => publisher.Statistics.Dropped == 1);

        Assert.True(PublishOn(publisher, "a", "2"u8));
        ReadExactly(stream, "*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$1\r\n2\r\n".Length);
        stream.Write(":0\r\n"u8);
        WaitUntil(() => publisher.Statistics.Sent == 1);

        Assert.Equal(1, publisher.Statistics.Errors);
        Assert.Contains("ERR something went wrong", string.Join('\n', log.Lines()), StringComparison.Ordinal);
        Assert.True(publisher.IsConnected);
    }

    [Fact]
    public async Task Publish_never_waits_for_a_server_that_never_replies_a_full_queue_drops_instead()
    {
        // The peer accepts the connection, reads the first command and then neither reads nor replies; the reply
        // timeout is an hour. A Publish that waited on the socket (or for the sender thread, stuck on that reply)
        // would wait an hour: the hang guard fails long before. What Publish promises instead, exactly: the queue
        // takes QueueCapacity results, every other one is refused and counted as dropped.
        using var peer = new SilentPeer();
        var log = new LineLog();
        using var publisher = new RedisPublisher(Options(peer.Port) with { QueueCapacity = 16, ReplyTimeout = Hour }, log);

        // The first result goes on the wire; once the peer has read it, the sender thread waits for its reply and
        // takes nothing more from the queue.
        peer.TakeFirstPublish(publisher);

        const int Published = 10_000;
        int taken = await Task.Run(() =>
        {
            int n = 0;
            for (int i = 0; i < Published; i++)
            {
                n += PublishOn(publisher, "a", "{\"queued\":true}"u8) ? 1 : 0;
            }

            return n;
        }).WaitAsync(Patience);

        Assert.Equal(16, taken);
        Assert.Equal(Published - 16, publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Sent);
        Assert.Equal(0, publisher.Statistics.Errors);
        Assert.True(publisher.IsConnected);
        Assert.Empty(log.Lines());

        // The peer goes away: the unconfirmed result and the 16 queued are dropped, one outage, one error. The sender
        // thread drops the queue, then counts the error, then logs: wait for the last of the three (a loaded CI run
        // read the log between the first and the last).
        peer.Dispose();
        WaitUntil(() => publisher.Statistics.Dropped == Published + 1 && log.Lines().Any(l => l.Contains("results are dropped", StringComparison.Ordinal)));
        Assert.Equal(0, publisher.Statistics.Sent);
        Assert.Equal(1, publisher.Statistics.Errors);
        Assert.Single(log.Lines(), l => l.Contains("results are dropped", StringComparison.Ordinal));
    }

    [Fact]
    public void A_server_that_stops_replying_times_out_into_an_outage()
    {
        // The reply timeout is what is tested here, so it is short; nothing depends on when it fires, the test
        // waits (up to its hang guard) until the outage has begun.
        using var peer = new SilentPeer();
        var log = new LineLog();
        using var publisher = new RedisPublisher(Options(peer.Port) with { ReplyTimeout = TimeSpan.FromMilliseconds(500) }, log);
        peer.TakeFirstPublish(publisher);

        // No reply: the timeout ends the connection, the unconfirmed result is dropped, one error counted (the log
        // line comes last).
        WaitUntil(() => publisher.Statistics.Errors == 1 && publisher.Statistics.Dropped == 1 && log.Lines().Any(l => l.Contains("results are dropped", StringComparison.Ordinal)));
        Assert.Equal(0, publisher.Statistics.Sent);
        Assert.Single(log.Lines(), l => l.Contains("results are dropped", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Every_result_reaches_the_subscriber_byte_for_byte_on_its_channel()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        using var server = RedisServer.Start(RedisServer.FreePort());
        using var subscriber = new RedisTestSubscriber(server.Port, "QueriesPerSecond", "TopN", "canal-ñandú");
        using var publisher = new RedisPublisher(Options(server.Port) with { QueueCapacity = 4096 }, TextWriter.Null);
        WaitUntil(() => publisher.IsConnected);

        string[] channels = ["QueriesPerSecond", "TopN", "canal-ñandú"];
        var published = new List<(string Channel, byte[] Payload)>();
        for (int i = 0; i < 1000; i++)
        {
            // Sizes from a few bytes to 200 KB (a batch larger than the sender's 64 KB batch size), non-ASCII text.
            int padding = i % 250 == 7 ? 200_000 : i * 37 % 3000;
            byte[] json = Encoding.UTF8.GetBytes($"{{\"type\":\"T{i}\",\"serverId\":\"s1\",\"timeStamp\":{1448524800 + i},\"data\":{{\"pad\":\"{new string('é', padding / 2)}\"}}}}");
            string channel = channels[i % channels.Length];
            Assert.True(PublishOn(publisher, channel, json));
            published.Add((channel, json));
        }

        var received = subscriber.WaitFor(published.Count, Patience);
        Assert.Equal(published.Count, received.Count);
        for (int i = 0; i < published.Count; i++)
        {
            Assert.Equal(published[i].Channel, received[i].Channel);
            Assert.True(published[i].Payload.AsSpan().SequenceEqual(received[i].Payload), $"result {i} differs");
        }

        WaitUntil(() => publisher.Statistics.Sent == published.Count);
        Assert.Equal(0, publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
    }

    [SkippableFact]
    public async Task Redis_down_at_start_every_result_is_dropped_then_results_flow_once_it_starts()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        int port = RedisServer.FreePort();
        var log = new LineLog();
        using var publisher = new RedisPublisher(Options(port), log);

        // The server is started only after this loop: a Publish that waited for it would never return, and the
        // hang guard fails. Several connection attempts fail meanwhile (the loop sleeps between results).
        await Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                PublishOn(publisher, "ch", "{\"down\":true}"u8);
                Thread.Sleep(2);
            }
        }).WaitAsync(Patience);

        WaitUntil(() => publisher.Statistics.Dropped == 200);
        Assert.Equal(0, publisher.Statistics.Sent);
        Assert.False(publisher.IsConnected);
        // Several connection attempts failed by now, but the outage is one error and one log line.
        Assert.Equal(1, publisher.Statistics.Errors);
        Assert.Single(log.Lines());

        using var server = RedisServer.Start(port);
        using var subscriber = new RedisTestSubscriber(port, "ch");
        WaitUntil(() => publisher.IsConnected);
        for (int i = 0; i < 50; i++)
        {
            Assert.True(PublishOn(publisher, "ch", Encoding.UTF8.GetBytes($"{{\"up\":{i}}}")));
        }

        var received = subscriber.WaitFor(50, Patience);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{{\"up\":{i}}}"), received.Select(m => Encoding.UTF8.GetString(m.Payload)));
        WaitUntil(() => publisher.Statistics.Sent == 50);
        Assert.Equal(200, publisher.Statistics.Dropped);
        Assert.Contains(log.Lines(), l => l.Contains("connected again", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Redis_killed_mid_run_and_restarted_the_publisher_reconnects_and_accounts_for_every_result()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        int port = RedisServer.FreePort();
        var log = new LineLog();
        RedisServer? server = RedisServer.Start(port);
        RedisTestSubscriber? subscriber = null;
        try
        {
            using var publisher = new RedisPublisher(Options(port), log);
            WaitUntil(() => publisher.IsConnected);

            int published = 0;
            for (int phase = 0; phase < 3; phase++)
            {
                // Phase 0: up; phase 1: killed (and restarted only after its loop, so a Publish that waited for the
                // server would never return: the hang guard catches it); phase 2: up again.
                int first = published;
                await Task.Run(() =>
                {
                    for (int i = 0; i < 300; i++)
                    {
                        PublishOn(publisher, "ch", Encoding.UTF8.GetBytes($"{{\"n\":{first + i}}}"));
                        Thread.Sleep(1);
                    }
                }).WaitAsync(Patience);
                published += 300;

                if (phase == 0)
                {
                    server!.Dispose();
                    server = null; // killed: the finally block must not kill it again
                }
                else if (phase == 1)
                {
                    server = RedisServer.Start(port);
                    subscriber = new RedisTestSubscriber(port, "ch");
                    WaitUntil(() => publisher.IsConnected);
                }
            }

            WaitUntil(() => publisher.Statistics.Sent + publisher.Statistics.Dropped == published);
            Assert.True(publisher.Statistics.Dropped > 0, "results published while Redis was dead were not dropped");
            Assert.True(publisher.Statistics.Errors >= 1);
            // One line when an outage begins, one when it ends. A killed server's sockets do not all close at the
            // same instant, so the publisher may reach the dying listener once more and see a second, short outage
            // (seen in CI: "connected again; 0 results dropped", then a reset); every outage must still be closed
            // by a reconnection, in order.
            var outageLines = log.Lines()
                .Where(l => l.Contains("results are dropped", StringComparison.Ordinal) || l.Contains("connected again", StringComparison.Ordinal))
                .Select(l => l.Contains("connected again", StringComparison.Ordinal) ? "up" : "down")
                .ToList();
            Assert.NotEmpty(outageLines);
            Assert.Equal(outageLines.Count, log.Lines().Length);
            Assert.Equal(
                Enumerable.Range(0, outageLines.Count).Select(i => i % 2 == 0 ? "down" : "up"),
                outageLines);

            // Everything published after the reconnection reached the new server's subscriber.
            var received = subscriber!.WaitFor(300, Patience);
            Assert.Equal(
                Enumerable.Range(published - 300, 300).Select(n => $"{{\"n\":{n}}}"),
                received.Select(m => Encoding.UTF8.GetString(m.Payload)));
        }
        finally
        {
            subscriber?.Dispose();
            server?.Dispose();
        }
    }

    [Fact]
    public async Task Dispose_while_the_server_is_away_ends_the_retry_wait_and_later_results_are_dropped()
    {
        // Nothing listens (the connection is refused at once), and the retry delays and both timeouts are an hour:
        // a Dispose that waited out the retry delay, or gave up on the sender thread only after its join allowance
        // (connect + reply timeout + 1 s), would take hours; the hang guard fails long before.
        var options = Options(RedisServer.FreePort()) with { ConnectTimeout = Hour, ReplyTimeout = Hour, FirstRetryDelay = Hour, MaxRetryDelay = Hour };
        var publisher = new RedisPublisher(options, TextWriter.Null);
        WaitUntil(() => publisher.Statistics.Errors == 1);
        // Lets the sender get from counting the error into its retry wait, so that a Dispose that did not wake it
        // is caught. Only the test's reach depends on this pause: if Dispose still comes first, the test passes.
        await Task.Delay(200);
        await Task.Run(publisher.Dispose).WaitAsync(Patience);

        Assert.False(publisher.IsConnected);
        Assert.False(PublishOn(publisher, "ch", "late"u8));
        Assert.Equal(1, publisher.Statistics.Dropped);
        publisher.Dispose();
    }

    [SkippableFact]
    public void Dispose_sends_what_is_queued_before_closing()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        using var server = RedisServer.Start(RedisServer.FreePort());
        using var subscriber = new RedisTestSubscriber(server.Port, "ch");
        // "localhost", the configuration's default, resolves to ::1 and 127.0.0.1; the server listens on the latter.
        var publisher = new RedisPublisher(Options(server.Port) with { Host = "localhost" }, TextWriter.Null);
        WaitUntil(() => publisher.IsConnected);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(PublishOn(publisher, "ch", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}")));
        }

        publisher.Dispose();
        Assert.Equal(100, publisher.Statistics.Sent);
        Assert.Equal(100, subscriber.WaitFor(100, Patience).Count);
    }

    [SkippableFact]
    public void Publish_allocates_nothing_once_the_queue_slots_have_grown()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.MissingReason);
        using var server = RedisServer.Start(RedisServer.FreePort());
        using var publisher = new RedisPublisher(Options(server.Port) with { QueueCapacity = 16 }, TextWriter.Null);
        WaitUntil(() => publisher.IsConnected);
        byte[] json = Encoding.UTF8.GetBytes("{\"type\":\"TopN\",\"serverId\":\"s1\",\"data\":{\"x\":\"" + new string('x', 2000) + "\"}}");

        // Every slot of the ring once, so each has its payload buffer.
        for (int i = 0; i < 32; i++)
        {
            Assert.True(PublishOn(publisher, "TopN", json));
            WaitUntil(() => publisher.Statistics.Sent == i + 1);
        }

        long allocated = 0;
        for (int i = 0; i < 200; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            bool taken = PublishOn(publisher, "TopN", json);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(taken);
            WaitUntil(() => publisher.Statistics.Sent == 33 + i);
        }

        Assert.Equal(0, allocated);
    }

    // The connect timeout is the tests' patience: with 1 s, a loaded CI run timed the first connection out after the
    // kernel had queued it, the test accepted that abandoned socket and read the end of its stream. Nothing here needs
    // a connection attempt to time out: a dead port refuses at once.
    private static RedisPublisherOptions Options(int port) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ConnectTimeout = Patience,
        FirstRetryDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromMilliseconds(200),
    };

    private static bool PublishOn(RedisPublisher publisher, string channel, ReadOnlySpan<byte> json) =>
        publisher.Publish(new ResultEnvelope("T", "server1", channel, json));

    private static byte[] ReadExactly(NetworkStream stream, int length)
    {
        stream.ReadTimeout = (int)Patience.TotalMilliseconds;
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {Patience.TotalSeconds} s");
            Thread.Sleep(5);
        }
    }

    /// <summary>The publisher's log as lines, written by its sender thread and read by the test.</summary>
    /// <summary>
    /// A TCP peer on loopback that accepts the publisher, reads its first PUBLISH and then neither reads nor replies.
    /// Disposing it closes the connection (the publisher sees the peer go away).
    /// </summary>
    private sealed class SilentPeer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private TcpClient? _connection;

        public SilentPeer() => _listener.Start();

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        /// <summary>Accepts the publisher's connection, publishes "first" on channel "a" and reads exactly that command.</summary>
        public void TakeFirstPublish(RedisPublisher publisher)
        {
            _connection = _listener.AcceptTcpClient();
            Assert.True(PublishOn(publisher, "a", "first"u8));
            ReadExactly(_connection.GetStream(), "*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$5\r\nfirst\r\n".Length);
        }

        public void Dispose()
        {
            _connection?.Dispose();
            _listener.Stop();
        }
    }

    private sealed class LineLog : TextWriter
    {
        private readonly List<string> _lines = [];
        private readonly StringBuilder _partial = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_lines)
            {
                if (value == '\n')
                {
                    _lines.Add(_partial.ToString().TrimEnd('\r'));
                    _partial.Clear();
                }
                else
                {
                    _partial.Append(value);
                }
            }
        }

        public string[] Lines()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }
}
