using System.Text.Json;

namespace RataDns.Aggregator;

/// <summary>
/// One reducer's result for one window of one monitor, as stored: the envelope's fields and its <c>data</c>
/// (a cloned <see cref="JsonElement"/>, immutable and safe to share across threads).
/// </summary>
/// <param name="Type">The reducer's type.</param>
/// <param name="ServerId">The monitor's serverId.</param>
/// <param name="TimeStamp">The envelope's <c>timeStamp</c>: the window's end in whole seconds since 1970.</param>
/// <param name="Start"><c>window.start</c>, seconds since 1970 with fractions (packet time); <see cref="End"/> when absent.</param>
/// <param name="End"><c>window.end</c>; <see cref="TimeStamp"/> when the envelope has no <c>window</c> (Fievel's).</param>
/// <param name="Sequence"><c>window.sequence</c>, or -1 when absent (no gap accounting).</param>
/// <param name="Drops"><c>window.drops</c>, 0 when absent.</param>
/// <param name="Data">The reducer's data.</param>
public sealed record WindowResult(
    string Type, string ServerId, long TimeStamp, double Start, double End, long Sequence, long Drops, JsonElement Data)
{
    /// <summary>The window's length in packet time, in seconds (0 for a one-packet window).</summary>
    public double Duration => Math.Max(0, End - Start);

    /// <summary>Reads an envelope; null when it is not one (no type, serverId, data, or no time).</summary>
    public static WindowResult? FromEnvelope(JsonElement envelope)
    {
        if (envelope.ValueKind != JsonValueKind.Object
            || !envelope.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
            || !envelope.TryGetProperty("serverId", out var server) || server.ValueKind != JsonValueKind.String
            || !envelope.TryGetProperty("data", out var data))
        {
            return null;
        }

        double? end = null;
        double? start = null;
        long sequence = -1;
        long drops = 0;
        if (envelope.TryGetProperty("window", out var window) && window.ValueKind == JsonValueKind.Object)
        {
            end = Number(window, "end");
            start = Number(window, "start");
            sequence = (long)(Number(window, "sequence") ?? -1);
            drops = (long)(Number(window, "drops") ?? 0);
        }

        double? stamp = Number(envelope, "timeStamp");
        end ??= stamp;
        if (end is not double windowEnd || !double.IsFinite(windowEnd))
        {
            return null;
        }

        double windowStart = start is double s && double.IsFinite(s) && s <= windowEnd ? s : windowEnd;
        return new WindowResult(
            type.GetString()!, server.GetString()!, (long)(stamp ?? Math.Floor(windowEnd)), windowStart, windowEnd, sequence, drops, data.Clone());
    }

    private static double? Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
