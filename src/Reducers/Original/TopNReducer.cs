using System.Text.Json;
using MessagePack;
using RataDns.Reducers.State;
using RataDns.Reducers.Summaries;

namespace RataDns.Reducers.Original;

/// <summary>
/// TopN (all packets) and TopNQ (queries only): <c>[[qname, count], ...]</c>, the <c>N</c> (option, default 5)
/// most frequent question names by count descending, ties broken by name (ordinal, ascending, as written), and
/// never more than N entries (the original returned every name tied with the N-th: a bug). Names are written as
/// <see cref="NameCounterReducer"/> writes them. Bounded by a <see cref="SpaceSavingSummary"/> of <c>Capacity</c>
/// names (option, default 10000): exact while a window has at most that many distinct names, and any name whose
/// count exceeds total / capacity is always among the candidates. For a window with
/// <see cref="ReducerWindow.IncludeBounds"/> (an aggregator's API) each pair is <c>[qname, count, error]</c>: the
/// name's true count lies in [count - error, count].
/// </summary>
public sealed class TopNReducer : Reducer
{
    public const int DefaultN = 5;

    private readonly bool _queriesOnly;
    private readonly int _n;
    private readonly SpaceSavingSummary _summary;

    public TopNReducer(bool queriesOnly, int n = DefaultN, int capacity = NameCounterReducer.DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, capacity);
        _queriesOnly = queriesOnly;
        _n = n;
        _summary = new SpaceSavingSummary(capacity);
    }

    /// <inheritdoc />
    public override string Type => _queriesOnly ? "TopNQ" : "TopN";

    public int N => _n;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!_queriesOnly || packet.IsQuery)
        {
            NameCounting.OfferQuestionNames(_summary, in packet);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<TopNReducer>(other);
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
        var ranked = NameCounting.Rank(_summary, _n);
        writer.WriteStartArray();
        for (int i = 0; i < Math.Min(_n, ranked.Count); i++)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(ranked.Text(i));
            writer.WriteNumberValue(ranked.CountOf(i));
            if (window.IncludeBounds)
            {
                writer.WriteNumberValue(ranked.ErrorOf(i));
            }
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, totalWeight, capacity, [[name, count, error], ...]]</c>: the Space-Saving summary, every monitored name
    /// (lowercase wire form, bin) by count ascending (see docs/wire-format.md, "Reducer state").
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer) => SummaryState.Write(ref writer, _summary);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) =>
        SummaryState.Read(ref reader, _summary, StateKeys.IsWireName, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.RankedPairs;

    /// <inheritdoc />
    public override void Reset() => _summary.Reset();

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new TopNReducer(_queriesOnly, _n, _summary.Capacity);
}
