using System.CommandLine;
using RataDns.App.Operations;
using RataDns.App.Service;
using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.App.Progress;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using RataDns.Engine;
using RataDns.Transport.PrometheusExposition;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;

namespace RataDns.App.Commands;

/// <summary>
/// <c>ratadns monitor</c>, Fievel's role: packets from the configured source go through every configured reducer;
/// at the end of each window (W packets, or a span of packet time aligned on the clock) each reducer writes its
/// result in the Fievel envelope to its output and starts over. The work is done by <see cref="MonitorEngine"/>:
/// the reading thread dispatches frames by flow to worker threads, a merger thread writes the merged results.
/// </summary>
public static class MonitorCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "The configuration file (RataDns or RaTA DNS / Fievel JSON). Without one, -i or -r: the default reducers, one-second windows, results on standard output. -c with a number is tcpdump's count (--count)." };
        var count = new Option<long?>("--count") { Description = "Stop after this many packets (those that pass the filter), as tcpdump -c N; -c N (a number) means this too." };
        var capturedInterface = new Option<string>("--interface", "-i") { Description = "Capture live on this interface (as tcpdump -i); sets InputMethod and InputSource." };
        var readFile = new Option<string>("--read", "-r") { Description = "Read this pcap or pcapng file (or a dnstap Frame Streams file), or - for a pcap stream on standard input (as tcpdump -r)." };
        var dnstap = new Option<string>("--dnstap") { Description = "Receive dnstap from DNS servers on this socket: unix:PATH or tcp://ADDRESS:PORT (sets InputMethod dnstap and InputSource)." };
        var port = new Option<int[]>("--port") { Description = "DNS port (repeat for several); the live filter follows unless one is given. Default 53.", AllowMultipleArgumentsPerToken = true };
        var expression = new Argument<string[]>("expression") { Description = "A BPF filter for live capture, as tcpdump takes it (e.g. port 53 and host 192.0.2.1).", Arity = ArgumentArity.ZeroOrMore };
        var serverId = new Option<string>("--server-id") { Description = "Overrides ServerId." };
        var window = new Option<string>("--window") { Description = "Overrides the window: a packet count (1000) or a span (250ms, 1s, 5m)." };
        var inputSource = new Option<string>("--input-source") { Description = "Overrides InputSource (a file, an interface, or - for stdin); InputMethod follows what it names." };
        var speed = new Option<double?>("--speed") { Description = "Overrides Speed for files (0 = as fast as possible, 1 = real time, n = n times faster)." };
        var filter = new Option<string>("--filter", "-f") { Description = "Overrides Filter (live capture)." };
        var workers = new Option<int?>("--workers") { Description = "Overrides Workers: worker threads that decode and reduce (default: cores - 1, at least 1)." };
        var fileReader = new Option<string>("--file-reader")
        {
            Description = "Who reads a file replayed as fast as possible: capture-thread (it dispatches to the workers through rings), worker (the one worker reads it itself: no ring, no copy), or auto (worker for light reducer sets on one worker, the default).",
            DefaultValueFactory = _ => "auto",
        };
        fileReader.AcceptOnlyFromAmong("auto", "capture-thread", "worker");
        var noPin = new Option<bool>("--no-pin") { Description = "Do not pin the capture thread and the workers to CPUs." };
        var zmqConnect = new Option<string>("--zmq-connect") { Description = "Publish every reducer's results on ZeroMQ, connecting to this endpoint (an aggregator that binds)." };
        var zmqBind = new Option<string>("--zmq-bind") { Description = "Publish every reducer's results on ZeroMQ, binding this endpoint (aggregators connect)." };
        var stats = new Option<bool>("--stats") { Description = "At the end, write the capture statistics (frames, messages, drops, reassembly) to standard error." };
        var metrics = new Option<string>("--metrics") { Description = "Serve self-metrics (Prometheus text format) on http://ADDRESS/metrics: a port (bound on 127.0.0.1) or address:port. Off by default." };
        var metricsLinger = new Option<string>("--metrics-linger") { Description = "With --metrics: once the input has ended, keep serving the final metrics this long (30s, 5m) or until SIGINT/SIGTERM." };
        var statusInterval = new Option<string>("--status-interval") { Description = "Write a one-line status to standard error this often (10s, 1m; off). Default: off for files, 60s for live capture." };
        var user = new Option<string>("--user", "-Z") { Description = "Overrides User: once the capture and the outputs are open, change to this user (root only; like tcpdump -Z)." };
        var command = new Command("monitor", "Reduce packets into per-window results (Fievel's role) and write them to the reducers' outputs.")
        {
            config, count, capturedInterface, readFile, dnstap, port, serverId, window, inputSource, speed, filter, workers, fileReader, noPin, zmqConnect, zmqBind, stats, metrics, metricsLinger, statusInterval, user,
        };
        command.Arguments.Add(expression);
        expression.Validators.Add(result =>
        {
            // A BPF expression never starts with '-': such a word is a misspelled option, not a filter.
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-')))
            {
                result.AddError(token.Value == "-w"
                    ? "-w: tcpdump writes packets to a file with -w; ratadns writes results (Output in the configuration, or --zmq-bind). The window is --window (1000 packets, or 1s, 5m)."
                    : $"Unrecognized command or argument '{token.Value}'.");
            }
        });
        command.SetAction(parse =>
        {
            // Start-up and every reload (SIGHUP) read the file the same way: the command line wins over it.
            (MonitorConfiguration, string?) Load()
            {
                string? iface = parse.GetValue(capturedInterface), read = parse.GetValue(readFile), tap = parse.GetValue(dnstap);
                string[] words = parse.GetValue(expression) ?? [];
                if (iface is not null && read is not null)
                {
                    throw new ArgumentException("give -i INTERFACE (live) or -r FILE (a capture), not both.");
                }

                if (tap is not null && (iface ?? read) is not null)
                {
                    throw new ArgumentException("give one input: -i INTERFACE (live), -r FILE (a capture) or --dnstap SOCKET.");
                }

                if (tap is not null && !CaptureConfiguration.IsSocket(tap))
                {
                    throw new ArgumentException($"--dnstap {tap}: expected unix:PATH or tcp://ADDRESS:PORT (a dnstap file is read with -r FILE).");
                }

                if ((iface ?? read ?? tap) is not null && parse.GetValue(inputSource) is not null)
                {
                    throw new ArgumentException("--input-source goes without -i, -r and --dnstap (they set it).");
                }

                if (words.Length > 0 && parse.GetValue(filter) is not null)
                {
                    throw new ArgumentException("give the filter as --filter or after the options, not both.");
                }

                var configuration = ConfigurationPath(parse.GetValue(config)) is { } path
                    ? MonitorConfigurationLoader.Load(path)
                    : (iface ?? read ?? tap) is not null
                        ? MonitorConfigurationLoader.Parse("{}", "the command line")
                        : throw new ArgumentException("give -c CONFIG, or -i INTERFACE, -r FILE or --dnstap SOCKET (the default reducers then write to standard output).");
                string? configuredUser = configuration.User;
                WindowConfiguration? windowOverride = null;
                if (parse.GetValue(window) is { } windowText)
                {
                    if (!WindowConfiguration.TryParse(windowText, out windowOverride, out string reason))
                    {
                        throw new ArgumentException($"--window {windowText}: {reason}");
                    }
                }

                configuration = configuration.WithOverrides(new ConfigurationOverrides
                {
                    ServerId = parse.GetValue(serverId),
                    Window = windowOverride,
                    InputMethod = iface is not null ? CaptureInputMethod.Interface : tap is not null ? CaptureInputMethod.Dnstap : read is not null ? (read == "-" ? CaptureInputMethod.Stdin : CaptureInputMethod.CaptureFile) : InputKind(parse.GetValue(inputSource)),
                    InputSource = iface ?? tap ?? (read is null or "-" ? parse.GetValue(inputSource) : read),
                    Speed = parse.GetValue(speed),
                    Filter = words.Length > 0 ? string.Join(' ', words) : parse.GetValue(filter),
                    Workers = parse.GetValue(workers),
                    Ports = parse.GetValue(port) is { Length: > 0 } ports ? ports : null,
                });
                if ((parse.GetValue(zmqConnect) ?? parse.GetValue(zmqBind)) is { } endpoint)
                {
                    if (parse.GetValue(zmqConnect) is not null && parse.GetValue(zmqBind) is not null)
                    {
                        throw new ArgumentException("give --zmq-connect or --zmq-bind, not both.");
                    }

                    // Every reducer to the ZeroMQ socket, whatever outputs the file names.
                    configuration = configuration with
                    {
                        ZeroMq = (configuration.ZeroMq ?? new ZeroMqConfiguration()) with { Endpoints = [endpoint], Bind = parse.GetValue(zmqBind) is not null },
                        Reducers = [.. configuration.Reducers.Select(r => r with { Output = new ReducerOutputConfiguration { Method = ReducerOutputMethod.Zmq } })],
                    };
                }

                return (configuration, configuredUser);
            }

            MonitorConfiguration configuration;
            OperationsOptions operations;
            ServiceAccount? account = null;
            string? fileUser;
            try
            {
                operations = OperationsOptions.Parse(parse.GetValue(metrics), parse.GetValue(metricsLinger), parse.GetValue(statusInterval));
                PacketCount(parse.GetValue(config), parse.GetValue(count)); // checked before anything opens
                (configuration, fileUser) = Load();
                if ((parse.GetValue(user) ?? fileUser) is { } userName)
                {
                    string origin = parse.GetValue(user) is null ? MonitorConfigurationLoader.UserKey : "--user";
                    account = PrivilegeDrop.Resolve(userName, origin, out string? userError) ?? throw new ArgumentException(userError);
                }
            }
            catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                using var log = new CommandLog("ratadns monitor", Console.Error, GlobalOptions.Read(parse));
                log.Logger.LogError("{Reason}", e.Message);
                return ExitCodes.Usage;
            }

            using var service = new MonitorService(Load, account, fileUser, SystemdNotifier.FromEnvironment(Console.Error), Console.Error);
            using var interrupt = Interrupt.OnCancelKeyOrTerm(service.RequestReload);
            using var stopping = interrupt.Token.Register(service.Notifier.Stopping);
            try
            {
                var run = new MonitorRunOptions { PacketCount = PacketCount(parse.GetValue(config), parse.GetValue(count)), FileReader = parse.GetValue(fileReader) switch { "worker" => FileReader.Worker, "capture-thread" => FileReader.CaptureThread, _ => FileReader.Auto }, PinThreads = !parse.GetValue(noPin), Statistics = parse.GetValue(stats), Operations = operations, Service = service, Log = GlobalOptions.Read(parse) };
                return Run(configuration, null, Console.Error, interrupt.Token, run);
            }
            catch (OutputClosedException)
            {
                return ExitCodes.Ok; // the reader of standard output went away (e.g. "| head")
            }
        });
        return command;
    }

    /// <summary>
    /// The input method <c>--input-source</c> names, whatever the file's InputMethod: <c>-</c> is standard input, an
    /// existing file a capture file, a network interface (or libpcap's <c>any</c>) a live capture; null (the file's
    /// method) for anything else, which then says what is wrong with it.
    /// </summary>
    private static CaptureInputMethod? InputKind(string? source) => source switch
    {
        null => null,
        "-" => CaptureInputMethod.Stdin,
        _ when CaptureConfiguration.IsSocket(source) => CaptureInputMethod.Dnstap,
        _ when File.Exists(source) => CaptureInputMethod.CaptureFile,
        "any" => CaptureInputMethod.Interface,
        _ when !source.Contains('/', StringComparison.Ordinal) && Directory.Exists(Path.Combine("/sys/class/net", source)) => CaptureInputMethod.Interface,
        _ => null,
    };

    /// <summary>
    /// <c>-c</c>'s value as a configuration file, or null when it is tcpdump's packet count: a whole number that names
    /// no file (the configuration keeps <c>-c FILE</c>, as knotd, unbound and nginx take it).
    /// </summary>
    private static string? ConfigurationPath(string? value) => IsCount(value) ? null : value;

    private static bool IsCount(string? value) => value is { Length: > 0 } && value.All(char.IsAsciiDigit) && !File.Exists(value);

    /// <summary>The packet count of <c>--count N</c> or <c>-c N</c>, or null.</summary>
    /// <exception cref="ArgumentException">Both are given, or the count is not at least 1.</exception>
    private static long? PacketCount(string? config, long? count)
    {
        if (IsCount(config))
        {
            if (count is not null)
            {
                throw new ArgumentException("give the packet count once: -c N or --count N.");
            }

            count = long.TryParse(config, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) ? n : throw new ArgumentException($"-c {config}: too large a packet count.");
        }

        return count is < 1 ? throw new ArgumentException($"--count {count}: at least 1 packet.") : count;
    }

    internal static int Run(MonitorConfiguration configuration, Stream? input, TextWriter errors, CancellationToken cancellation = default, MonitorRunOptions? run = null)
    {
        run ??= new MonitorRunOptions();
        List<Reducer> reducers;
        ResultChannels channels;
        using var commandLog = new CommandLog("ratadns monitor", errors, run.Log);
        var logger = commandLog.Logger;
        var log = commandLog.AsWriter(LogLevel.Information);

        // The metrics endpoint first: an address in use stops the run before any output or capture is opened.
        using var operations = MonitorOperations.Start(run.Operations, log, out string? operationsError, commandLog.AsWriter(LogLevel.Warning));
        if (operations is null)
        {
            logger.LogError("{Reason}", operationsError);
            return ExitCodes.Usage;
        }

        var capture = configuration.Capture;
        var source = new CaptureSourceSettings
        {
            Input = capture.Input ?? "-",
            Interface = capture.Interface,
            Dnstap = capture.DnstapSocket,
            Log = log,
            Filter = capture.Filter,
            SnapLength = capture.SnapLength,
            Promiscuous = capture.Promiscuous,
            KernelBufferBytes = capture.KernelBufferBytes,
            Immediate = capture.Immediate,
            Speed = capture.Speed,
            Loop = capture.Loop,
            Duration = capture.Duration,
        };
        if (source.Dnstap is not null || source.IsDnstapFile)
        {
            operations.Metrics.AttachDnstap(source.DnstapStatistics);
        }

        bool scan = ScansFile(source, configuration.Workers, configuration.Reducers.Count, run.FileReader, out string? scanConflict);
        if (run.PacketCount is not null && scan)
        {
            // The worker reads the whole file; a count needs the reading thread to stop it.
            scan = false;
            scanConflict ??= run.FileReader == FileReader.Worker ? "--file-reader worker reads the whole file: give --count (-c N) without it." : null;
        }
        if (scanConflict is not null)
        {
            logger.LogError("{Reason}", scanConflict); // before any output is opened (or a file truncated)
            return ExitCodes.Usage;
        }

        try
        {
            reducers = [.. configuration.Reducers.Select(ReducerRegistry.Create)];
            channels = ResultChannels.Open(configuration, [.. reducers.Select(r => r.Type)], commandLog.AsWriter(LogLevel.Warning), run.ZeroMq ?? (() => OpenZeroMq(configuration.ZeroMq ?? new ZeroMqConfiguration(), message => logger.LogWarning("{Problem}", message))), info: log);
            operations.Metrics.AttachOutputs(channels);
            run.Service?.OutputsOpened(configuration, channels, c => run.ZeroMq ?? (() => OpenZeroMq(c.ZeroMq ?? new ZeroMqConfiguration(), message => logger.LogWarning("{Problem}", message))));
        }
        catch (Exception e) when (e is ConfigurationException or NotSupportedException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogError("{Reason}", e.Message);
            return ExitCodes.Usage;
        }

        var engineOptions = new MonitorEngineOptions
        {
            Workers = scan ? 1 : configuration.Workers ?? MonitorEngineOptions.DefaultWorkers,
            Window = configuration.Window,
            Ports = new DnsPortSet(configuration.Ports.Select(p => (ushort)p)),
            Live = source.IsLive,
            PinThreads = run.PinThreads,
            SlotCapacity = source.SnapLength,
            CountMalformed = operations.CountsMalformed,
            Log = log,
        };
        IWindowResultSink sink = new WindowEnvelopeWriter(configuration.ServerId, channels);
        if (operations.ServesMetrics)
        {
            sink = new DnsStatisticsSink(sink, operations.Metrics.CreateDnsStatistics(), configuration.ServerId);
        }

        string? stopped;
        MonitorEngine? engine = null;
        using var report = FileRunReport.Start(source, commandLog, run.IsTerminal);
        try
        {
            stopped = source.Interface is null
                ? RunOffline(source, input, scan, reducers, sink, engineOptions, operations, cancellation, out engine, run.Service, report.Counter, run.PacketCount)
                : RunLive(source, reducers, sink, engineOptions, operations, cancellation, out engine, run.Service, run.PacketCount);
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException or Capture.Live.LiveCaptureException or PrivilegeDropException)
        {
            report.Abandon();
            logger.LogError("{Reason}", e.Message);
            return ExitCodes.Usage;
        }
        finally
        {
            engine?.Dispose();
            channels = run.Service?.Outputs ?? channels; // a reload replaces the outputs
            channels.Dispose();
        }

        var statistics = engine!.Statistics();
        report.Finish(statistics);
        if (run.Statistics)
        {
            commandLog.Report(statistics.ToText());
            commandLog.Report(channels.Report());
        }
        else
        {
            // Results that never reached their destination are worth a line even without --stats.
            foreach (var c in channels.Distinct.Where(c => c.Statistics.Dropped > 0))
            {
                logger.LogWarning("output {Output}: {Dropped} of {Results} results dropped", c.Describe(), c.Statistics.Dropped, c.Statistics.Sent + c.Statistics.Dropped);
            }
        }

        operations.Linger(cancellation);
        if (stopped is not null)
        {
            logger.LogWarning("{Source}: {Reason}; the {Frames} frames before it were processed.", source.Describe(), stopped, statistics.Frames);
            return ExitCodes.InputDamaged;
        }

        return ExitCodes.Ok;
    }

    /// <summary>The monitor's ZeroMQ PUB socket, as the configuration's <c>ZeroMq</c> section describes it.</summary>
    internal static Transport.Publishing.IResultChannel OpenZeroMq(ZeroMqConfiguration zeroMq, Action<string>? warn = null)
    {
        var defaults = new ZeroMqOptions();
        return ZeroMqPublisher.Open(new ZeroMqOptions
        {
            Endpoints = zeroMq.Endpoints,
            Bind = zeroMq.Bind,
            Encoding = zeroMq.Json ? ZeroMqEncoding.Json : ZeroMqEncoding.MessagePack,
            State = zeroMq.State,
            SendHighWatermark = zeroMq.SendHighWatermark ?? defaults.SendHighWatermark,
            QueueCapacity = zeroMq.QueueCapacity ?? defaults.QueueCapacity,
            CurveServerSecretKeyFile = zeroMq.CurveSecretKeyFile,
            CurveServerPublicKeyFile = zeroMq.CurvePublicKeyFile,
            AllowedClientKeysFile = zeroMq.AllowedClientKeysFile,
            Warn = warn,
        });
    }

    /// <summary>A file or standard input: the calling thread reads and dispatches; it waits for room in the rings.</summary>
    private static string? RunOffline(
        CaptureSourceSettings source, Stream? input, bool scan, List<Reducer> reducers, IWindowResultSink sink,
        MonitorEngineOptions options, MonitorOperations operations, CancellationToken cancellation, out MonitorEngine engine, MonitorService? service, ReadProgressCounter? progress = null, long? count = null)
    {
        // Open the file first, so a missing one is reported before any thread starts.
        if (source.Dnstap is null && source.Input != "-" && !File.Exists(source.Input))
        {
            throw new FileNotFoundException(CaptureSourceSettings.MissingFile(source.Input), source.Input);
        }

        PrivilegeDropException.ThrowIfFailed(service?.CaptureOpened());
        engine = new MonitorEngine(reducers, sink, options);
        if (scan)
        {
            // As fast as possible from a file: the worker reads it (no capture thread, no ring, no copy). The engine's
            // threads start inside ScanFile, which returns when the file is read and every window written.
            operations.Started(engine, null);
            service?.Started(engine, source.Describe());
            var file = new CaptureFileScan(source.Input, source.Loop, cancellation, progress is null ? null : progress.Set);
            string? error = engine.ScanFile(file)?.Message;
            operations.InputEnded();
            return error;
        }

        engine.Start();
        operations.Started(engine, null, liveSource: source.Dnstap is not null);
        service?.Started(engine, source.Describe());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var handler = new EngineFrameHandler(engine, count is { } n ? new FrameLimit(n, stop) : null);
        string? stopped;
        try
        {
            stopped = CaptureSourceRunner.Run(source, input, ref handler, new CaptureStatistics(), stop.Token, progress)?.Message;
        }
        catch (CaptureInterruptedException e)
        {
            stopped = e.Message;
        }

        engine.Complete();
        operations.InputEnded();
        return stopped;
    }

    /// <summary>
    /// Reducer sets of at most this many reducers are light: with one worker, the worker reads a file as fast as a
    /// capture thread and a ring would, for less CPU (bench/README.md, issue 14, 10M packets: QueriesPerSecond + TopNQ
    /// 2.28 s / 2.7 CPU s against 2.30 / 3.7; 3 reducers 2.63 / 3.7 against 2.69 / 4.4). From 4 reducers the capture
    /// thread, running beside the worker, is faster (4: 3.05 s against 3.34; the default set of 13: 4.63 against 5.44).
    /// </summary>
    internal const int LightReducerSet = 3;

    /// <summary>
    /// Whether the one worker reads the file itself (<see cref="MonitorEngine.ScanFile"/>): only for a file replayed as
    /// fast as possible, on one worker, as <paramref name="reader"/> asks. <paramref name="conflict"/> says why a request
    /// for it cannot be met.
    /// </summary>
    internal static bool ScansFile(CaptureSourceSettings source, int? workers, int reducers, FileReader reader, out string? conflict)
    {
        conflict = null;
        bool file = !source.IsLive && source.Input != "-" && source.Speed == 0 && !source.IsDnstapFile;
        switch (reader)
        {
            case FileReader.CaptureThread:
                return false;

            case FileReader.Worker when !file:
                conflict = "--file-reader worker: only a file replayed as fast as possible (no --speed, not standard input, not an interface) is read by the worker.";
                return false;

            case FileReader.Worker when workers > 1:
                conflict = $"--file-reader worker: the file is read by one worker; Workers is {workers}.";
                return false;

            case FileReader.Worker:
                return true;

            default:
                return file && (workers ?? MonitorEngineOptions.DefaultWorkers) == 1 && reducers <= LightReducerSet;
        }
    }

    /// <summary>An interface: libpcap's loop runs on the calling thread, which dispatches; a full ring drops.</summary>
    private static string? RunLive(
        CaptureSourceSettings source, List<Reducer> reducers, IWindowResultSink sink,
        MonitorEngineOptions options, MonitorOperations operations, CancellationToken cancellation, out MonitorEngine engine, MonitorService? service, long? count)
    {
        using var capture = Capture.Live.LiveCapture.Open(source.ToLiveOptions());
        PrivilegeDropException.ThrowIfFailed(service?.CaptureOpened());
        engine = new MonitorEngine(
            reducers,
            sink,
            options with
            {
                ExternalDrops = () =>
                {
                    var pcap = capture.ReadStatistics();
                    return pcap.KernelDropped + pcap.InterfaceDropped;
                },
            });
        engine.Start();
        operations.Started(engine, capture.ReadStatistics, [.. Enumerable.Range(1, 65535).Where(p => options.Ports.Contains((ushort)p))]);
        service?.Started(engine, source.Describe());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (source.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }

        var handler = new EngineFrameHandler(engine, count is { } n ? new FrameLimit(n, stop) : null);
        string? stopped = null;
        try
        {
            capture.Run(ref handler, stop.Token);
        }
        catch (Capture.Live.LiveCaptureException e)
        {
            stopped = e.Message; // the interface went away: what was captured is still reported
        }

        engine.Complete();
        operations.InputEnded();
        return stopped;
    }
}

