using RataDns.DnsWire;
using RataDns.Reducers.Original;

namespace RataDns.Reducers.Extended;

/// <summary>
/// TldCounter and SldCounter: the question names of queries (QR = 0; every question of a message) counted by
/// top-level domain ("com.") or by second-level domain ("example.com."), lowercased (ASCII, RFC 4343) and written
/// in presentation form with the trailing dot. For the SLD, a name of one label counts as its TLD ("com." for
/// "com"); the root counts as "." for both. Output and error bounds: see <see cref="HeavyHitterReducer"/>
/// (<c>{"total", "top": [{"name", "count", "error"}]}</c>; options <c>Capacity</c>, default 10000, and <c>N</c>,
/// default 20). Observe allocates nothing: the suffix is copied lowercased into a stack buffer in wire form.
/// </summary>
public sealed class DomainLevelCounter : HeavyHitterReducer
{
    private readonly DomainLevel _level;

    public DomainLevelCounter(DomainLevel level, int n = DefaultN, int capacity = DefaultCapacity)
        : base(n, capacity) => _level = level;

    /// <summary>Which suffix of a name is counted.</summary>
    public enum DomainLevel
    {
        /// <summary>The last label: "com.".</summary>
        TopLevel,

        /// <summary>The last two labels: "example.com.".</summary>
        SecondLevel,
    }

    /// <inheritdoc />
    public override string Type => _level == DomainLevel.TopLevel ? "TldCounter" : "SldCounter";

    /// <inheritdoc />
    protected override string KeyProperty => "name";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        int labelsKept = _level == DomainLevel.TopLevel ? 1 : 2;

        // The usual single question: the suffix is a slice of the name every reducer shares (already lowercased).
        var shape = packet.ReadQuestion(out var first);
        if (shape == QuestionShape.One)
        {
            Summary.Offer(first.LowercaseName[SuffixStart(first.LowercaseName, labelsKept)..]);
            return;
        }

        if (shape == QuestionShape.None)
        {
            return;
        }

        Span<byte> key = stackalloc byte[DnsName.MaxWireLength];
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            int n = WriteSuffix(question.Name, labelsKept, key);
            Summary.Offer(key[..n]);
        }
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new DomainLevelCounter(_level, N, Capacity);

    /// <inheritdoc />
    protected override int FormatKey(ReadOnlySpan<byte> key, Span<byte> text) => ReducerText.FormatWireName(key, text);

    /// <summary>Where the last <paramref name="labelsKept"/> labels of an uncompressed wire-form name start (0 if it has fewer).</summary>
    internal static int SuffixStart(ReadOnlySpan<byte> wireName, int labelsKept)
    {
        int labels = 0;
        for (int at = 0; at < wireName.Length && wireName[at] != 0; at += wireName[at] + 1)
        {
            labels++;
        }

        int start = 0;
        for (int skip = labels - labelsKept; skip > 0; skip--)
        {
            start += wireName[start] + 1;
        }

        return start;
    }

    /// <summary>
    /// Writes the last <paramref name="labelsKept"/> labels of <paramref name="name"/> (fewer if it has fewer)
    /// lowercased in wire form, root byte included; returns the length (1 for the root).
    /// </summary>
    internal static int WriteSuffix(DnsName name, int labelsKept, Span<byte> destination)
    {
        int skip = Math.Max(0, name.LabelCount - labelsKept);
        int n = 0;
        var labels = name.EnumerateLabels();
        while (labels.MoveNext())
        {
            if (skip > 0)
            {
                skip--;
                continue;
            }

            ReadOnlySpan<byte> label = labels.Current;
            destination[n++] = (byte)label.Length;
            for (int i = 0; i < label.Length; i++)
            {
                byte b = label[i];
                destination[n++] = (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;
            }
        }

        destination[n++] = 0;
        return n;
    }
}
