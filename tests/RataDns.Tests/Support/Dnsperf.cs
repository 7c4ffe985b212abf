using System.Globalization;
using System.Text.RegularExpressions;

namespace RataDns.Tests.Support;

/// <summary>
/// dnsperf's own end-of-run statistics: queries sent and completed, and the "Response codes: NOERROR 180 (81.82%),
/// NXDOMAIN 20 (9.09%), ..." split of the responses it received, as an independent count of what went on the wire.
/// </summary>
internal sealed partial record DnsperfStatistics(long Sent, long Completed, IReadOnlyDictionary<string, long> ResponseCodes)
{
    public const string Executable = "/usr/bin/dnsperf";

    public static bool IsAvailable => File.Exists(Executable);

    /// <summary>Reads the statistics block of dnsperf's standard output.</summary>
    /// <exception cref="FormatException">The output has no "Queries sent" or "Queries completed" line.</exception>
    public static DnsperfStatistics Parse(string output)
    {
        var sent = SentPattern().Match(output);
        var completed = CompletedPattern().Match(output);
        if (!sent.Success || !completed.Success)
        {
            throw new FormatException("dnsperf's output has no statistics: " + output);
        }

        var codes = new Dictionary<string, long>(StringComparer.Ordinal);
        var line = ResponseCodesPattern().Match(output);
        if (line.Success)
        {
            foreach (Match code in ResponseCodePattern().Matches(line.Groups[1].Value))
            {
                codes[code.Groups[1].Value] = long.Parse(code.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return new DnsperfStatistics(
            long.Parse(sent.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(completed.Groups[1].Value, CultureInfo.InvariantCulture),
            codes);
    }

    [GeneratedRegex(@"Queries sent:\s+(\d+)")]
    private static partial Regex SentPattern();

    [GeneratedRegex(@"Queries completed:\s+(\d+)")]
    private static partial Regex CompletedPattern();

    [GeneratedRegex(@"Response codes:\s+(.*)$", RegexOptions.Multiline)]
    private static partial Regex ResponseCodesPattern();

    [GeneratedRegex(@"([A-Z0-9]+) (\d+) \(")]
    private static partial Regex ResponseCodePattern();
}
