using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.App.Progress;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;

namespace RataDns.App.Commands;

/// <summary>
/// <c>ratadns inspect</c>: reads a capture (file, stdin or live) through the DNS pipeline and prints what it saw:
/// the capture statistics (frames, DNS messages by transport and IP version, what was not DNS and why, malformed
/// messages by reason, reassembly, drops) and a short DNS summary (queries and responses, rcodes, qtypes).
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var source = new CaptureSourceOptions();
        var ports = new Option<int[]>("--port") { Description = "A DNS port (repeat the option for several). Default: 53." };
        var mdns = new Option<bool>("--mdns") { Description = "Also decode mDNS (port 5353)." };
        var llmnr = new Option<bool>("--llmnr") { Description = "Also decode LLMNR (port 5355)." };
        var command = new Command("inspect", "Print what a capture holds: frames, DNS messages, what was not DNS and why, reassembly and drops.")
        {
            ports, mdns, llmnr,
        };
        source.AddTo(command);
        command.SetAction(parse =>
        {
            CaptureSourceSettings settings;
            DnsPortSet portSet;
            try
            {
                settings = source.Read(parse, parse.GetValue(ports));
                portSet = SerializeCommand.BuildPorts(parse.GetValue(ports), parse.GetValue(mdns), parse.GetValue(llmnr));
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                using var log = new CommandLog("ratadns inspect", Console.Error, GlobalOptions.Read(parse));
                log.Logger.LogError("{Reason}", e.Message);
                return ExitCodes.Usage;
            }

            using var interrupt = Interrupt.OnCancelKeyOrTerm();
            return Run(settings, portSet, null, Console.Out, Console.Error, interrupt.Token, GlobalOptions.Read(parse));
        });
        return command;
    }

    internal static int Run(
        CaptureSourceSettings settings, DnsPortSet ports, Stream? input, TextWriter output, TextWriter errors, CancellationToken cancellation = default,
        LogSettings? logSettings = null, Func<bool>? isTerminal = null)
    {
        var pipeline = new DnsCapturePipeline(ports);
        using var log = new CommandLog("ratadns inspect", errors, logSettings);
        using var report = FileRunReport.Start(settings, log, isTerminal);
        settings.Log ??= log.AsWriter(Microsoft.Extensions.Logging.LogLevel.Information);
        var summary = new DnsSummary();
        var handler = new PipelineFrameHandler<DnsSummarySink>(pipeline, new DnsSummarySink(summary));
        string? stopped;
        try
        {
            stopped = CaptureSourceRunner.RunToEnd(settings, input, ref handler, pipeline.Statistics, cancellation, report.Counter);
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException or Capture.Live.LiveCaptureException)
        {
            report.Abandon();
            log.Logger.LogError("{Reason}", e.Message);
            return ExitCodes.Usage;
        }

        report.Finish(pipeline.Statistics);
        output.Write($"source: {settings.Describe()}\n");
        output.Write(summary.TimeText());
        output.Write(pipeline.Statistics.ToText());
        output.Write(summary.ToText());
        if (stopped is not null)
        {
            log.Logger.LogWarning("{Source}: {Reason}; the {Frames} frames before it were processed.", settings.Describe(), stopped, pipeline.Statistics.Frames);
            return ExitCodes.InputDamaged;
        }

        return ExitCodes.Ok;
    }

    /// <summary>Counts of queries, responses, rcodes and qtypes; all keyed by 16-bit values, so bounded.</summary>
    internal sealed class DnsSummary
    {
        public long[] QueryTypes { get; } = new long[65536];
        public long[] Rcodes { get; } = new long[16];
        public long Queries { get; set; }
        public long Responses { get; set; }
        public long FirstTimestamp { get; set; } = long.MaxValue;
        public long LastTimestamp { get; set; } = long.MinValue;

        public string TimeText()
        {
            if (FirstTimestamp > LastTimestamp)
            {
                return string.Empty;
            }

            var first = DateTimeOffset.UnixEpoch.AddTicks(FirstTimestamp / 100);
            var last = DateTimeOffset.UnixEpoch.AddTicks(LastTimestamp / 100);
            return string.Create(CultureInfo.InvariantCulture, $"first dns message: {first:yyyy-MM-ddTHH:mm:ss.ffffffZ}\nlast dns message: {last:yyyy-MM-ddTHH:mm:ss.ffffffZ}\nspan: {(LastTimestamp - FirstTimestamp) / 1e9:F3} s\n");
        }

        public string ToText()
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"queries: {Queries}\nresponses: {Responses}\n");
            for (int i = 0; i < Rcodes.Length; i++)
            {
                if (Rcodes[i] > 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  rcode {DnsRcode.Name(i)}: {Rcodes[i]}\n");
                }
            }

            var types = Enumerable.Range(0, QueryTypes.Length).Where(t => QueryTypes[t] > 0).OrderByDescending(t => QueryTypes[t]).Take(10);
            Span<byte> name = stackalloc byte[16];
            foreach (int t in types)
            {
                DnsRecordType.TryFormat((ushort)t, name, out int n);
                text.Append(CultureInfo.InvariantCulture, $"  qtype {Encoding.ASCII.GetString(name[..n])}: {QueryTypes[t]}\n");
            }

            return text.ToString();
        }
    }

    /// <summary>Parses each message fully (so malformed ones are counted by reason) and feeds the summary.</summary>
    private readonly struct DnsSummarySink(DnsSummary summary) : IDnsMessageHandler
    {
        public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            summary.FirstTimestamp = Math.Min(summary.FirstTimestamp, timestampNanoseconds);
            summary.LastTimestamp = Math.Max(summary.LastTimestamp, timestampNanoseconds);
            var reader = new DnsMessageReader(message);
            if (reader.HeaderBytes >= 4)
            {
                if (reader.Header.IsResponse)
                {
                    summary.Responses++;
                    summary.Rcodes[reader.Header.Rcode]++;
                }
                else
                {
                    summary.Queries++;
                }
            }

            while (reader.TryReadQuestion(out var question))
            {
                if (!reader.Header.IsResponse)
                {
                    summary.QueryTypes[question.Type]++;
                }
            }

            return reader.ReadToEnd();
        }
    }
}
