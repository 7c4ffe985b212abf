using System.Globalization;

namespace RataDns.App.Operations;

/// <summary>Reads the spans of the operations options (<c>--status-interval</c>, <c>--metrics-linger</c>).</summary>
internal static class OperationSpan
{
    /// <summary>
    /// <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c> (a plain number is seconds); <c>0</c> or <c>off</c> is
    /// <see cref="TimeSpan.Zero"/> (disabled).
    /// </summary>
    public static bool TryParse(string text, out TimeSpan span, out string reason)
    {
        span = TimeSpan.Zero;
        reason = string.Empty;
        string trimmed = text.Trim();
        if (trimmed.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), (string.Empty, 1)];
        foreach (var (suffix, seconds) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(trimmed.AsSpan(0, trimmed.Length - suffix.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)
                && amount * seconds <= TimeSpan.MaxValue.TotalSeconds / 2)
            {
                span = TimeSpan.FromSeconds(amount * seconds);
                return true;
            }
        }

        reason = "expected a span (500ms, 10s, 5m, 1h) or off.";
        return false;
    }
}