/// <summary>How <see cref="MonitorCommand.Run"/> runs, beyond the configuration file.</summary>
internal sealed record MonitorRunOptions
{
    public bool PinThreads { get; init; } = true;

    /// <summary>Who reads a file replayed as fast as possible (<c>--file-reader</c>).</summary>
    public FileReader FileReader { get; init; } = FileReader.Auto;

    public bool Statistics { get; init; }

    /// <summary>The metrics endpoint and the status line (<c>--metrics</c>, <c>--status-interval</c>).</summary>
    public OperationsOptions Operations { get; init; } = new();

    /// <summary>Makes the ZeroMQ publisher of the configuration (null: none available).</summary>
    public Func<Transport.Publishing.IResultChannel>? ZeroMq { get; init; }

    /// <summary>The daemon's side (readiness, user change, reload on SIGHUP); null when run in-process by tests.</summary>
    public MonitorService? Service { get; init; }

    /// <summary>Log level, format and <c>--quiet</c> (null: information, text).</summary>
    public LogSettings? Log { get; init; }

    /// <summary>tcpdump's <c>-c</c>: the input stops after this many frames (null: at its end, or never for live capture).</summary>
    public long? PacketCount { get; init; }

    /// <summary>Replaces the check "standard error is a terminal" that turns the progress bar on (null: the real check).</summary>
    public Func<bool>? IsTerminal { get; init; }
}

