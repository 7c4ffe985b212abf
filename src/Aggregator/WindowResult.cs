using System.Text.Json;
using RataDns.Reducers.State;

namespace RataDns.Aggregator;

/// <summary>
/// One reducer's result for one window of one monitor, as stored: the envelope's fields, its <c>data</c> (the view,
/// a cloned <see cref="JsonElement"/>, immutable and safe to share across threads) and, when the monitor sent it, the
/// reducer's mergeable state (<see cref="State"/>).
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

    /// <summary><c>window.packets</c>, 0 when absent.</summary>
    public long Packets { get; init; }

    /// <summary>The state the envelope carried (its <c>"state"</c> member), or null; the store may release it later.</summary>
    public StoredState? State { get; init; }

    /// <summary>
    /// Reads an envelope; null when it is not one (no type, serverId, data, or no time). A <c>"state"</c> member (base64
    /// text: the JSON form of the MessagePack bin) is kept as the state container's bytes, unread.
    /// </summary>
    public static WindowResult? FromEnvelope(JsonElement envelope) => FromEnvelope(envelope, out _);

    /// <summary>As <see cref="FromEnvelope(JsonElement)"/>; a state member that is not base64 is reported in <paramref name="stateProblem"/> and dropped.</summary>
    public static WindowResult? FromEnvelope(JsonElement envelope, out string? stateProblem)
    {
        stateProblem = null;
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
        long packets = 0;
        if (envelope.TryGetProperty("window", out var window) && window.ValueKind == JsonValueKind.Object)
        {
            end = Number(window, "end");
            start = Number(window, "start");
            sequence = (long)(Number(window, "sequence") ?? -1);
            drops = (long)(Number(window, "drops") ?? 0);
            packets = (long)(Number(window, "packets") ?? 0);
        }

        double? stamp = Number(envelope, "timeStamp");
        end ??= stamp;
        if (end is not double windowEnd || !double.IsFinite(windowEnd))
        {
            return null;
        }

        StoredState? state = null;
        if (envelope.TryGetProperty("state", out var stateText) && stateText.ValueKind != JsonValueKind.Null)
        {
            if (stateText.ValueKind == JsonValueKind.String && stateText.TryGetBytesFromBase64(out byte[]? container) && container.Length > 0)
            {
                state = new StoredState(container);
            }
            else
            {
                stateProblem = "its \"state\" member is not a MessagePack bin (or base64 text)";
            }
        }

        double windowStart = start is double s && double.IsFinite(s) && s <= windowEnd ? s : windowEnd;
        return new WindowResult(
            type.GetString()!, server.GetString()!, (long)(stamp ?? Math.Floor(windowEnd)), windowStart, windowEnd, sequence, drops, data.Clone())
        {
            Packets = Math.Max(0, packets),
            State = state,
        };
    }

    private static double? Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}

/// <summary>
/// A result's state container as received, then checked by the store (<see cref="Header"/> set once it was read
/// successfully into a reducer of its type and options). The store may <see cref="Release"/> it to bound memory; the
/// result then merges by its view only.
/// </summary>
public sealed class StoredState(byte[] container)
{
    private volatile CheckedState? _checked;
    private volatile byte[]? _container = container;

    /// <summary>The container's bytes, or null once released.</summary>
    public byte[]? Container => _container;

    /// <summary>The checked header (type, options, the reducer's value), or null (not checked yet, invalid, or released).</summary>
    public ReducerStateHeader? Header => _checked?.Header;

    /// <summary>The header and the catalog's reducer it was read into (one read, as the two belong together).</summary>
    public CheckedState? Checked => _checked;

    /// <summary>Bytes held.</summary>
    public int Length => _container?.Length ?? 0;

    internal void Accept(ReducerStateHeader header, ReducerCatalog.Entry reducer) => _checked = new CheckedState(header, reducer);

    /// <summary>Forgets the state (the result keeps its view).</summary>
    internal void Release()
    {
        _checked = null;
        _container = null;
    }
}

/// <summary>A state read once on arrival: its header, and the reducer (type and options) it was read into.</summary>
public sealed record CheckedState(ReducerStateHeader Header, ReducerCatalog.Entry Reducer);
