using System.Diagnostics;
using RataDns.DnsWire;
using RataDns.Reducers.Summaries;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --rank-costs FILE [MESSAGES]</c>: what writing a TopNQ
/// view costs the merger thread at the end of a window, the question names of the first MESSAGES (default 200,000)
/// messages in a Space-Saving summary of 10,000 names: every name formatted and sorted (the ranking before) against
/// only the names that can be among the first N (the ranking TopN and the heavy-hitter reducers use now), best of 20.
/// </summary>
public static class RankCosts
{
    public static int Run(string file, int limit, TextWriter output)
    {
        var messages = ReducerCosts.Load(file, limit);
        var summary = new SpaceSavingSummary(10_000);
        Span<byte> key = stackalloc byte[DnsName.MaxWireLength];
        foreach (var m in messages)
        {
            var reader = new DnsMessageReader(m.Bytes);
            while (reader.TryReadQuestion(out DnsQuestion question))
            {
                int n = question.Name.CopyWireFormTo(key, lowerCase: true);
                summary.Offer(key[..n]);
            }
        }

        KeyTextFormatter format = static (wire, text) =>
        {
            DnsName.TryRead(wire, 0, out DnsName name);
            name.TryFormat(text, out int written);
            return written;
        };
        output.WriteLine($"{messages.Count:N0} messages from {file}: {summary.MonitoredCount:N0} names kept of capacity {summary.Capacity:N0}");
        output.WriteLine("| ranking | µs per window (best of 20) |");
        output.WriteLine("|---|---:|");
        foreach (int n in new[] { int.MaxValue, 5, 20 })
        {
            double best = double.MaxValue;
            for (int pass = 0; pass < 21; pass++)
            {
                var clock = Stopwatch.StartNew();
                var ranked = RankedKeys.Rank(summary, format, n);
                clock.Stop();
                if (pass > 0)
                {
                    best = Math.Min(best, clock.Elapsed.TotalMicroseconds);
                }

                GC.KeepAlive(ranked);
            }

            output.WriteLine($"| {(n == int.MaxValue ? "every name" : $"first {n}")} | {best:F0} |");
        }

        return 0;
    }
}
