using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.App.Progress;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;
using RataDns.Transport.Speedy;

namespace RataDns.App.Commands;

internal sealed class SerializeSettings
{
    public required CaptureSourceSettings Source { get; init; }
    public string? Output { get; init; }
    public required DnsPortSet Ports { get; init; }
    public required SpeedyOptions Speedy { get; init; }
    public bool PrintStatistics { get; init; }

    /// <summary>
    /// Threads formatting JSON (<c>--threads</c>); null: one per CPU (at most <see cref="SerializeRunner.MaxThreads"/>)
    /// for a file, 1 for standard input and live capture, whose messages should come out as they arrive.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>Log level, format and <c>--quiet</c> (null: information, text).</summary>
    public LogSettings? Log { get; init; }

    /// <summary>Replaces the check "standard error is a terminal" that turns the progress bar on (null: the real check).</summary>
    public Func<bool>? IsTerminal { get; init; }
}

/// <summary>Reads a capture through the DNS pipeline and writes each DNS message through a <see cref="SpeedyStreamWriter"/>.</summary>
internal static class SerializeRunner
{
    public static int Run(SerializeSettings settings)
    {
        Stream output;
        try
        {
            output = settings.Output is null
                ? StandardOutput.Open()
                : new FileStream(settings.Output, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            using var log = new CommandLog("ratadns serialize", Console.Error, settings.Log);
            log.Logger.LogError("cannot write {Output}: {Reason}", settings.Output, e.Message);
            return ExitCodes.Usage;
        }

        using var interrupt = Interrupt.OnCancelKeyOrTerm();
        try
        {
            using (output)
            {
                return Run(settings, null, output, Console.Error, interrupt.Token);
            }
        }
        catch (OutputClosedException)
        {
            // The reader of our output is gone (e.g. "| head"): nothing more to do, and nothing to complain about.
            return ExitCodes.Ok;
        }
    }

    /// <summary>
    /// Serializes the source into <paramref name="output"/> (standard input is <paramref name="input"/> when given);
    /// messages for people go to <paramref name="errors"/>. Returns the exit code.
    /// </summary>
    public static int Run(SerializeSettings settings, Stream? input, Stream output, TextWriter errors, CancellationToken cancellation = default)
    {
        var pipeline = new DnsCapturePipeline(settings.Ports);
        using var log = new CommandLog("ratadns serialize", errors, settings.Log);
        using var report = FileRunReport.Start(settings.Source, log, settings.IsTerminal);
        settings.Source.Log ??= log.AsWriter(Microsoft.Extensions.Logging.LogLevel.Information);
        string? stopped;
        int threads = ThreadsFor(settings);
        if (threads > 1)
        {
            using var writer = new SpeedyParallelWriter(output, settings.Speedy, threads);
            if (!Read(settings, input, pipeline, new SpeedyParallelSink(writer), writer.Flush, report, log, cancellation, out stopped))
            {
                return ExitCodes.Usage;
            }

            writer.Flush();
            pipeline.Statistics.RecountParseStatuses(writer.StatusCounts);
        }
        else
        {
            using var writer = new SpeedyStreamWriter(output, settings.Speedy);
            if (!Read(settings, input, pipeline, new SpeedyMessageSink(writer), writer.Flush, report, log, cancellation, out stopped))
            {
                return ExitCodes.Usage;
            }
        }

        report.Finish(pipeline.Statistics);
        if (settings.PrintStatistics)
        {
            log.Report(pipeline.Statistics.ToText());
        }

        if (stopped is not null)
        {
            log.Logger.LogWarning("{Source}: {Reason}; the {Frames} frames before it were processed.", settings.Source.Describe(), stopped, pipeline.Statistics.Frames);
            return ExitCodes.InputDamaged;
        }

        return ExitCodes.Ok;
    }

    /// <summary>The most formatter threads the default gives (beyond that the reader thread is the limit).</summary>
    public const int MaxThreads = 8;

    /// <summary>The formatter threads a run uses: <see cref="SerializeSettings.Threads"/>, or the default for its source.</summary>
    public static int ThreadsFor(SerializeSettings settings) =>
        settings.Threads ?? (settings.Source.Interface is null && settings.Source.Input != "-"
            ? Math.Clamp(Environment.ProcessorCount, 1, MaxThreads)
            : 1);

    /// <summary>Reads the whole source into <paramref name="sink"/>; false (said on the log) when it cannot be read at all.</summary>
    private static bool Read<TSink>(SerializeSettings settings, Stream? input, DnsCapturePipeline pipeline, TSink sink, Action flush, FileRunReport report, CommandLog log, CancellationToken cancellation, out string? stopped)
        where TSink : IDnsMessageHandler
    {
        var handler = new PipelineFrameHandler<TSink>(pipeline, sink);
        try
        {
            stopped = CaptureSourceRunner.RunToEnd(settings.Source, input, ref handler, pipeline.Statistics, cancellation, report.Counter);
            return true;
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException or Capture.Live.LiveCaptureException)
        {
            flush();
            report.Abandon();
            log.Logger.LogError("{Reason}", e.Message);
            stopped = null;
            return false;
        }
    }
}

/// <summary>Writes each DNS message the pipeline finds as one Speedy JSON message.</summary>
internal readonly struct SpeedyMessageSink(SpeedyStreamWriter writer) : IDnsMessageHandler
{
    public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds) =>
        writer.Write(packet.SourceAddress, packet.DestinationAddress, message, timestampNanoseconds);
}

/// <summary>Hands each DNS message the pipeline finds to the formatter threads (its status is tallied there).</summary>
internal readonly struct SpeedyParallelSink(SpeedyParallelWriter writer) : IDnsMessageHandler
{
    public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds) =>
        writer.Write(packet.SourceAddress, packet.DestinationAddress, message, timestampNanoseconds);
}
