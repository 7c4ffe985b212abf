using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

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
        var shape = packet.ReadQuestion(out var first);
        if (shape == QuestionShape.One)
        {
            int length = prefix + ReducerText.WriteUInt16(key[prefix..], first.Type);
            first.LowercaseName.CopyTo(key[length..]);
            _triples.FindOrAdd(key[..(length + first.LowercaseName.Length)]);
            return;
        }

        if (shape == QuestionShape.None)
        {
            return;
        }

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
        var scratch = SummaryScratch.For(_triples.Count);
        int used = 0;
        for (int i = 0; i < _triples.Count; i++)
        {
            ReadOnlySpan<byte> key = _triples.KeyAt(i);
            int at = ReducerText.ReadAddress(key, out ReadOnlySpan<byte> address);
            var entry = new SummaryEntry { Type = ReducerText.ReadUInt16(key[at..]), SenderStart = used };
            scratch.EnsureText(used + 64 + ReducerText.NameTextLength);
            entry.SenderLength = DnsPresentation.TryFormatAddress(address, scratch.Text.AsSpan(used), out int n)
                ? n
                : System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(address), scratch.Text.AsSpan(used));
            used += entry.SenderLength;
            entry.NameStart = used;
            entry.NameLength = ReducerText.FormatWireName(key[(at + 2)..], scratch.Text.AsSpan(used, ReducerText.NameTextLength));
            used += entry.NameLength;
            scratch.Entries[i] = entry;
        }

        // Senders in text order, their types in numeric order, names in text order (ordinal: the text is ASCII).
        var entries = scratch.Entries.AsSpan(0, _triples.Count);
        entries.Sort(new SummaryOrder(scratch.Text));

        writer.WriteStartObject();
        for (int i = 0; i < entries.Length;)
        {
            ReadOnlySpan<byte> sender = entries[i].Sender(scratch.Text);
            writer.WriteStartObject(sender);
            while (i < entries.Length && entries[i].Sender(scratch.Text).SequenceEqual(sender))
            {
                ushort type = entries[i].Type;
                writer.WriteStartArray(ReducerText.FormatType(type));
                while (i < entries.Length && entries[i].Type == type && entries[i].Sender(scratch.Text).SequenceEqual(sender))
                {
                    writer.WriteStringValue(entries[i].Name(scratch.Text));
                    i++;
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private struct SummaryEntry
    {
        public int SenderStart;
        public int SenderLength;
        public int NameStart;
        public int NameLength;
        public ushort Type;

        public readonly ReadOnlySpan<byte> Sender(byte[] text) => text.AsSpan(SenderStart, SenderLength);

        public readonly ReadOnlySpan<byte> Name(byte[] text) => text.AsSpan(NameStart, NameLength);
    }

    private readonly struct SummaryOrder(byte[] text) : IComparer<SummaryEntry>
    {
        public int Compare(SummaryEntry a, SummaryEntry b)
        {
            int bySender = a.Sender(text).SequenceCompareTo(b.Sender(text));
            if (bySender != 0)
            {
                return bySender;
            }

            int byType = a.Type.CompareTo(b.Type);
            return byType != 0 ? byType : a.Name(text).SequenceCompareTo(b.Name(text));
        }
    }

    /// <summary>Text and entries of <see cref="WriteData"/>, kept per thread and reused (nothing allocated once grown).</summary>
    private sealed class SummaryScratch
    {
        [ThreadStatic]
        private static SummaryScratch? t_current;

        public byte[] Text { get; private set; } = new byte[1 << 16];

        public SummaryEntry[] Entries { get; private set; } = new SummaryEntry[256];

        public static SummaryScratch For(int entries)
        {
            var scratch = t_current ??= new SummaryScratch();
            if (scratch.Entries.Length < entries)
            {
                scratch.Entries = new SummaryEntry[Math.Max(entries, scratch.Entries.Length * 2)];
            }

            return scratch;
        }

        public void EnsureText(int length)
        {
            if (Text.Length < length)
            {
                var text = Text;
                Array.Resize(ref text, Math.Max(length, Text.Length * 2));
                Text = text;
            }
        }
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, [refused, [[key, 0], ...]]]</c>: the kept triples in the order they were first seen, each key
    /// <c>[address length][address][qtype, 2 bytes big-endian][qname, lowercase wire form]</c>, and how many were refused.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(2);
        writer.Write(1);
        KeyTableState.Write(ref writer, _triples);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 2, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        KeyTableState.Read(ref reader, _triples, IsTripleKey, 0, 0, Type, "the triples");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Union;

    private static bool IsTripleKey(ReadOnlySpan<byte> key) =>
        StateKeys.SkipAddress(ref key) && StateKeys.Skip(ref key, 2) && StateKeys.IsWireName(key);

    /// <inheritdoc />
    public override void Reset() => _triples.Reset();

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new QueriesSummaryReducer(_triples.Capacity, _type);
}
