using System.Globalization;
using System.Text;
using System.Text.Json;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;
using Xunit.Abstractions;

namespace RataDns.Tests.Transport.ZeroMq;

public sealed class ZeroMqPublisherTests(ITestOutputHelper output)
{
    private const string AnyPort = "tcp://127.0.0.1:*";
    internal const string ServerId = "servidor-ñ1";

    /// <summary>
    /// Fails a test that hangs (a Publish or a Dispose waiting for something that never comes); far beyond what
    /// any of these loops takes on a loaded machine, and not a measure of it: no test here asserts a duration.
    /// </summary>
    internal static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static bool Publish(ZeroMqPublisher publisher, string type, string serverId, string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        return publisher.Publish(new ResultEnvelope(type, serverId, type, bytes));
    }

    private static void Warmup(ZeroMqPublisher publisher) => Publish(publisher, "warmup", "x", "{}");

    /// <summary>
    /// Creates a publisher with a 2-slot queue whose socket thread is held before its first send, publishes
    /// <paramref name="n"/> results from another thread within <see cref="HangGuard"/>, then lets the socket thread go.
    /// Returns the publisher and how many results it refused.
    /// </summary>
    internal static async Task<(T Publisher, int Refused)> PublishWhileTheSocketThreadIsHeld<T>(
        Func<ZeroMqOptions, T> create, Func<T, bool> publishOne, int n)
    {
        var hold = new ManualResetEventSlim(false); // not disposed: the socket thread may still wait on it if the test fails
        var publisher = create(new ZeroMqOptions { Endpoints = [AnyPort], QueueCapacity = 2, BeforeSend = () => hold.Wait() });
        try
        {
            int refused = await Task.Run(() =>
            {
                int count = 0;
                for (int i = 0; i < n; i++)
                {
                    count += publishOne(publisher) ? 0 : 1;
                }

                return count;
            }).WaitAsync(HangGuard);
            return (publisher, refused);
        }
        finally
        {
            hold.Set();
        }
    }

    internal static readonly string[] Types = ["QueriesPerSecond", "TopN", "NameCounter", "QueriesSummary"];

    /// <summary>The n-th test result: the envelope with data that exercises every JSON kind and the integer boundaries.</summary>
    internal static string Envelope(int n, int padding = 0)
    {
        long[] boundaries = [0, -1, 127, 128, 255, 256, -32, -33, -128, -129, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue, long.MinValue];
        string type = Types[n % Types.Length];
        string data = (n % 4) switch
        {
            0 => $$"""{"qps":{{(n * 0.37).ToString("R", CultureInfo.InvariantCulture)}}}""",
            1 => $$"""[["www.ejemplo{{n}}.cl.",{{n}}],["ñandú.cl.",3],["\"quoted\"\\name.",1]]""",
            2 => $$"""{"b{{n}}.cl.":{{boundaries[n % boundaries.Length]}},"big":18446744073709551615,"tiny":-2.5e-300,"snow☃":1.0}""",
            _ => $$"""{"0E402AE7":{"1":["a.cl.","😀.cl."],"28":[]},"empty":{},"flags":[true,false,null]}""",
        };
        return $$$"""{"type":"{{{type}}}","serverId":"{{{ServerId}}}","timeStamp":{{{1448524800 + n}}},"data":{{{data}}},"window":{"start":{{{1448524800 + n - 0.5}}},"end":{{{1448524800 + n}}},"packets":{{{n * 10}}},"messages":{{{n * 10}}},"drops":0,"sequence":{{{n}}},"partial":false,"pad":"{{{new string('p', padding)}}}"}}""";
    }

