using NetMQ;
using NetMQ.Sockets;
using RataDns.App.Commands;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;

namespace RataDns.Tests.Transport.ZeroMq;

public sealed class KeygenCommandTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Keygen_writes_a_z85_pair_with_a_private_secret_file_and_prints_the_public_key()
    {
        using var dir = new TemporaryDirectory();
        string name = Path.Combine(dir.Path, "monitor");
        var output = new StringWriter();
        var errors = new StringWriter();
        Assert.Equal(0, KeygenCommand.Run(name, force: false, output, errors));

        string secret = CurveKeyFiles.ReadKey(name + ".key");
        string pub = CurveKeyFiles.ReadKey(name + ".pub");
        Assert.Equal(pub, output.ToString().Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(name + ".key"));
        Assert.Equal(pub, NetMQCertificate.CreateFromSecretKey(secret).PublicKeyZ85);

        // A second run refuses to overwrite the pair, unless forced.
        Assert.Equal(2, KeygenCommand.Run(name, force: false, new StringWriter(), errors));
        Assert.Contains("exists", errors.ToString(), StringComparison.Ordinal);
        File.SetUnixFileMode(name + ".key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Equal(0, KeygenCommand.Run(name, force: true, new StringWriter(), new StringWriter()));
        Assert.NotEqual(secret, CurveKeyFiles.ReadKey(name + ".key"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(name + ".key"));
    }

    [Fact]
    public void Keygen_keys_work_for_a_curve_connection()
    {
        using var dir = new TemporaryDirectory();
        string server = Path.Combine(dir.Path, "server");
        string client = Path.Combine(dir.Path, "client");
        Assert.Equal(0, KeygenCommand.Run(server, false, new StringWriter(), new StringWriter()));
        Assert.Equal(0, KeygenCommand.Run(client, false, new StringWriter(), new StringWriter()));

        using var publisher = new ZeroMqPublisher(new ZeroMqOptions
        {
            Endpoints = ["tcp://127.0.0.1:*"],
            CurveServerSecretKeyFile = server + ".key",
            CurveServerPublicKeyFile = server + ".pub",
        });
        using var subscriber = new SubscriberSocket();
        subscriber.Options.CurveServerKey = NetMQCertificate.FromPublicKey(CurveKeyFiles.ReadKey(server + ".pub")).PublicKey;
        subscriber.Options.CurveCertificate = new NetMQCertificate(CurveKeyFiles.ReadKey(client + ".key"), CurveKeyFiles.ReadKey(client + ".pub"));
        subscriber.Subscribe("");
        subscriber.Connect(publisher.Endpoints[0]);

        byte[] json = """{"type":"QueriesPerSecond","serverId":"s1","timeStamp":1,"data":{"qps":2.5}}"""u8.ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<byte[]>? frames = null;
        while (frames is null && DateTime.UtcNow < deadline)
        {
            publisher.Publish(new ResultEnvelope("QueriesPerSecond", "s1", "QueriesPerSecond", json));
            List<byte[]> received = [];
            if (subscriber.TryReceiveMultipartBytes(TimeSpan.FromMilliseconds(100), ref received!))
            {
                frames = received;
            }
        }

        Assert.NotNull(frames);
        Assert.Equal("QueriesPerSecond/s1"u8.ToArray(), frames[0]);
        var decoded = (Dictionary<object, object?>)MessagePack.MessagePackSerializer.Deserialize<object>(frames[1])!;
        Assert.Equal("s1", decoded["serverId"]);
        Assert.Equal(2.5, decoded["data"] is Dictionary<object, object?> data ? data["qps"] : null);
    }
}
