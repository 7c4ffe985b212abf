using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Original;

/// <summary>
/// AlonePackets: queries without an answer and answers without a query in the window.
/// <c>{"queries": n, "answers": n, "AloneQueries": [entry, ...], "AloneAnswers": [entry, ...]}</c> where "queries"
/// and "answers" count the messages with QR = 0 and QR = 1 (at least a full header), and each entry is
/// <c>{"id": n, "client": "addr", "port": n, "qname": "name.", "count": n}</c>.
/// <para>
/// Matching: a query and an answer match when they have the same id, client address and port (the query's
/// source, the answer's destination) and question name (case-insensitive; every question of a message is matched
/// on its own, a message without questions matches on the empty name ""). Matching is by count, regardless of the
/// order they arrive in: per key the table keeps queries minus answers, so three queries and one answer leave an
/// entry with "count": 2 in AloneQueries. This makes merging partials exact: it adds the per-key balances.
/// </para>
/// <para>
/// Bounded: at most <c>Capacity</c> (option, default 10000) keys per window; questions of a new key beyond that
/// are not matched and are counted in <see cref="UntrackedQuestions"/>. Entries are sorted by (qname, client,
/// port, id).
/// </para>
/// </summary>
public sealed class AlonePacketsReducer : Reducer
{
    public const int DefaultCapacity = 10000;

    private readonly BoundedKeyTable _balances;
    private long _queries;
    private long _answers;

    public AlonePacketsReducer(int capacity = DefaultCapacity) => _balances = new BoundedKeyTable(capacity);

    /// <inheritdoc />
    public override string Type => "AlonePackets";

    /// <summary>Questions that could not be matched this window because the table was full.</summary>
    public long UntrackedQuestions => _balances.Refused;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.HeaderBytes < DnsHeader.Size)
        {
            return;
        }

        bool response = packet.IsResponse;
        long delta;
        Span<byte> key = stackalloc byte[ReducerText.KeyBufferLength];
        int prefix = ReducerText.WriteUInt16(key, packet.Header.Id);
        if (response)
        {
            _answers++;
            delta = -1;
            prefix += ReducerText.WriteUInt16(key[prefix..], packet.DestinationPort);
            prefix += ReducerText.WriteAddress(key[prefix..], packet.DestinationAddress);
        }
        else
        {
            _queries++;
            delta = 1;
            prefix += ReducerText.WriteUInt16(key[prefix..], packet.SourcePort);
            prefix += ReducerText.WriteAddress(key[prefix..], packet.SourceAddress);
        }

        // The usual single question comes lowercased from the view's cache, read once for every reducer.
        var shape = packet.ReadQuestion(out var first);
        if (shape != QuestionShape.Several)
        {
            first.LowercaseName.CopyTo(key[prefix..]);
            AddBalance(key[..(prefix + first.LowercaseName.Length)], delta);
            return;
        }

        var reader = packet.CreateReader();
        bool any = false;
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            any = true;
            int n = prefix + question.Name.CopyWireFormTo(key[prefix..], lowerCase: true);
            AddBalance(key[..n], delta);
        }

        if (!any)
        {
            AddBalance(key[..prefix], delta);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<AlonePacketsReducer>(other);
        _queries += same._queries;
        _answers += same._answers;
        for (int i = 0; i < same._balances.Count; i++)
        {
            AddBalance(same._balances.KeyAt(i), same._balances.ValueAt(i));
        }

        _balances.AddRefused(same._balances.Refused);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var alone = new List<Entry>();
        for (int i = 0; i < _balances.Count; i++)
        {
            long balance = _balances.ValueAt(i);
            if (balance == 0)
            {
                continue;
            }

            ReadOnlySpan<byte> key = _balances.KeyAt(i);
            ushort id = ReducerText.ReadUInt16(key);
            ushort port = ReducerText.ReadUInt16(key[2..]);
            int at = 4 + ReducerText.ReadAddress(key[4..], out ReadOnlySpan<byte> client);
            string qname = at == key.Length ? string.Empty : ReducerText.FormatWireName(key[at..]);
            alone.Add(new Entry(id, ReducerText.FormatAddress(client), port, qname, balance));
        }

        alone.Sort(static (a, b) =>
        {
            int c = string.CompareOrdinal(a.QName, b.QName);
            c = c != 0 ? c : string.CompareOrdinal(a.Client, b.Client);
            c = c != 0 ? c : a.Port.CompareTo(b.Port);
            return c != 0 ? c : a.Id.CompareTo(b.Id);
        });

        writer.WriteStartObject();
        writer.WriteNumber("queries"u8, _queries);
        writer.WriteNumber("answers"u8, _answers);
        writer.WriteStartArray("AloneQueries"u8);
        foreach (var entry in alone)
        {
            if (entry.Balance > 0)
            {
                entry.WriteTo(writer, entry.Balance);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("AloneAnswers"u8);
        foreach (var entry in alone)
        {
            if (entry.Balance < 0)
            {
                entry.WriteTo(writer, -entry.Balance);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, queries, answers, [refused, [[key, balance], ...]]]</c>: the message counts and every key with its
    /// balance (queries minus answers, zero included: it holds a place in the table), in the order first seen; a key
    /// is <c>[id, 2 bytes][client port, 2 bytes][address length][address][qname, lowercase wire form, or nothing]</c>.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(4);
        writer.Write(1);
        writer.Write(_queries);
        writer.Write(_answers);
        KeyTableState.Write(ref writer, _balances);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 4, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _queries = StateReading.Count(ref reader, Type, "queries");
        _answers = StateReading.Count(ref reader, Type, "answers");
        KeyTableState.Read(ref reader, _balances, IsBalanceKey, long.MinValue + 1, long.MaxValue, Type, "the balances");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    private static bool IsBalanceKey(ReadOnlySpan<byte> key) =>
        StateKeys.Skip(ref key, 4) && StateKeys.SkipAddress(ref key) && (key.IsEmpty || StateKeys.IsWireName(key));

    /// <inheritdoc />
    public override void Reset()
    {
        _balances.Reset();
        _queries = 0;
        _answers = 0;
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new AlonePacketsReducer(_balances.Capacity);

    private void AddBalance(ReadOnlySpan<byte> key, long delta)
    {
        int entry = _balances.FindOrAdd(key);
        if (entry >= 0)
        {
            _balances.ValueAt(entry) += delta;
        }
    }

    private sealed record Entry(ushort Id, string Client, ushort Port, string QName, long Balance)
    {
        public void WriteTo(Utf8JsonWriter writer, long count)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id"u8, Id);
            writer.WriteString("client"u8, Client);
            writer.WriteNumber("port"u8, Port);
            writer.WriteString("qname"u8, QName);
            writer.WriteNumber("count"u8, count);
            writer.WriteEndObject();
        }
    }
}
