using System.Globalization;


namespace RataDns.Configuration;

/// <summary>
/// How results are cut into windows: every <see cref="PacketCount"/> packets (Fievel's <c>WindowSize</c>, numbered
/// by the capture thread so it stays exact with several workers), or every <see cref="Duration"/> of packet time
/// (<c>WindowMilliseconds</c>). Exactly one of the two is set.
/// </summary>
public sealed record WindowConfiguration
{
    /// <summary>The longest time window accepted: one day.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    private WindowConfiguration(int? packetCount, TimeSpan? duration)
    {
        PacketCount = packetCount;
        Duration = duration;
    }

    /// <summary>Packets per window, or null for a time window.</summary>
    public int? PacketCount { get; }

    /// <summary>Packet-timestamp span per window, or null for a packet window.</summary>
    public TimeSpan? Duration { get; }

    /// <summary>True for a window of <see cref="PacketCount"/> packets.</summary>
    public bool IsPacketCount => PacketCount.HasValue;

    /// <summary>A window of <paramref name="packetCount"/> packets (at least 1).</summary>
    public static WindowConfiguration OfPackets(int packetCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(packetCount, 1);
        return new WindowConfiguration(packetCount, null);
    }

    /// <summary>A window spanning <paramref name="duration"/> of packet time (positive, at most <see cref="MaxDuration"/>).</summary>
    public static WindowConfiguration OfDuration(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(duration, MaxDuration);
        return new WindowConfiguration(null, duration);
    }

    /// <summary>
    /// Reads a command-line window: a bare integer is a packet count (<c>1000</c>); a number with a unit is a time
    /// span (<c>250ms</c>, <c>1s</c>, <c>1.5s</c>, <c>5m</c>).
    /// </summary>
    /// <returns>True and the window, or false and a reason.</returns>
    public static bool TryParse(string text, out WindowConfiguration? window, out string reason)
    {
        ArgumentNullException.ThrowIfNull(text);
        window = null;
        string trimmed = text.Trim();
        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out int packets))
        {
            if (packets < 1)
            {
                reason = $"'{text}': a packet window holds at least 1 packet.";
                return false;
            }

            window = OfPackets(packets);
            reason = string.Empty;
            return true;
        }

        (string Suffix, double Milliseconds)[] units = [("ms", 1), ("s", 1000), ("m", 60_000)];
        foreach (var (suffix, milliseconds) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(trimmed.AsSpan(0, trimmed.Length - suffix.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount))
            {
                double total = amount * milliseconds;
                if (!(total > 0) || total > MaxDuration.TotalMilliseconds)
                {
                    reason = $"'{text}': a time window is positive and at most one day.";
                    return false;
                }

                window = OfDuration(TimeSpan.FromMilliseconds(total));
                reason = string.Empty;
                return true;
            }
        }

        reason = $"'{text}': expected a packet count (1000) or a time span with a unit (250ms, 1s, 5m).";
        return false;
    }

    /// <inheritdoc />
    public override string ToString()
        => PacketCount is { } packets
            ? $"{packets} packets"
            : $"{Duration!.Value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";
}
