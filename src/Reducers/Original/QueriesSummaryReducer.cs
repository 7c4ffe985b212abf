using System.Text.Json;
using RataDns.DnsWire;

namespace RataDns.Reducers.Original;

/// <summary>
/// QueriesSummary (also configured as PacketSummary): <c>{sender: {qtype: [qname, ...]}}</c> over the questions of
/// queries: for each sender address, for each question type (mnemonic, "A", "AAAA", or TYPEnnn), the distinct
/// names asked, lowercased as <see cref="NameCounterReducer"/> writes them. Senders, types (by number) and names
/// are sorted, so the output does not depend on arrival order. At most <c>Capacity</c> (option, default 1000)
/// distinct (sender, qtype, qname) triples are kept per window; the rest are counted in <see cref="DroppedQueries"/>.
/// </summary>
public sealed class QueriesSummaryReducer : Reducer
{
    public const int DefaultCapacity = 1000;

    private readonly string _type;
    private readonly BoundedKeyTable _triples;

    /// <param name="capacity">The most distinct (sender, qtype, qname) kept per window.</param>
    /// <param name="type">"QueriesSummary" or its original alias "PacketSummary": the type written in results.</param>
    public QueriesSummaryReducer(int capacity = DefaultCapacity, string type = "QueriesSummary")
    {
        if (type is not ("QueriesSummary" or "PacketSummary"))
        {
            throw new ArgumentException("The type is QueriesSummary or PacketSummary.", nameof(type));
        }

        _type = type;
        _triples = new BoundedKeyTable(capacity);
    }

    /// <inheritdoc />
    public override string Type => _type;

    /// <summary>Distinct triples not kept this window because the bound was reached.</summary>
    public long DroppedQueries => _triples.Refused;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        Span<byte> key = stackalloc byte[ReducerText.KeyBufferLength];
        int prefix = ReducerText.WriteAddress(key, packet.SourceAddress);
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            int n = prefix + ReducerText.WriteUInt16(key[prefix..], question.Type);
            n += question.Name.CopyWireFormTo(key[n..], lowerCase: true);
            _triples.FindOrAdd(key[..n]);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<QueriesSummaryReducer>(other);
        for (int i = 0; i < same._triples.Count; i++)
        {
            _triples.FindOrAdd(same._triples.KeyAt(i));
        }

        _triples.AddRefused(same._triples.Refused);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var bySender = new SortedDictionary<string, SortedDictionary<ushort, SortedSet<string>>>(StringComparer.Ordinal);
        for (int i = 0; i < _triples.Count; i++)
        {
            ReadOnlySpan<byte> key = _triples.KeyAt(i);
            int at = ReducerText.ReadAddress(key, out ReadOnlySpan<byte> address);
            ushort qtype = ReducerText.ReadUInt16(key[at..]);
            string sender = ReducerText.FormatAddress(address);
            if (!bySender.TryGetValue(sender, out var byType))
            {
                byType = [];
                bySender.Add(sender, byType);
            }

            if (!byType.TryGetValue(qtype, out var names))
            {
                names = new SortedSet<string>(StringComparer.Ordinal);
                byType.Add(qtype, names);
            }

            names.Add(ReducerText.FormatWireName(key[(at + 2)..]));
        }

        writer.WriteStartObject();
        foreach (var (sender, byType) in bySender)
        {
            writer.WriteStartObject(sender);
            foreach (var (qtype, names) in byType)
            {
                writer.WriteStartArray(ReducerText.FormatType(qtype));
                foreach (string name in names)
                {
                    writer.WriteStringValue(name);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override void Reset() => _triples.Reset();

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new QueriesSummaryReducer(_triples.Capacity, _type);
}