/// <summary>Hands every frame of a source to the engine, on the thread that reads the source; at most <paramref name="limit"/>'s count.</summary>
internal readonly struct EngineFrameHandler(MonitorEngine engine, FrameLimit? limit = null) : ICapturePassHandler, Capture.Live.ILiveFrameHandler
{
    public void OnFrame(in CapturedFrame frame)
    {
        if (limit is null || limit.Take())
        {
            engine.OnFrame(in frame);
        }
    }

    public void EndOfPass() => engine.EndOfPass();

    public void OnIdle(long nowNanoseconds) => engine.OnIdle(nowNanoseconds);
}

/// <summary>
/// tcpdump's <c>-c N</c>: lets N frames through, then stops the input (frames the source still hands over are not
/// taken). Used by the reading thread only.
/// </summary>
internal sealed class FrameLimit(long count, CancellationTokenSource stop)
{
    private long _taken;

    public bool Take()
    {
        if (_taken >= count)
        {
            return false;
        }

        if (++_taken == count)
        {
            stop.Cancel();
        }

        return true;
    }
}

/// <summary>Writes a line to a log with a prefix (the engine's placement message).</summary>
internal sealed class PrefixedLog(TextWriter inner, string prefix) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;

    public override void WriteLine(string? value) => inner.WriteLine(prefix + value);
}

/// <summary>Who reads a file replayed as fast as possible (<c>--file-reader</c>).</summary>
public enum FileReader
{
    /// <summary>The worker for a light reducer set on one worker; the capture thread otherwise.</summary>
    Auto,

    /// <summary>A capture thread reads, classifies and copies each frame into a worker's ring.</summary>
    CaptureThread,

    /// <summary>The one worker maps the file and reduces each frame in place.</summary>
    Worker,
}
