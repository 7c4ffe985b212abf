using System.CommandLine;
using System.Text.Json;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;

namespace RataDns.App.Commands;

/// <summary>
/// <c>ratadns monitor</c>, Fievel's role: packets from the configured source go through every configured reducer;
/// at the end of each window (W packets, or a span of packet time aligned on the clock) each reducer writes its
/// result in the Fievel envelope to its output and starts over. This first version runs the reducers on the
/// processing thread; the worker threads of the engine come with the engine issue.
/// </summary>
public static class MonitorCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "The configuration file (RataDns or RaTA DNS / Fievel JSON).", Required = true };
        var serverId = new Option<string>("--server-id") { Description = "Overrides ServerId." };
        var window = new Option<string>("--window", "-w") { Description = "Overrides the window: a packet count (1000) or a span (250ms, 1s, 5m)." };
        var inputSource = new Option<string>("--input-source") { Description = "Overrides InputSource (a file, an interface, or - for stdin)." };
        var speed = new Option<double?>("--speed") { Description = "Overrides Speed for files (0 = as fast as possible, 1 = real time, n = n times faster)." };
        var filter = new Option<string>("--filter", "-f") { Description = "Overrides Filter (live capture)." };
        var command = new Command("monitor", "Reduce packets into per-window results (Fievel's role) and write them to the reducers' outputs.")
        {
            config, serverId, window, inputSource, speed, filter,
        };
        command.SetAction(parse =>
        {
            MonitorConfiguration configuration;
            try
            {
                configuration = MonitorConfigurationLoader.Load(parse.GetValue(config)!);
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
                    InputSource = parse.GetValue(inputSource),
                    Speed = parse.GetValue(speed),
                    Filter = parse.GetValue(filter),
                });
            }
            catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"ratadns monitor: {e.Message}");
                return ExitCodes.Usage;
            }

            using var interrupt = Interrupt.OnCancelKeyOrTerm();
            try
            {
                return Run(configuration, null, Console.Error, interrupt.Token);
            }
            catch (OutputClosedException)
            {
                return ExitCodes.Ok; // the reader of standard output went away (e.g. "| head")
            }
        });
        return command;
    }

    internal static int Run(MonitorConfiguration configuration, Stream? input, TextWriter errors, CancellationToken cancellation = default)
    {
        List<WindowedReducer> reducers;
        var outputs = new Dictionary<string, Stream>(StringComparer.Ordinal);
        try
        {
            reducers = configuration.Reducers
                .Select(r => new WindowedReducer(ReducerRegistry.Create(r), OpenOutput(r.Output, outputs)))
                .ToList();
        }
        catch (Exception e) when (e is ConfigurationException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"ratadns monitor: {e.Message}");
            return ExitCodes.Usage;
        }

        var capture = configuration.Capture;
        var source = new CaptureSourceSettings
        {
            Input = capture.Input ?? "-",
            Interface = capture.Interface,
            Filter = capture.Filter,
            SnapLength = capture.SnapLength,
            Promiscuous = capture.Promiscuous,
            KernelBufferBytes = capture.KernelBufferBytes,
            Immediate = capture.Immediate,
            Speed = capture.Speed,
            Loop = capture.Loop,
            Duration = capture.Duration,
        };
        var pipeline = new DnsCapturePipeline(new DnsPortSet(configuration.Ports.Select(p => (ushort)p)));
        var windows = new WindowEngine(configuration.ServerId, configuration.Window, reducers);
        var handler = new PipelineFrameHandler<WindowSink>(pipeline, new WindowSink(windows));
        string? stopped;
        try
        {
            stopped = CaptureSourceRunner.RunToEnd(source, input, ref handler, pipeline.Statistics, cancellation);
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException or Capture.Live.LiveCaptureException)
        {
            errors.WriteLine($"ratadns monitor: {e.Message}");
            return ExitCodes.Usage;
        }
        finally
        {
            windows.Close();
            foreach (var stream in outputs.Values)
            {
                stream.Dispose();
            }
        }

        if (stopped is not null)
        {
            errors.WriteLine($"ratadns monitor: {source.Describe()}: {stopped}; the {pipeline.Statistics.Frames} frames before it were processed.");
            return ExitCodes.InputDamaged;
        }

        return ExitCodes.Ok;
    }

    /// <summary>One stream per destination: reducers that share standard output or a file share its stream.</summary>
    private static Stream OpenOutput(ReducerOutputConfiguration output, Dictionary<string, Stream> outputs)
    {
        string key = output.Method switch
        {
            ReducerOutputMethod.Stdout => "-",
            ReducerOutputMethod.File => Path.GetFullPath(output.FilePath!),
            _ => throw new NotSupportedException($"output {output.Describe()}: only stdout and file outputs exist so far (Redis and ZeroMQ come with the transport issue)."),
        };
        if (!outputs.TryGetValue(key, out var stream))
        {
            stream = key == "-"
                ? new BufferedStream(StandardOutput.Open(), 1 << 16)
                : new FileStream(key, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
            outputs[key] = stream;
        }

        return stream;
    }

    /// <summary>Feeds every DNS message to the window engine.</summary>
    private readonly struct WindowSink(WindowEngine windows) : IDnsMessageHandler
    {
        public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            var view = new DnsPacketView(in packet, message, timestampNanoseconds);
            windows.Observe(in view);
            return DnsParseStatus.Ok;
        }
    }
}

