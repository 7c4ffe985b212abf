using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using RataDns.Capture;
using RataDns.Capture.Dnstap;
using RataDns.Capture.Live;
using RataDns.Capture.Pipeline;
using RataDns.Capture.Replay;
using RataDns.Capture.Ring;

namespace RataDns.App.Commands;

/// <summary>Where packets come from: a capture file (optionally replayed at a speed), standard input, or an interface.</summary>
internal sealed class CaptureSourceSettings
{
    /// <summary>
    /// "FILE: no such file.", and when FILE is the name of a network interface, how to capture on it instead (a
    /// configuration whose InputMethod reads files, given an interface as its InputSource).
    /// </summary>
    public static string MissingFile(string input) =>
        !input.Contains('/', StringComparison.Ordinal) && Directory.Exists(Path.Combine("/sys/class/net", input))
            ? $"{input}: no such file; it is a network interface: capture on it with -i {input} (or InputMethod \"interface\" in the configuration)."
            : $"{input}: no such file.";

    /// <summary>A pcap/pcapng file, or "-" for standard input; ignored when <see cref="Interface"/> is set.</summary>
    public string Input { get; init; } = "-";

    public string? Interface { get; init; }

    /// <summary>A dnstap socket to listen on (<c>unix:PATH</c> or <c>tcp://ADDRESS:PORT</c>), or null; it wins over <see cref="Input"/>.</summary>
    public string? Dnstap { get; init; }

    /// <summary>What the dnstap input (a socket, or a Frame Streams file given as <see cref="Input"/>) read.</summary>
    public DnstapInputStatistics DnstapStatistics { get; } = new();

    /// <summary>Where the source says what it does and what went wrong on the way (a dnstap writer's broken stream); null for silence.</summary>
    public TextWriter? Log { get; set; }

    public string Filter { get; init; } = "port 53";
    public int SnapLength { get; init; } = 65535;
    public bool Promiscuous { get; init; }
    public int KernelBufferBytes { get; init; } = 32 << 20;

    /// <summary>Deliver each packet at once (lower latency, more wake-ups) instead of in libpcap's blocks.</summary>
    public bool Immediate { get; init; }

    /// <summary>Replay speed for files: 0 as fast as possible, 1 capture timing, n times faster.</summary>
    public double Speed { get; init; }

    /// <summary>
    /// The clock a paced replay (<see cref="Speed"/> &gt; 0) reads and sleeps on: the machine's in the program; tests
    /// give one whose time moves only when the pacer waits, to check a replay's pace without timing it.
    /// </summary>
    public ReplayClock ReplayClock { get; init; } = ReplayClock.System;

    /// <summary>How many times a file is read (soak tests).</summary>
    public int Loop { get; init; } = 1;

    /// <summary>Stop a live capture after this long (null: until interrupted).</summary>
    public TimeSpan? Duration { get; init; }

    public string Describe() => Dnstap is { } d ? $"dnstap {d}" : Interface is { } i ? $"interface {i}" : Input == "-" ? "standard input" : Input;

    /// <summary>Whether the source is live (an interface or a dnstap socket): it runs until stopped, and drops rather than waits.</summary>
    public bool IsLive => Interface is not null || Dnstap is not null;

    /// <summary>Whether the input is a Frame Streams (dnstap) file rather than a pcap or pcapng one (its first bytes, read once).</summary>
    public bool IsDnstapFile => _isDnstapFile ??= Dnstap is null && Interface is null && Input != "-" && DnstapFileReader.IsFrameStreamsFile(Input);

    private bool? _isDnstapFile;

    /// <summary>The libpcap settings of a live source (<see cref="Interface"/> set).</summary>
    public LiveCaptureOptions ToLiveOptions() => new()
    {
        Interface = Interface ?? throw new InvalidOperationException("Not a live source: no interface."),
        Filter = Filter,
        SnapLength = SnapLength,
        Promiscuous = Promiscuous,
        KernelBufferBytes = KernelBufferBytes,
        Immediate = Immediate,
    };
}

