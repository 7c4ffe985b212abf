using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;
using RataDns.Reducers.Summaries;

namespace RataDns.Reducers.Original;

/// <summary>
/// QueriesNameCounter / AnswersNameCounter / NameCounter: <c>{qname: count}</c> over the question names of queries,
/// answers, or all packets (every question of a message, not only the first).
/// <para>
/// A name is counted case-insensitively (RFC 4343) and written lowercased in presentation form with its trailing
/// dot, exactly as <see cref="DnsName.TryFormat"/> writes the ASCII-lowercased name ("www.example.com.", "." for
/// the root, \DDD escapes). Keys are ordered by count descending, then by name (ordinal).
/// </para>
/// <para>
/// Bounded: a <see cref="SpaceSavingSummary"/> of <c>Capacity</c> names (option, default 10000). While a window
/// (or merge of partials) has at most that many distinct names, the counts are exact; beyond it the summary keeps
/// the heaviest names, each count an upper bound overestimating by at most total / capacity.
/// </para>
/// </summary>
public sealed class NameCounterReducer : Reducer
{
    public const int DefaultCapacity = 10000;

    private readonly PacketSelection _selection;
    private readonly SpaceSavingSummary _summary;

    public NameCounterReducer(PacketSelection selection, int capacity = DefaultCapacity)
    {
        _selection = selection;
        _summary = new SpaceSavingSummary(capacity);
    }

    /// <inheritdoc />
    public override string Type => _selection switch
    {
        PacketSelection.Queries => "QueriesNameCounter",
        PacketSelection.Answers => "AnswersNameCounter",
        _ => "NameCounter",
    };

    /// <summary>The most names kept per window.</summary>
    public int Capacity => _summary.Capacity;

    /// <summary>How many names are held now (never more than <see cref="Capacity"/>).</summary>
    public int NameCount => _summary.MonitoredCount;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (ReducerText.Selects(_selection, in packet))
        {
            NameCounting.OfferQuestionNames(_summary, in packet);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other) => _summary.Merge(RequireMergeable<NameCounterReducer>(other)._summary);

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        var ranked = NameCounting.Rank(_summary);
        for (int i = 0; i < ranked.Count; i++)
        {
            writer.WriteNumber(ranked.Text(i), ranked.CountOf(i));
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, totalWeight, capacity, [[name, count, error], ...]]</c>: the Space-Saving summary, every monitored name
    /// (lowercase wire form, bin) by count ascending.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer) => SummaryState.Write(ref writer, _summary);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) =>
        SummaryState.Read(ref reader, _summary, StateKeys.IsWireName, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset() => _summary.Reset();

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new NameCounterReducer(_selection, _summary.Capacity);
}

/// <summary>Offers the lowercase wire form of every question name of a message to a summary.</summary>
internal static class NameCounting
{
    public static void OfferQuestionNames(SpaceSavingSummary summary, in DnsPacketView packet)
    {
        var shape = packet.ReadQuestion(out var first);
        if (shape == QuestionShape.One)
        {
            summary.OfferHashed(first.LowercaseName, first.NameHash);
            return;
        }

        if (shape == QuestionShape.Several)
        {
            OfferEveryQuestionName(summary, in packet);
        }
    }

    private static void OfferEveryQuestionName(SpaceSavingSummary summary, in DnsPacketView packet)
    {
        Span<byte> key = stackalloc byte[DnsName.MaxWireLength];
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            int n = question.Name.CopyWireFormTo(key, lowerCase: true);
            summary.Offer(key[..n]);
        }
    }

    /// <summary>Every monitored name as text with its count, by count descending then name (ordinal). Allocates.</summary>
    private static readonly KeyTextFormatter NameText = ReducerText.FormatWireName;

    /// <summary>The names by count descending, then text ascending, without making strings (see <see cref="RankedKeys"/>).</summary>
    public static RankedKeys Rank(SpaceSavingSummary summary) => RankedKeys.Rank(summary, NameText);

    /// <summary>As <see cref="Rank(SpaceSavingSummary)"/>, ranking only the names that can be among the first <paramref name="limit"/>.</summary>
    public static RankedKeys Rank(SpaceSavingSummary summary, int limit) => RankedKeys.Rank(summary, NameText, limit);
}