/// <summary>A reducer and the stream its window results go to (one JSON object per line).</summary>
internal sealed class WindowedReducer(Reducer reducer, Stream output)
{
    public Reducer Reducer { get; } = reducer;

    public Stream Output { get; } = output;
}

/// <summary>
/// Cuts the packet stream into windows and writes each reducer's result at each boundary, in the Fievel envelope
/// <c>{"type","serverId","timeStamp","data"}</c> plus <c>"window":{"start","end","packets","sequence","partial"}</c>
/// (times in seconds since 1970 of packet time). Count windows hold exactly W DNS messages; their span runs from the
/// first to the last message's timestamp. Time windows are aligned on multiples of their length since 1970; a
/// window with no message writes nothing. The last window, cut short by the end of input, is marked partial.
/// </summary>
internal sealed class WindowEngine
{
    private readonly string _serverId;
    private readonly int? _packetCount;
    private readonly long _durationNanoseconds;
    private readonly List<WindowedReducer> _reducers;
    private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _json;
    private long _packets;
    private long _first;
    private long _last;
    private long _windowIndex = long.MinValue;
    private long _sequence;

    public WindowEngine(string serverId, WindowConfiguration window, List<WindowedReducer> reducers)
    {
        _serverId = serverId;
        _packetCount = window.PacketCount;
        _durationNanoseconds = window.Duration is { } d ? (long)(d.TotalMilliseconds * 1_000_000) : 0;
        _reducers = reducers;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public void Observe(in DnsPacketView packet)
    {
        long time = packet.TimestampNanoseconds;
        if (_packetCount is null)
        {
            long index = Math.DivRem(time, _durationNanoseconds, out long remainder);
            if (remainder < 0)
            {
                index--;
            }

            if (_packets > 0 && index > _windowIndex)
            {
                Emit(_windowIndex * _durationNanoseconds, (_windowIndex + 1) * _durationNanoseconds, partial: false);
            }

            if (_packets == 0 || index > _windowIndex)
            {
                _windowIndex = index;
            }
        }

        if (_packets == 0)
        {
            _first = time;
        }

        _last = time;
        _packets++;
        foreach (var r in _reducers)
        {
            r.Reducer.Observe(in packet);
        }

        if (_packetCount is { } count && _packets == count)
        {
            Emit(_first, _last, partial: false);
        }
    }

    /// <summary>Writes the last window (partial) and flushes the outputs.</summary>
    public void Close()
    {
        if (_packets > 0)
        {
            if (_packetCount is null)
            {
                Emit(_windowIndex * _durationNanoseconds, (_windowIndex + 1) * _durationNanoseconds, partial: true);
            }
            else
            {
                Emit(_first, _last, partial: true);
            }
        }

        foreach (var output in _reducers.Select(r => r.Output).Distinct())
        {
            output.Flush();
        }
    }

    private void Emit(long start, long end, bool partial)
    {
        var window = new ReducerWindow(start, end, _packets);
        foreach (var r in _reducers)
        {
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            _json.WriteStartObject();
            _json.WriteString("type", r.Reducer.Type);
            _json.WriteString("serverId", _serverId);
            _json.WriteNumber("timeStamp", end / 1_000_000_000);
            _json.WritePropertyName("data");
            r.Reducer.WriteData(_json, in window);
            _json.WriteStartObject("window");
            _json.WriteNumber("start", start / 1e9);
            _json.WriteNumber("end", end / 1e9);
            _json.WriteNumber("packets", _packets);
            _json.WriteNumber("sequence", _sequence);
            _json.WriteBoolean("partial", partial);
            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.Flush();
            r.Output.Write(_buffer.WrittenSpan);
            r.Output.Write("\n"u8);
            r.Reducer.Reset();
        }

        _sequence++;
        _packets = 0;
    }
}
