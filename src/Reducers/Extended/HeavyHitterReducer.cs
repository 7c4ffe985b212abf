using System.Text.Json;
using MessagePack;
using RataDns.Reducers.State;
using RataDns.Reducers.Summaries;

namespace RataDns.Reducers.Extended;

/// <summary>
/// The shared shape of the Space-Saving reducers (<see cref="DomainLevelCounter"/>, <see cref="TopClientsReducer"/>,
/// <see cref="TopRcodeNamesReducer"/>): keys offered to a <see cref="SpaceSavingSummary"/> of <c>Capacity</c> keys,
/// written as <c>{"total": n, "top": [{key: text, "count": n, "error": e}, ...]}</c> with at most <c>N</c> entries,
/// by count descending, then by key text (ordinal).
/// <para>
/// "total" is the exact number of keys offered in the window (or merge of partials). Each entry's "count" is an
/// upper bound of the key's true count and "error" bounds the overestimate: <c>count - error &lt;= true count &lt;=
/// count</c>, with <c>error &lt;= total / Capacity</c>. While a window has at most <c>Capacity</c> distinct keys,
/// every error is 0 and the counts are exact; every key whose true count exceeds total / Capacity is monitored.
/// Merging partials keeps these bounds for the union (see <see cref="SpaceSavingSummary.Merge"/>).
/// </para>
/// </summary>
public abstract class HeavyHitterReducer : Reducer
{
    public const int DefaultCapacity = 10000;
    public const int DefaultN = 20;

    private readonly SpaceSavingSummary _summary;
    private readonly int _n;
    private readonly KeyTextFormatter _formatKey;

    protected HeavyHitterReducer(int n, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, capacity);
        _n = n;
        _summary = new SpaceSavingSummary(capacity);
        _formatKey = FormatKey;
    }

    /// <summary>How many entries are written.</summary>
    public int N => _n;

    /// <summary>The most keys monitored at once.</summary>
    public int Capacity => _summary.Capacity;

    /// <summary>How many keys are monitored now (never more than <see cref="Capacity"/>).</summary>
    public int MonitoredCount => _summary.MonitoredCount;

    /// <summary>The property name of the key in each entry ("name", "client").</summary>
    protected abstract string KeyProperty { get; }

    /// <summary>The summary to offer keys to from <see cref="Reducer.Observe"/>.</summary>
    protected SpaceSavingSummary Summary => _summary;

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<HeavyHitterReducer>(other);
        if (same._n != _n)
        {
            throw new ArgumentException($"Cannot merge a {Type} with N = {same._n} into one with N = {_n}.", nameof(other));
        }

        _summary.Merge(same._summary);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var ranked = RankedKeys.Rank(_summary, _formatKey, _n);
        writer.WriteStartObject();
        writer.WriteNumber("total"u8, _summary.TotalWeight);
        writer.WriteStartArray("top"u8);
        for (int i = 0; i < Math.Min(_n, ranked.Count); i++)
        {
            writer.WriteStartObject();
            writer.WriteString(KeyProperty, ranked.Text(i));
            writer.WriteNumber("count"u8, ranked.CountOf(i));
            writer.WriteNumber("error"u8, ranked.ErrorOf(i));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, totalWeight, capacity, [[key, count, error], ...]]</c>: the Space-Saving summary, every monitored key
    /// (bin: a lowercase wire-form name, or a client's 4 or 16 address bytes) by count ascending.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer) => SummaryState.Write(ref writer, _summary);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) => SummaryState.Read(ref reader, _summary, IsStoredKey, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.HeavyHitters;

    /// <inheritdoc />
    public override void Reset() => _summary.Reset();

    /// <summary>
    /// Writes the text of a key as stored in the summary into <paramref name="text"/> (at least
    /// <see cref="RankedKeys.MaxTextLength"/> bytes, ASCII) and returns its length.
    /// </summary>
    protected abstract int FormatKey(ReadOnlySpan<byte> key, Span<byte> text);

    /// <summary>
    /// Whether a key read from a state is one this reducer stores (and <see cref="FormatKey"/> can write): by default
    /// a name in uncompressed wire form.
    /// </summary>
    protected virtual bool IsStoredKey(ReadOnlySpan<byte> key) => StateKeys.IsWireName(key);
}
