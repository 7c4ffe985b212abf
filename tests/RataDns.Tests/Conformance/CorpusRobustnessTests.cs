using System.Globalization;
using System.Text;
using RataDns.App.Commands;
using RataDns.Reducers;
using RataDns.Tests.Support;
using Xunit.Abstractions;

namespace RataDns.Tests.Conformance;

/// <summary>
/// Every capture of the shared corpus through <c>ratadns monitor</c> with every reducer type: real traffic of every
/// shape the corpus holds (tunnels, fragments, TCP, mDNS, broken packets, damaged files) never stops the monitor,
/// every reducer reports, and the malformed messages are counted by reason (the table goes to the test output).
/// </summary>
public class CorpusRobustnessTests(ITestOutputHelper output)
{
    /// <summary>Corpus files that are themselves damaged: the run must end with this error after the good part.</summary>
    private static readonly Dictionary<string, string> Damaged = new(StringComparer.Ordinal)
    {
        // tshark: "appears to have been cut short in the middle of a packet" after 1 packet; capinfos counts 1.
        ["kbandla_dpkt/examples__data__truncated_dns_2.pcap"] = "truncated record header at offset 240 (frame 2): 7 of 16 bytes",
    };

    [SkippableFact]
    public void Every_corpus_capture_runs_through_every_reducer_and_malformed_messages_are_counted_by_reason()
    {
        var corpus = RepoPaths.Corpus;
        Skip.If(corpus is null, RepoPaths.CorpusMissing);
        var rows = CorpusIndex.Read(corpus!);
        var failures = new List<string>();
        var table = new StringBuilder();
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        int withMalformed = 0;
        foreach (var row in rows)
        {
            // One window of 1000 DNS packets at most, so captures with more also cross window boundaries.
            var run = MonitorRobustness.RunAllReducers(Path.Combine(corpus!, row.File), windowPackets: 1000, ports: [.. row.DnsPorts()]);
            bool damaged = Damaged.TryGetValue(row.File, out var expectedError);
            int expectedExit = damaged ? ExitCodes.InputDamaged : ExitCodes.Ok;
            if (run.ExitCode != expectedExit || (damaged && !run.Errors.Contains(expectedError!, StringComparison.Ordinal)))
            {
                failures.Add($"{row.File}: exit {run.ExitCode} (expected {expectedExit}): {run.Errors.Trim()}");
                continue;
            }

            // Every reducer type reports every window, and the malformed counter saw every message exactly once.
            int windows = run.Of("MalformedCounter").Count();
            var missing = ReducerRegistry.KnownTypes.Where(t => run.Of(t).Count() != windows).ToList();
            if (missing.Count > 0)
            {
                failures.Add($"{row.File}: {windows} windows; reducers without a result in each: {string.Join(", ", missing)}");
                continue;
            }

            var reasons = run.MalformedReasons();
            long counted = reasons.Values.Sum();
            long malformed = counted - reasons.GetValueOrDefault("ok");
            long reported = run.Of("MalformedCounter").Sum(r => r.GetProperty("data").GetProperty("malformed").GetInt64());
            if (counted != run.Messages || malformed != reported)
            {
                failures.Add($"{row.File}: {run.Messages} messages, the malformed counter counted {counted} ({malformed} malformed, reported {reported})");
            }

            foreach (var (reason, count) in reasons)
            {
                totals[reason] = totals.GetValueOrDefault(reason) + count;
            }

            if (malformed > 0)
            {
                withMalformed++;
                string tshark = TsharkMalformedNote(row.Notes);
                table.AppendLine(CultureInfo.InvariantCulture,
                    $"{row.File}\t{run.Messages}\t{malformed}\t{string.Join(' ', reasons.Where(r => r.Key != "ok").Select(r => $"{r.Key}={r.Value}"))}\ttshark {tshark}");
            }
        }

        output.WriteLine($"{rows.Count} captures, {withMalformed} with malformed DNS messages; totals by reason: {string.Join(", ", totals.Select(t => $"{t.Key} {t.Value}"))}");
        output.WriteLine("file\tmessages\tmalformed\tby reason\ttshark _ws.malformed (INDEX notes)");
        output.WriteLine(table.ToString());
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        // The corpus holds some 55,000 well-formed messages on the ports given: the runs really read it.
        Assert.True(totals.GetValueOrDefault("ok") > 50_000, $"only {totals.GetValueOrDefault("ok")} well-formed messages in the whole corpus");
    }

    /// <summary>The <c>malformed:N</c> feature count of INDEX.tsv's notes (tshark's <c>_ws.malformed</c> frames), or "-".</summary>
    private static string TsharkMalformedNote(string notes)
    {
        foreach (var part in notes.Split([' ', ';', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("malformed:", StringComparison.Ordinal))
            {
                return part;
            }
        }

        return "-";
    }
}
