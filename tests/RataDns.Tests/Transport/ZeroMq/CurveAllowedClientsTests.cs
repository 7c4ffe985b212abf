using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;

namespace RataDns.Tests.Transport.ZeroMq;

/// <summary>
/// CurveZMQ with allowed client keys: <see cref="ZeroMqPublisher.Open"/> picks <see cref="NativeZeroMqPublisher"/>
/// (the system libzmq and its ZAP handler); a listed client receives, an unknown key or a plain client receives nothing.
/// </summary>
public sealed class CurveAllowedClientsTests : IDisposable
{
    private const string AnyPort = "tcp://127.0.0.1:*";
    private const string ServerId = ZeroMqPublisherTests.ServerId;

    private readonly TemporaryDirectory _keys = new();

    private static bool LibZmqAvailable => NativeLibrary.TryLoad("libzmq.so.5", out _);

    private const string LibZmqUnavailable = "the system libzmq (libzmq.so.5, apt-get install libzmq5) is needed";

    /// <summary>A linger no test waits out: a Dispose that waited for it would hit the hang guard.</summary>
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public void Dispose() => _keys.Dispose();

    private sealed record KeyPair(string Secret, string Public);

    private KeyPair NewKeyPair(string name)
    {
        string prefix = Path.Combine(_keys.Path, name);
        var certificate = CurveKeyFiles.Generate(prefix + ".key", prefix + ".pub");
        return new KeyPair(certificate.SecretKeyZ85!, certificate.PublicKeyZ85);
    }

    private string AllowedKeysFile(params string[] lines)
    {
        string path = Path.Combine(_keys.Path, "allowed-clients.txt");
        File.WriteAllLines(path, lines);
        return path;
    }

    private ZeroMqOptions CurveOptions(string allowedFile, ZeroMqEncoding encoding = ZeroMqEncoding.MessagePack) => new()
    {
        Endpoints = [AnyPort],
        Encoding = encoding,
        CurveServerSecretKeyFile = Path.Combine(_keys.Path, "monitor.key"),
        CurveServerPublicKeyFile = Path.Combine(_keys.Path, "monitor.pub"),
        AllowedClientKeysFile = allowedFile,
    };

    private static bool Publish(IResultChannel publisher, string type, string json) =>
        publisher.Publish(new ResultEnvelope(type, ServerId, type, Encoding.UTF8.GetBytes(json)));

    [SkippableTheory]
    [InlineData(ZeroMqEncoding.MessagePack)]
    [InlineData(ZeroMqEncoding.Json)]
    public void An_allowed_key_receives_and_an_unknown_key_or_a_plain_subscriber_receives_nothing(ZeroMqEncoding encoding)
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        var server = NewKeyPair("monitor");
        var allowed = NewKeyPair("client-a");
        var unknown = NewKeyPair("client-b");
        string file = AllowedKeysFile("# subscribers allowed to read the monitor", "", allowed.Public, "   ");
        using var channel = ZeroMqPublisher.Open(CurveOptions(file, encoding));
        var publisher = Assert.IsType<NativeZeroMqPublisher>(channel);
        Assert.EndsWith(" curve (1 allowed client keys, libzmq)", publisher.Describe(), StringComparison.Ordinal);
        Assert.Matches(@"^tcp://127\.0\.0\.1:\d+$", publisher.Endpoints[0]);
        string endpoint = publisher.Endpoints[0];
        string decoding = encoding == ZeroMqEncoding.Json ? "json" : "msgpack";

        using var plain = new PythonSubscriber(endpoint, decoding, expected: 1);
        using var stranger = new PythonSubscriber(endpoint, decoding, expected: 1, serverKey: server.Public, clientPublicKey: unknown.Public, clientSecretKey: unknown.Secret);
        using var friend = new PythonSubscriber(endpoint, decoding, expected: 5, serverKey: server.Public, clientPublicKey: allowed.Public, clientSecretKey: allowed.Secret);
        friend.WaitUntilSubscribed(() => Publish(publisher, "warmup", "{}"));
        for (int i = 0; i < 5; i++)
        {
            Assert.True(Publish(publisher, ZeroMqPublisherTests.Types[i % 4], ZeroMqPublisherTests.Envelope(i)));
        }

