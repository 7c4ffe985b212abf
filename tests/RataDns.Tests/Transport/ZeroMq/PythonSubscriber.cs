using System.Collections.Concurrent;
using System.Diagnostics;
using RataDns.Tests.Support;

namespace RataDns.Tests.Transport.ZeroMq;

/// <summary>
/// A pyzmq SUB socket in a child process (<c>/usr/bin/python3</c> with python3-zmq and python3-msgpack): it connects,
/// prints <c>ready</c> at the first <c>warmup/...</c> message (so the test knows the subscription is in place), then
/// prints every other message as one JSON line <c>{"topic","data"}</c> decoded with msgpack or json, and
/// <c>done N</c> after <c>expected</c> messages, or when nothing came for 15 s before the warm-up, for a minute after
/// it, or for <c>quietSeconds</c> after a first result (a minute by default). These are hang guards, so a loaded
/// machine cannot end a stream early; a test that needs the end of a stream it cannot count sets a short quiet.
/// With a server key it is a CurveZMQ client, with a fresh key pair or the one given (Z85).
/// </summary>
internal sealed class PythonSubscriber : IDisposable
{
    private const string Script = """
        import json, sys, time, zmq, msgpack
        endpoint, encoding, expected, quiet, first_sleep, server_key, rcvhwm, client_public, client_secret, quiet_after = sys.argv[1:11]
        expected, first_sleep, rcvhwm, quiet_after = int(expected), float(first_sleep), int(rcvhwm), int(float(quiet_after) * 1000)
        ctx = zmq.Context()
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.RCVHWM, rcvhwm)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RECONNECT_IVL, 10)  # a publisher that binds later is joined within ~10 ms, not 100
        if server_key != "-":
            public, secret = zmq.curve_keypair()
            if client_public != "-":
                public, secret = client_public.encode(), client_secret.encode()
            s.curve_serverkey = server_key.encode()
            s.curve_publickey = public
            s.curve_secretkey = secret
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(endpoint)
        print("connected", flush=True)
        ready = False
        count = 0
        while count < expected:
            if not s.poll(quiet_after if count > 0 else 60000 if ready else 15000):
                break
            topic, payload = s.recv_multipart()
            if topic.startswith(b"warmup/"):
                if not ready:
                    print("ready", flush=True)
                    ready = True
                continue
            if count == 0 and first_sleep > 0:
                time.sleep(first_sleep)
            count += 1
            if quiet == "quiet":
                continue
            data = msgpack.unpackb(payload, raw=False) if encoding == "msgpack" else json.loads(payload)
            print(json.dumps({"topic": topic.decode("utf-8"), "data": data}, ensure_ascii=False), flush=True)
        print("done", count, flush=True)
        """;

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly string _scriptPath;

    public static bool IsAvailable =>
        File.Exists(ExternalTool.SystemPython) && ExternalTool.Run(ExternalTool.SystemPython, ["-c", "import zmq, msgpack; assert zmq.has('curve')"], out _, out _, timeoutMs: 30_000) == 0;

    public const string Unavailable = "/usr/bin/python3 with python3-zmq and python3-msgpack is needed (scripts/setup.sh installs them)";

    public PythonSubscriber(string endpoint, string encoding = "msgpack", int expected = int.MaxValue, bool quiet = false,
        double firstSleepSeconds = 0, string? serverKey = null, int receiveHighWatermark = 1000,
        string? clientPublicKey = null, string? clientSecretKey = null, double quietSeconds = 60)
    {
        if ((clientPublicKey is null) != (clientSecretKey is null) || (clientPublicKey is not null && serverKey is null))
        {
            throw new ArgumentException("A client key pair is given whole, and only with the server's public key.");
        }

        _scriptPath = Path.Combine(Path.GetTempPath(), $"ratadns-sub-{Guid.NewGuid():N}.py");
        File.WriteAllText(_scriptPath, Script);
        var info = new ProcessStartInfo(ExternalTool.SystemPython)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var a in new[]
        {
            _scriptPath, endpoint, encoding, expected.ToString(System.Globalization.CultureInfo.InvariantCulture), quiet ? "quiet" : "print",
            firstSleepSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), serverKey ?? "-",
            receiveHighWatermark.ToString(System.Globalization.CultureInfo.InvariantCulture),
            clientPublicKey ?? "-", clientSecretKey ?? "-",
            quietSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["PYTHONIOENCODING"] = "utf-8";
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.CompleteAdding();
            }
            else
            {
                _lines.Add(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                StandardError.Enqueue(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public ConcurrentQueue<string> StandardError { get; } = new();

    /// <summary>The next line printed, or null when none came in time (or the process ended).</summary>
    public string? NextLine(TimeSpan timeout) =>
        _lines.TryTake(out var line, timeout) ? line : null;

    /// <summary>Publishes warm-up messages through <paramref name="publishWarmup"/> until the subscriber reports one.</summary>
    public void WaitUntilSubscribed(Action publishWarmup)
    {
        Assert.Equal("connected", NextLine(TimeSpan.FromSeconds(60)));
        // A hang guard: the subscription normally lands within milliseconds; one that never does fails here.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            publishWarmup();
            if (_lines.TryTake(out var line, 50))
            {
                Assert.Equal("ready", line);
                return;
            }
        }

        throw new TimeoutException($"the subscriber never received a warm-up message; stderr: {string.Join('\n', StandardError)}");
    }

    /// <summary>Freezes the subscriber process (SIGSTOP): it reads nothing until <see cref="Continue"/>.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Lets a frozen subscriber run again (SIGCONT).</summary>
    public void Continue() => Signal("CONT");

    /// <summary>True while the process is stopped by a signal (state T in /proc/PID/stat).</summary>
    public bool IsFrozen
    {
        get
        {
            string stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');
        }
    }

    private void Signal(string name) =>
        ExternalTool.Run("/bin/kill", [$"-{name}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], out _, out _);

    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        File.Delete(_scriptPath);
    }
}