    [SkippableTheory]
    [InlineData(ZeroMqEncoding.MessagePack)]
    [InlineData(ZeroMqEncoding.Json)]
    public void Python_subscriber_decodes_every_result_as_the_json_envelope(ZeroMqEncoding encoding)
    {
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        const int n = 200;
        using var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort], Encoding = encoding });
        Assert.Matches(@"^tcp://127\.0\.0\.1:\d+$", publisher.Endpoints[0]);
        using var subscriber = new PythonSubscriber(publisher.Endpoints[0], encoding == ZeroMqEncoding.Json ? "json" : "msgpack", expected: n);
        subscriber.WaitUntilSubscribed(() => Warmup(publisher));
        for (int i = 0; i < n; i++)
        {
            Assert.True(Publish(publisher, Types[i % Types.Length], ServerId, Envelope(i)));
        }

        for (int i = 0; i < n; i++)
        {
            string? line = subscriber.NextLine(TimeSpan.FromSeconds(20));
            Assert.True(line is not null && !line.StartsWith("done", StringComparison.Ordinal), $"result {i} missing ({line}); stderr: {string.Join('\n', subscriber.StandardError)}");
            using var received = JsonDocument.Parse(line);
            Assert.Equal($"{Types[i % Types.Length]}/{ServerId}", received.RootElement.GetProperty("topic").GetString());
            using var expected = JsonDocument.Parse(Envelope(i));
            JsonSemanticAssert.Same(expected.RootElement, received.RootElement.GetProperty("data"));
        }

        Assert.Equal($"done {n}", subscriber.NextLine(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
    }

    [Fact]
    public async Task Without_subscribers_every_result_is_counted_as_sent_or_dropped()
    {
        const int n = 20_000;
        var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort, "tcp://127.0.0.1:*"] });
        Assert.Equal(2, publisher.Endpoints.Count);
        string json = Envelope(2);
        // A hang guard, not a timing: a Publish or a Dispose that waited for a subscriber would never return.
        await Task.Run(() =>
        {
            for (int i = 0; i < n; i++)
            {
                Publish(publisher, "NameCounter", ServerId, json);
            }

            publisher.Dispose();
        }).WaitAsync(HangGuard);

        Assert.Equal(n, publisher.Statistics.Sent + publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
        Assert.Contains("zmq bind tcp://127.0.0.1:", publisher.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_allocates_nothing_on_the_calling_thread()
    {
        using var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort] });
        byte[] small = Encoding.UTF8.GetBytes(Envelope(3));
        byte[] large = Encoding.UTF8.GetBytes(Envelope(1, padding: 50_000));
        for (int i = 0; i < 300; i++)
        {
            publisher.Publish(new ResultEnvelope("TopN", ServerId, "TopN", i % 2 == 0 ? small : large));
        }

        Thread.Sleep(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            publisher.Publish(new ResultEnvelope("TopN", ServerId, "TopN", small));
            if (i % 100 == 0)
            {
                Thread.Sleep(1); // let the socket thread drain, so no result is dropped
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Connect_mode_with_nobody_listening_counts_every_result_and_disposes()
    {
        // Nobody ever listens on the port: a Publish or a Dispose that waited for the peer would never return, and
        // the hang guard fails. Linger zero: what is queued for the absent peer is discarded at Dispose.
        int port = FreePort();
        var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [$"tcp://127.0.0.1:{port}"], Bind = false, SendHighWatermark = 10, Linger = TimeSpan.Zero });
        await Task.Run(() =>
        {
            for (int i = 0; i < 5000; i++)
            {
                Publish(publisher, "QueriesPerSecond", ServerId, Envelope(0));
            }

            publisher.Dispose();
        }).WaitAsync(HangGuard);

        Assert.Equal(5000, publisher.Statistics.Sent + publisher.Statistics.Dropped);
        Assert.False(Publish(publisher, "QueriesPerSecond", ServerId, "{}")); // after Dispose: refused, counted
        Assert.Equal(5001, publisher.Statistics.Sent + publisher.Statistics.Dropped);
        Assert.StartsWith("zmq connect tcp://127.0.0.1:", publisher.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_queue_drops_and_counts_instead_of_waiting()
    {
        // The socket thread is held before its first send (the result it took stays in its slot), so the 2-slot
        // queue is full after two results and stays full: a Publish that waited for room, or for its result to be
        // sent, would wait until the hang guard fails. Every other result is refused at once and counted.
        const int n = 100_000;
        var (publisher, refused) = await PublishWhileTheSocketThreadIsHeld(
            options => new ZeroMqPublisher(options),
            p => Publish(p, "QueriesPerSecond", ServerId, """{"type":"QueriesPerSecond","data":{"qps":1}}"""),
            n);

        Assert.Equal(n - 2, refused);
        Assert.Equal(refused, publisher.Statistics.Dropped);
        publisher.Dispose();
        Assert.Equal(2, publisher.Statistics.Sent); // the two queued ones, sent once the thread was let go
        Assert.Equal(n - 2, publisher.Statistics.Dropped);
        Assert.False(Publish(publisher, "QueriesPerSecond", ServerId, "{}")); // after Dispose: refused, counted
        Assert.Equal(n - 1, publisher.Statistics.Dropped);
    }

    [SkippableFact]
    public void A_stopped_subscriber_loses_results_but_publish_never_blocks()
    {
        // "Never blocks" shown without a clock: every Publish returns while the subscriber's process is frozen
        // (SIGSTOP), so nothing in the loop can have waited for it. How long a Publish takes is measured in bench/
        // (--publish-costs), not asserted here: CI runs on a loaded 2-core machine.
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        const int n = 20_000;
        using var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort], SendHighWatermark = 10, QueueCapacity = 64 });
        // It ends a quiet second after its first result: once let go, it reads what reached it (fewer than n, as
        // asserted) and stops. Before that first result it waits as long as it needs to.
        using var subscriber = new PythonSubscriber(publisher.Endpoints[0], expected: n, quiet: true, receiveHighWatermark: 10, quietSeconds: 1);
        int warmups = 0;
        subscriber.WaitUntilSubscribed(() =>
        {
            Warmup(publisher);
            warmups++;
        });
        string json = Envelope(1, padding: 2000);
        subscriber.Freeze();
        try
        {
            Assert.True(subscriber.IsFrozen);
            var publishing = Task.Run(() =>
            {
                for (int i = 0; i < n; i++)
                {
                    Publish(publisher, "TopN", ServerId, json);
                }
            });

            // Generous: the loop takes well under a second; a Publish waiting for the frozen subscriber never ends.
            Assert.True(publishing.Wait(TimeSpan.FromMinutes(2)), "Publish waited for a frozen subscriber");
            Assert.True(subscriber.IsFrozen, "the subscriber ran during the loop");
        }
        finally
        {
            subscriber.Continue();
        }

        string? done = subscriber.NextLine(TimeSpan.FromSeconds(30));
        Assert.NotNull(done);
        int received = int.Parse(done["done ".Length..], CultureInfo.InvariantCulture);
        output.WriteLine($"frozen subscriber: received {received} of {n}");
        Assert.True(received < n, $"the frozen subscriber received all {n} results of 2 kB: nothing was dropped");
        publisher.Dispose();
        Assert.Equal(n + warmups, publisher.Statistics.Sent + publisher.Statistics.Dropped);
    }

    [SkippableFact]
    public void A_subscriber_killed_and_restarted_receives_again()
    {
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        using var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort] });
        using (var first = new PythonSubscriber(publisher.Endpoints[0]))
        {
            first.WaitUntilSubscribed(() => Warmup(publisher));
            Publish(publisher, "TopN", ServerId, Envelope(1));
            Assert.NotNull(first.NextLine(TimeSpan.FromSeconds(20)));
            first.Kill();
        }

        // Results published while nobody listens are lost (PUB semantics) and never block.
        for (int i = 0; i < 100; i++)
        {
            Publish(publisher, "TopN", ServerId, Envelope(i));
        }

        using var second = new PythonSubscriber(publisher.Endpoints[0], expected: 10);
        second.WaitUntilSubscribed(() => Warmup(publisher));
        for (int i = 0; i < 10; i++)
        {
            Publish(publisher, "TopN", ServerId, Envelope(i));
        }

        for (int i = 0; i < 10; i++)
        {
            string? line = second.NextLine(TimeSpan.FromSeconds(20));
            Assert.NotNull(line);
            using var received = JsonDocument.Parse(line);
            using var expected = JsonDocument.Parse(Envelope(i));
            JsonSemanticAssert.Same(expected.RootElement, received.RootElement.GetProperty("data"));
        }

        Assert.Equal("done 10", second.NextLine(TimeSpan.FromSeconds(20)));
    }

    [SkippableFact]
    public void Curve_subscriber_that_knows_the_server_key_receives_and_others_do_not()
    {
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        using var keys = new TemporaryDirectory();
        string prefix = Path.Combine(keys.Path, "monitor");
        var server = CurveKeyFiles.Generate(prefix + ".key", prefix + ".pub");
        var wrong = new NetMQ.NetMQCertificate();
        using var publisher = new ZeroMqPublisher(new ZeroMqOptions
        {
            Endpoints = [AnyPort],
            CurveServerSecretKeyFile = prefix + ".key",
            CurveServerPublicKeyFile = prefix + ".pub",
        });
        Assert.EndsWith(" curve", publisher.Describe(), StringComparison.Ordinal);
        using var plain = new PythonSubscriber(publisher.Endpoints[0], expected: 1);
        using var wrongKey = new PythonSubscriber(publisher.Endpoints[0], expected: 1, serverKey: wrong.PublicKeyZ85);
        using var knowing = new PythonSubscriber(publisher.Endpoints[0], expected: 3, serverKey: server.PublicKeyZ85);
        knowing.WaitUntilSubscribed(() => Warmup(publisher));
        for (int i = 0; i < 3; i++)
        {
            Publish(publisher, "TopN", ServerId, Envelope(i));
        }

        for (int i = 0; i < 3; i++)
        {
            string? line = knowing.NextLine(TimeSpan.FromSeconds(20));
            Assert.NotNull(line);
            using var received = JsonDocument.Parse(line);
            using var expected = JsonDocument.Parse(Envelope(i));
            JsonSemanticAssert.Same(expected.RootElement, received.RootElement.GetProperty("data"));
        }

        Assert.Equal("done 3", knowing.NextLine(TimeSpan.FromSeconds(20)));

        // The others connected before the warm-up and kept receiving nothing: their handshakes failed.
        Assert.Equal("connected", plain.NextLine(TimeSpan.FromSeconds(20)));
        Assert.Equal("connected", wrongKey.NextLine(TimeSpan.FromSeconds(20)));
        for (int i = 0; i < 20; i++)
        {
            Warmup(publisher);
            Publish(publisher, "TopN", ServerId, Envelope(i));
            Thread.Sleep(20);
        }

        // Nothing printed but, at most, the end of a subscriber that never got a message ("done 0" after its
        // 15 s wait for a first one, which a slow machine may reach by now).
        Assert.True(plain.NextLine(TimeSpan.FromSeconds(1)) is null or "done 0", "the plain subscriber received a result");
        Assert.True(wrongKey.NextLine(TimeSpan.FromMilliseconds(200)) is null or "done 0", "the subscriber with the wrong key received a result");
    }

    [Fact]
    public void Allowed_client_keys_are_refused_because_netmq_cannot_enforce_them()
    {
        var e = Assert.Throws<NotSupportedException>(() => new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort], AllowedClientKeysFile = "clients.txt" }));
        Assert.Contains("ZAP", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_in_use_or_a_bad_endpoint_is_an_io_error_at_construction()
    {
        using var first = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort] });
        var inUse = Assert.Throws<IOException>(() => new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [first.Endpoints[0]] }));
        Assert.Contains(first.Endpoints[0], inUse.Message, StringComparison.Ordinal);
        Assert.Throws<IOException>(() => new ZeroMqPublisher(new ZeroMqOptions { Endpoints = ["nonsense://x"] }));
    }

    [Fact]
    public void Malformed_key_files_are_reported_with_their_path()
    {
        using var keys = new TemporaryDirectory();
        string bad = Path.Combine(keys.Path, "bad.key");
        File.WriteAllText(bad, "not a key");
        var e = Assert.Throws<IOException>(() => new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort], CurveServerSecretKeyFile = bad }));
        Assert.Contains(bad, e.Message, StringComparison.Ordinal);

        string prefix = Path.Combine(keys.Path, "a");
        CurveKeyFiles.Generate(prefix + ".key", prefix + ".pub");
        string other = Path.Combine(keys.Path, "b");
        CurveKeyFiles.Generate(other + ".key", other + ".pub");
        var mismatch = Assert.Throws<IOException>(() => new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort], CurveServerSecretKeyFile = prefix + ".key", CurveServerPublicKeyFile = other + ".pub" }));
        Assert.Contains("does not belong", mismatch.Message, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        Path = Directory.CreateTempSubdirectory("ratadns-zmq-").FullName;
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
