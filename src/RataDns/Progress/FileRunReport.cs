using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RataDns.App.Commands;
using RataDns.App.Logging;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;

namespace RataDns.App.Progress;

/// <summary>
/// What a run over a file or standard input says about itself on standard error: the progress bar while reading
/// (files at full speed, on a terminal or with <c>RATADNS_PROGRESS=1</c>, not with <c>--quiet</c>) and, at the end,
/// one summary line: <c>done: 10,000,000 frames, 9,999,998 DNS messages (12 malformed) in 23.4 s, 427k frames/s</c>.
/// Live captures get neither (they run until stopped; <c>--stats</c> reports them).
/// </summary>
internal sealed class FileRunReport : IDisposable
{
    private static readonly Action<ILogger, long, long, long, double, string, Exception?> Done =
        LoggerMessage.Define<long, long, long, double, string>(
            LogLevel.Information,
            new EventId(1, "Done"),
            "done: {Frames:N0} frames, {DnsMessages:N0} DNS messages ({Malformed:N0} malformed) in {Seconds:0.0} s, {Rate} frames/s");

    private readonly CommandLog _log;
    private readonly bool _enabled;
    private Capture.Dnstap.DnstapInputStatistics? _dnstap;
    private bool _dnstapSocket;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ProgressBar? _bar;

    private FileRunReport(CommandLog log, bool enabled, ReadProgressCounter? counter, long totalBytes)
    {
        _log = log;
        _enabled = enabled;
        Counter = counter;
        if (counter is not null)
        {
            _bar = new ProgressBar(counter, totalBytes, log.Output);
        }
    }

    /// <summary>The counter the reading thread advances, or null when no bar is drawn.</summary>
    public ReadProgressCounter? Counter { get; }

    /// <summary>Starts the report of a run over <paramref name="source"/>; <paramref name="isTerminal"/> replaces the check of standard error.</summary>
    public static FileRunReport Start(CaptureSourceSettings source, CommandLog log, Func<bool>? isTerminal = null)
    {
        bool offline = !source.IsLive;
        bool enabled = offline && !log.Settings.Quiet;
        // The real check only when the log goes to the process's standard error (not to a caller's writer).
        isTerminal ??= () => ReferenceEquals(log.Output.Writer, Console.Error) && !Console.IsErrorRedirected;
        bool bar = enabled && source.Speed == 0 && ProgressPolicy.Enabled(log.Settings, isTerminal);
        long total = 0;
        if (bar && source.Input != "-")
        {
            try
            {
                total = new FileInfo(source.Input).Length * source.Loop;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                total = 0; // the bar shows frames and rate without a percent; the read reports the real error
            }
        }

        return new FileRunReport(log, enabled, bar ? new ReadProgressCounter() : null, total)
        {
            _dnstap = source.DnstapStatistics,
            _dnstapSocket = source.Dnstap is not null,
        };
    }

    /// <summary>Stops the bar (drawn at 100% and erased) without a summary: the read failed.</summary>
    public void Abandon()
    {
        _bar?.Finish();
        _bar = null;
    }

    /// <summary>Stops the bar and writes the summary line from <paramref name="statistics"/>.</summary>
    public void Finish(CaptureStatistics statistics)
    {
        Abandon();

        // Never silent, even with --quiet: frames of a link layer the decoder does not read were skipped.
        foreach (var (linkType, frames) in statistics.UnsupportedLinkTypes)
        {
            _log.Logger.LogWarning("{Frames:N0} frames skipped: link type {LinkType} is not one RataDns decodes", frames, Capture.LinkTypeNames.Describe(linkType));
        }

        // What a dnstap input read and skipped (a socket's writers, a file's messages without a DNS message).
        if (_dnstap is { } dnstap && (_dnstapSocket || dnstap.Frames > 0))
        {
            if (dnstap.Frames > dnstap.Messages || dnstap.BrokenStreams > 0)
            {
                _log.Logger.LogWarning("{Summary}", dnstap.Summary());
            }
            else if (_enabled || _dnstapSocket)
            {
                _log.Logger.LogInformation("{Summary}", dnstap.Summary());
            }
        }

        if (!_enabled)
        {
            return;
        }

        double seconds = _clock.Elapsed.TotalSeconds;
        long malformed = 0;
        for (int status = 1; status < 16; status++)
        {
            malformed += statistics.Malformed((DnsParseStatus)status);
        }

        Done(_log.Logger, statistics.Frames, statistics.DnsMessages, malformed, seconds, ProgressBar.HumanCount(statistics.Frames / Math.Max(seconds, 1e-3)), null);
    }

    public void Dispose() => Abandon();
}
