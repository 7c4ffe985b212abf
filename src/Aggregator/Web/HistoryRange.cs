using System.Globalization;

namespace RataDns.Aggregator.Web;

/// <summary>The <c>from</c> and <c>to</c> query parameters of <c>/api/history</c>.</summary>
internal static class HistoryRange
{
    /// <summary>
    /// Reads an ISO 8601 time (no offset means UTC) or seconds since 1970, fractions allowed. An empty value is
    /// no value; anything else that does not parse is an error.
    /// </summary>
    public static bool TryParseTime(string? text, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            // DateTimeOffset's range is years 1..9999; outside it the value is a mistake, not a time.
            const double MaxSeconds = 253_402_300_799;
            if (!double.IsFinite(seconds) || seconds < 0 || seconds > MaxSeconds)
            {
                return false;
            }

            time = DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            time = parsed;
            return true;
        }

        return false;
    }

    /// <summary>A positive length written as a number and a unit: 30s, 15m, 6h, 30d.</summary>
    public static bool TryParseLength(string text, out TimeSpan length)
    {
        length = TimeSpan.Zero;
        if (text.Length < 2 || !double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double n)
            || !double.IsFinite(n) || n <= 0 || n > 36_500)
        {
            return false;
        }

        TimeSpan? parsed = char.ToLowerInvariant(text[^1]) switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        length = parsed ?? TimeSpan.Zero;
        return parsed is not null;
    }

    /// <summary>
    /// The newest window end the view has for a type and scope, over every span; null when it has none. History
    /// defaults to the time before it rather than before the wall clock, so a replayed capture (packet time in
    /// the past) shows its own last minutes.
    /// </summary>
    public static DateTimeOffset? Newest(IAggregatorView view, string type, string scope)
    {
        DateTimeOffset? newest = null;
        foreach (var span in view.Spans())
        {
            var merged = view.Merged(type, scope, span);
            if (merged is not null && (newest is null || merged.To > newest))
            {
                newest = merged.To;
            }
        }

        return newest;
    }
}