/// <summary>The command-line options of a capture source, shared by the commands that read packets.</summary>
internal sealed class CaptureSourceOptions
{
    public Argument<string[]> Input { get; } = new("input")
    {
        Description = "A pcap or pcapng file, or - for standard input (unless -r or -i gives the input); then, as with tcpdump, a BPF filter for live capture (e.g. port 53 and host 192.0.2.1).",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string> ReadFile { get; } = new("--read", "-r")
    {
        Description = "Read this pcap or pcapng file, or - for standard input (as tcpdump -r).",
    };

    public Option<string> Interface { get; } = new("--interface", "-i")
    {
        Description = "Capture live on this interface (\"any\" for all) through libpcap, instead of reading a file.",
    };

    public Option<string> Dnstap { get; } = new("--dnstap")
    {
        Description = "Receive dnstap from DNS servers on this socket (unix:PATH or tcp://ADDRESS:PORT) until interrupted or --duration; a dnstap file is read as FILE or -r FILE.",
    };

    public Option<string> Filter { get; } = new("--filter", "-f")
    {
        Description = "BPF filter for live capture.",
        DefaultValueFactory = _ => "port 53",
    };

    public Option<int> SnapLength { get; } = new("--snaplen", "-s")
    {
        Description = "Bytes captured per packet (live).",
        DefaultValueFactory = _ => 65535,
    };

    public Option<bool> Promiscuous { get; } = new("--promiscuous") { Description = "Put the interface in promiscuous mode (live)." };

    public Option<int> BufferSize { get; } = new("--buffer-size")
    {
        Description = "Kernel capture buffer in MiB (live).",
        DefaultValueFactory = _ => 32,
    };

    public Option<bool> Immediate { get; } = new("--immediate")
    {
        Description = "Live: hand each packet over as it arrives (pcap immediate mode) instead of in blocks of up to 100 ms.",
    };

    public Option<double> Speed { get; } = new("--speed")
    {
        Description = "Replay speed for files: 0 = as fast as possible, 1 = the capture's own timing, n = n times faster (0.25 = four times slower).",
        DefaultValueFactory = _ => 0,
    };

    public Option<int> Loop { get; } = new("--loop")
    {
        Description = "Read the file this many times (soak tests).",
        DefaultValueFactory = _ => 1,
    };

    public Option<double> Duration { get; } = new("--duration")
    {
        Description = "Stop a live capture after this many seconds (default: run until interrupted).",
    };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Input);
        Input.Validators.Add(result =>
        {
            // A file may be "-"; any other word starting with '-' is a misspelled option, not a file or a filter.
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-') && t.Value != "-"))
            {
                result.AddError($"Unrecognized command or argument '{token.Value}'.");
            }
        });
        foreach (var option in new Option[] { ReadFile, Interface, Dnstap, Filter, SnapLength, Promiscuous, BufferSize, Immediate, Speed, Loop, Duration })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The source the command line names: <c>-i</c> (live), <c>-r</c> or the first word (a file, <c>-</c> for standard
    /// input); the words after it (all of them with <c>-i</c> or <c>-r</c>) are the filter. Without a filter given,
    /// the live filter follows <paramref name="ports"/> (<c>port 5300 or port 53</c>) when they are not just 53.
    /// </summary>
    public CaptureSourceSettings Read(ParseResult parse, IReadOnlyList<int>? ports = null)
    {
        string[] words = parse.GetValue(Input) ?? [];
        string? iface = parse.GetValue(Interface), read = parse.GetValue(ReadFile), dnstap = parse.GetValue(Dnstap);
        if (iface is not null && read is not null)
        {
            throw new ArgumentException("give -i INTERFACE (live) or -r FILE (a capture), not both.");
        }

        if (dnstap is not null)
        {
            if ((iface ?? read) is not null)
            {
                throw new ArgumentException("give one input: -i INTERFACE, -r FILE or --dnstap SOCKET.");
            }

            if (!Configuration.CaptureConfiguration.IsSocket(dnstap))
            {
                throw new ArgumentException($"--dnstap {dnstap}: expected unix:PATH or tcp://ADDRESS:PORT (a dnstap file is read as FILE or -r FILE).");
            }

            read = "-"; // not read: the socket wins; any words are not a file
        }

        string input = read ?? (iface is null && words.Length > 0 ? words[0] : "-");
        string[] expression = iface is not null || read is not null ? words : words.Skip(1).ToArray();
        bool filterGiven = parse.GetResult(Filter) is { Implicit: false };
        if (expression.Length > 0 && filterGiven)
        {
            throw new ArgumentException("give the filter as --filter or after the input, not both.");
        }

        string filter = expression.Length > 0 ? string.Join(' ', expression)
            : filterGiven || ports is not { Count: > 0 } || ports.SequenceEqual([53]) ? parse.GetValue(Filter) ?? "port 53"
            : string.Join(" or ", ports.Distinct().Select(p => $"port {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
        double speed = parse.GetValue(Speed);
        if (speed < 0 || double.IsNaN(speed) || double.IsInfinity(speed))
        {
            throw new ArgumentException($"--speed {speed}: the speed is 0 (as fast as possible) or a positive factor.");
        }

        int loop = parse.GetValue(Loop);
        if (loop < 1)
        {
            throw new ArgumentException($"--loop {loop}: read the file at least once.");
        }

        int snap = parse.GetValue(SnapLength);
        if (snap is < 64 or > 262144)
        {
            throw new ArgumentException($"--snaplen {snap}: between 64 and 262144 bytes.");
        }

        int buffer = parse.GetValue(BufferSize);
        if (buffer is < 1 or > 4096)
        {
            throw new ArgumentException($"--buffer-size {buffer}: between 1 and 4096 MiB.");
        }

        var duration = parse.GetValue(Duration);
        return new CaptureSourceSettings
        {
            Input = input,
            Interface = iface,
            Dnstap = dnstap,
            Filter = filter,
            SnapLength = snap,
            Promiscuous = parse.GetValue(Promiscuous),
            KernelBufferBytes = buffer << 20,
            Immediate = parse.GetValue(Immediate),
            Speed = speed,
            Loop = loop,
            Duration = duration > 0 ? TimeSpan.FromSeconds(duration) : null,
        };
    }
}

/// <summary>Feeds frames from a <see cref="CaptureSourceSettings"/> to a frame handler.</summary>
internal static class CaptureSourceRunner
{
    /// <summary>Frames the ring between the live capture thread and the processing thread holds at most.</summary>
    private const int LiveRingSlots = 1 << 16;

    /// <summary>Bytes of frame data that ring holds at most.</summary>
    private const long LiveRingBytes = 64L << 20;

    /// <summary>
    /// Reads every frame of the source into <paramref name="handler"/>. Returns the read error that ended a file or
    /// stream early, or null. Live capture runs until <paramref name="cancellation"/> or the duration ends.
    /// </summary>
    public static CaptureReadError? Run<THandler>(CaptureSourceSettings source, Stream? stdin, ref THandler handler, CaptureStatistics statistics, CancellationToken cancellation, Progress.ReadProgressCounter? progress = null)
        where THandler : struct, ICapturePassHandler
    {
        try
        {
            return RunSource(source, stdin, ref handler, statistics, cancellation, progress);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return null; // interrupted: what was read so far has been handled
        }
    }

    /// <summary>
    /// Reads the whole source through a pipeline handler and finishes its streams. Returns why reading ended early
    /// (a damaged record, or a live capture that stopped), or null; what was read before is processed either way.
    /// A source that cannot be opened throws as <see cref="Run{THandler}"/> does.
    /// </summary>
    public static string? RunToEnd<TSink>(CaptureSourceSettings source, Stream? stdin, ref PipelineFrameHandler<TSink> handler, CaptureStatistics statistics, CancellationToken cancellation, Progress.ReadProgressCounter? progress = null)
        where TSink : IDnsMessageHandler
    {
        try
        {
            var error = Run(source, stdin, ref handler, statistics, cancellation, progress);
            handler.Finish();
            return error?.Message;
        }
        catch (CaptureInterruptedException e)
        {
            handler.Finish();
            return e.Message;
        }
    }

    private static CaptureReadError? RunSource<THandler>(CaptureSourceSettings source, Stream? stdin, ref THandler handler, CaptureStatistics statistics, CancellationToken cancellation, Progress.ReadProgressCounter? progress)
        where THandler : struct, ICapturePassHandler
    {
        if (source.Dnstap is not null)
        {
            RunDnstap(source, ref handler, cancellation);
            return null;
        }

        if (source.Interface is not null)
        {
            RunLive(source, ref handler, statistics, cancellation);
            return null;
        }

        var pacer = source.Speed > 0 ? new ReplayPacer(source.Speed, source.ReplayClock) : null;
        long passStart = 0;
        for (int pass = 0; pass < source.Loop && !cancellation.IsCancellationRequested; pass++)
        {
            pacer?.Restart();
            var guarded = new GuardedFrameHandler<THandler>(handler, pacer, cancellation, progress, passStart);
            CaptureReadError? error;
            if (source.Input == "-")
            {
                var reader = new CaptureStreamReader(stdin ?? Console.OpenStandardInput());
                reader.ReadAllAsync(guarded, cancellation).GetAwaiter().GetResult();
                return reader.Error;
            }

            if (!File.Exists(source.Input))
            {
                // The same words as monitor's, rather than the runtime's "Could not find file".
                throw new FileNotFoundException(CaptureSourceSettings.MissingFile(source.Input), source.Input);
            }

            if (source.IsDnstapFile)
            {
                using var reader = DnstapFileReader.Open(source.Input, source.DnstapStatistics);
                reader.ReadAll(ref guarded);
                error = reader.Error;
                passStart += reader.Length;
            }
            else
            {
                using var reader = CaptureFileReader.Open(source.Input);
                reader.ReadAll(ref guarded);
                error = reader.Error;
                passStart += reader.Length;
            }

            if (error is not null)
            {
                return error;
            }

            if (pass + 1 < source.Loop)
            {
                handler.EndOfPass();
            }
        }

        return null;
    }

    /// <summary>
    /// A dnstap socket: writers' messages reach the handler on their connections' threads, one at a time (under the
    /// input's gate); this thread waits for the end (cancellation, the duration, a failure of the handler) and, for
    /// a handler that closes time windows, tells it every 100 ms that time passed.
    /// </summary>
    private static void RunDnstap<THandler>(CaptureSourceSettings source, ref THandler handler, CancellationToken cancellation)
        where THandler : struct, ICapturePassHandler
    {
        var box = new StrongBox<THandler>(handler);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (source.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }

        Exception? failure;
        using (var input = DnstapSocketInput.Listen(source.Dnstap!, (in CapturedFrame frame) => box.Value.OnFrame(in frame), source.DnstapStatistics, source.Log is { } log ? log.WriteLine : null))
        {
            source.Log?.WriteLine($"listening for dnstap on {input.Endpoint}");
            while (!stop.Token.WaitHandle.WaitOne(100) && input.Failure is null)
            {
                if (box.Value is ILiveFrameHandler)
                {
                    lock (input.Gate)
                    {
                        OnIdle(ref box.Value, (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100);
                    }
                }
            }

            failure = input.Failure;
        }

        handler = box.Value;
        if (failure is not null and not OperationCanceledException)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    private static void OnIdle<THandler>(ref THandler handler, long nowNanoseconds)
        where THandler : struct, ICapturePassHandler =>
        ((ILiveFrameHandler)handler).OnIdle(nowNanoseconds); // boxes a copy: the engine's handler holds references only

    private static void RunLive<THandler>(CaptureSourceSettings source, ref THandler handler, CaptureStatistics statistics, CancellationToken cancellation)
        where THandler : struct, ICapturePassHandler
    {
        using var capture = LiveCapture.Open(source.ToLiveOptions());
        // 64K frames in flight, their bytes sharing the arena: bursts of small DNS frames and the odd 64 KB segment.
        var ring = new FrameRing(LiveRingSlots, source.SnapLength, LiveRingBytes);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (source.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }

        // The capture thread only copies frames into the ring; everything else happens on this thread. A failure
        // there (the interface went away) ends the capture; it is reported here once the ring is drained.
        Exception? captureFailure = null;
        var captureThread = new Thread(() =>
        {
            try
            {
                capture.Run(ring, stop.Token);
            }
            catch (Exception e) when (e is LiveCaptureException or InvalidOperationException)
            {
                Volatile.Write(ref captureFailure, e);
            }
        })
        {
            Name = "ratadns capture",
            IsBackground = true,
            Priority = ThreadPriority.AboveNormal,
        };
        captureThread.Start();

        var statisticsClock = Stopwatch.StartNew();
        var idle = default(SpinWait);
        while (true)
        {
            if (ring.TryRead(out var frame))
            {
                handler.OnFrame(in frame);
                ring.AdvanceRead();
                idle.Reset();
                continue;
            }

            if (!captureThread.IsAlive)
            {
                break; // the capture stopped and the ring is drained
            }

            if (statisticsClock.ElapsedMilliseconds >= 1000)
            {
                UpdateDrops(capture, ring, statistics);
                statisticsClock.Restart();
            }

            // Nothing to do: spin briefly, then yield the core (the ring is polled, not signalled).
            idle.SpinOnce(sleep1Threshold: 30);
        }

        if (Volatile.Read(ref captureFailure) is { } failure)
        {
            throw new CaptureInterruptedException(failure.Message, failure);
        }

        UpdateDrops(capture, ring, statistics);
    }

    private static void UpdateDrops(LiveCapture capture, FrameRing ring, CaptureStatistics statistics)
    {
        var pcap = capture.ReadStatistics();
        statistics.RecordDrops(pcap.KernelDropped, pcap.InterfaceDropped, ring.Dropped);
    }
}

/// <summary>A live capture that was running stopped on an error (the interface went away): what was seen is kept.</summary>
internal sealed class CaptureInterruptedException : Exception
{
    public CaptureInterruptedException()
    {
    }

    public CaptureInterruptedException(string message)
        : base(message)
    {
    }

    public CaptureInterruptedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Wraps the handler of a file or stream read: paces frames when replaying at a speed, and stops the read at the
/// next frame once SIGINT/SIGTERM (or a caller) cancels, so a long replay ends promptly and still reports; advances
/// the progress counter, if any, to the end of each frame (<paramref name="passStart"/>: the bytes of earlier passes).
/// </summary>
internal struct GuardedFrameHandler<THandler>(THandler inner, ReplayPacer? pacer, CancellationToken cancellation, Progress.ReadProgressCounter? progress = null, long passStart = 0) : ICaptureFrameHandler
    where THandler : struct, ICaptureFrameHandler
{
    // Not readonly: OnFrame runs on the inner struct in place (a readonly field would hand it a defensive copy).
#pragma warning disable IDE0044
    private THandler _inner = inner;
#pragma warning restore IDE0044

    public void OnFrame(in CapturedFrame frame)
    {
        cancellation.ThrowIfCancellationRequested();
        if (pacer is not null && !pacer.WaitFor(frame.TimestampNanoseconds, cancellation))
        {
            throw new OperationCanceledException(cancellation);
        }

        _inner.OnFrame(in frame);
        progress?.OnFrame(passStart + frame.FileOffset + frame.Data.Length);
    }
}