        for (int i = 0; i < 5; i++)
        {
            string? line = friend.NextLine(TimeSpan.FromSeconds(20));
            Assert.True(line is not null && !line.StartsWith("done", StringComparison.Ordinal), $"result {i} missing ({line}); stderr: {string.Join('\n', friend.StandardError)}");
            using var received = JsonDocument.Parse(line);
            Assert.Equal($"{ZeroMqPublisherTests.Types[i % 4]}/{ServerId}", received.RootElement.GetProperty("topic").GetString());
            using var expected = JsonDocument.Parse(ZeroMqPublisherTests.Envelope(i));
            JsonSemanticAssert.Same(expected.RootElement, received.RootElement.GetProperty("data"));
        }

        Assert.Equal("done 5", friend.NextLine(TimeSpan.FromSeconds(20)));

        // The others connected before the warm-up and keep receiving nothing while results go out: the unknown
        // key's handshake is denied (waited for, up to the hang guard), then 150 more rounds are published.
        Assert.Equal("connected", plain.NextLine(TimeSpan.FromSeconds(20)));
        Assert.Equal("connected", stranger.NextLine(TimeSpan.FromSeconds(20)));
        Assert.True(publisher.ClientsAllowed >= 1, "the ZAP handler never allowed the listed client");
        Assert.True(SpinWait.SpinUntil(() => publisher.ClientsDenied >= 1, ZeroMqPublisherTests.HangGuard), "the ZAP handler never denied the unknown key");
        for (int i = 0; i < 150; i++)
        {
            Publish(publisher, "warmup", "{}");
            Publish(publisher, "TopN", ZeroMqPublisherTests.Envelope(1));
            Thread.Sleep(20);
        }

        // Nothing printed but, at most, the end of a subscriber that never got a message ("done 0" after its
        // 15 s wait for a first one, which a slow machine may reach by now).
        Assert.True(plain.NextLine(TimeSpan.FromMilliseconds(500)) is null or "done 0", "the plain subscriber received a result");
        Assert.True(stranger.NextLine(TimeSpan.FromMilliseconds(100)) is null or "done 0", "the unknown key received a result");
        Assert.Equal(0, publisher.Statistics.Errors);
    }

    [SkippableFact]
    public async Task Without_subscribers_every_result_is_counted_and_dispose_waits_for_nothing()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        NewKeyPair("monitor");
        const int n = 20_000;
        // Linger of an hour: a Dispose that waited for messages to leave (there is nobody to take them), or for the
        // ZAP handler to end by itself, would wait an hour or for ever; the hang guard fails long before.
        var publisher = ZeroMqPublisher.Open(CurveOptions(AllowedKeysFile(NewKeyPair("a").Public)) with { Endpoints = [AnyPort, AnyPort], Linger = Hour });
        Assert.Equal(2, ((NativeZeroMqPublisher)publisher).Endpoints.Count);
        string json = ZeroMqPublisherTests.Envelope(2);
        await Task.Run(() =>
        {
            for (int i = 0; i < n; i++)
            {
                Publish(publisher, "NameCounter", json);
            }

            publisher.Dispose();
        }).WaitAsync(ZeroMqPublisherTests.HangGuard);

        Assert.Equal(n, publisher.Statistics.Sent + publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
        Assert.False(Publish(publisher, "NameCounter", json)); // after Dispose: refused, counted
        Assert.Equal(n + 1, publisher.Statistics.Sent + publisher.Statistics.Dropped);
        publisher.Dispose(); // twice is harmless
    }

    [SkippableFact]
    public async Task NativeZeroMq_full_queue_drops_and_counts_instead_of_waiting()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        // As ZeroMqPublisherTests' test of the same name: the socket thread is held before its first send, so the
        // 2-slot queue stays full; a Publish that waited for room or for the socket would hit the hang guard.
        const int n = 100_000;
        var (publisher, refused) = await ZeroMqPublisherTests.PublishWhileTheSocketThreadIsHeld(
            options => new NativeZeroMqPublisher(options),
            p => Publish(p, "QueriesPerSecond", """{"type":"QueriesPerSecond","data":{"qps":1}}"""),
            n);

        Assert.Equal(n - 2, refused);
        Assert.Equal(refused, publisher.Statistics.Dropped);
        publisher.Dispose();
        Assert.Equal(2, publisher.Statistics.Sent);
        Assert.Equal(n - 2, publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
    }

    [SkippableFact]
    public async Task NativeZeroMq_dispose_with_a_connected_subscriber_ends_the_zap_handler_and_counts_every_result()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        Skip.IfNot(PythonSubscriber.IsAvailable, PythonSubscriber.Unavailable);
        var server = NewKeyPair("monitor");
        var client = NewKeyPair("a");
        // Linger of an hour: the subscriber reads everything, so nothing is left to wait for; a Dispose that
        // waited on the subscriber's connection or on the ZAP thread would hit the hang guard.
        var publisher = ZeroMqPublisher.Open(CurveOptions(AllowedKeysFile(client.Public)) with { Linger = Hour });
        using var subscriber = new PythonSubscriber(((NativeZeroMqPublisher)publisher).Endpoints[0], serverKey: server.Public, clientPublicKey: client.Public, clientSecretKey: client.Secret);
        int warmups = 0;
        subscriber.WaitUntilSubscribed(() =>
        {
            Publish(publisher, "warmup", "{}");
            warmups++;
        });
        for (int i = 0; i < 1000; i++)
        {
            Publish(publisher, "TopN", ZeroMqPublisherTests.Envelope(i));
        }

        await Task.Run(publisher.Dispose).WaitAsync(ZeroMqPublisherTests.HangGuard);
        Assert.Equal(1000 + warmups, publisher.Statistics.Sent + publisher.Statistics.Dropped);
        Assert.Equal(0, publisher.Statistics.Errors);
        Assert.True(((NativeZeroMqPublisher)publisher).ClientsAllowed >= 1);
        Assert.False(Publish(publisher, "TopN", "{}")); // after Dispose: refused, counted
    }

    [SkippableFact]
    public void NativeZeroMq_a_port_in_use_or_a_bad_endpoint_is_an_io_error_naming_it()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        using var first = new NativeZeroMqPublisher(new ZeroMqOptions { Endpoints = [AnyPort] });
        var inUse = Assert.Throws<IOException>(() => new NativeZeroMqPublisher(new ZeroMqOptions { Endpoints = [first.Endpoints[0]] }));
        Assert.Contains(first.Endpoints[0], inUse.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<IOException>(() => new NativeZeroMqPublisher(new ZeroMqOptions { Endpoints = ["nonsense://x"] }));
        Assert.Contains("nonsense://x", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_chooses_netmq_without_allowed_keys()
    {
        using var channel = ZeroMqPublisher.Open(new ZeroMqOptions { Endpoints = [AnyPort] });
        Assert.IsType<ZeroMqPublisher>(channel);
    }

    [SkippableFact]
    public void Allowed_keys_need_the_server_secret_key()
    {
        Skip.IfNot(LibZmqAvailable, LibZmqUnavailable);
        string file = AllowedKeysFile(NewKeyPair("a").Public);
        var e = Assert.Throws<IOException>(() => ZeroMqPublisher.Open(new ZeroMqOptions { Endpoints = [AnyPort], AllowedClientKeysFile = file }));
        Assert.Contains("secret key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Curve_allowed_keys_file_decodes_z85_and_skips_comments_and_blank_lines()
    {
        var a = new NetMQ.NetMQCertificate();
        var b = new NetMQ.NetMQCertificate();
        string file = AllowedKeysFile("# ops team", "", "  " + a.PublicKeyZ85 + "  ", "#" + b.PublicKeyZ85, b.PublicKeyZ85);
        var keys = CurveKeyFiles.ReadAllowedClientKeys(file);
        Assert.Equal(2, keys.Count);
        Assert.Equal(a.PublicKey, keys[0]);
        Assert.Equal(b.PublicKey, keys[1]);
    }

    [Theory]
    [InlineData("too short")]
    [InlineData("0123456789012345678901234567890123456789 # alice")]
    [InlineData("0123456789012345678901234567890123456 ~~")]
    [InlineData("%%%%%01234567890123456789012345678901234")] // a group above 2^32
    public void Curve_allowed_keys_file_names_its_bad_line(string bad)
    {
        string file = AllowedKeysFile("# clients", new NetMQ.NetMQCertificate().PublicKeyZ85, bad);
        var e = Assert.Throws<IOException>(() => CurveKeyFiles.ReadAllowedClientKeys(file));
        Assert.Contains($"{file}:3:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Curve_allowed_keys_file_without_keys_is_refused()
    {
        string file = AllowedKeysFile("# nobody yet", "");
        var e = Assert.Throws<IOException>(() => CurveKeyFiles.ReadAllowedClientKeys(file));
        Assert.Contains("no CurveZMQ client key", e.Message, StringComparison.Ordinal);
    }
}
