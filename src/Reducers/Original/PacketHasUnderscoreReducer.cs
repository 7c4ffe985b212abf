using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Original;

/// <summary>
/// PacketHasUnderscore: <c>{sender: {"cnt": n, "queries": [{"sender","server","query":{...}}, ...]}}</c>, the same
/// filter as <see cref="QueriesWithUnderscoredNameReducer"/> grouped by sender. "cnt" counts every matching
/// question from the sender in the window (repeats included); "queries" lists the distinct ones kept. At most
/// <c>Capacity</c> (option, default 1000) senders and as many distinct queries are kept per window; the rest are
/// counted in <see cref="DroppedQueries"/>. Senders are ordered by address text.
/// </summary>
public sealed class PacketHasUnderscoreReducer : Reducer
{
    private readonly UnderscoredQueryLog _log;
    private readonly BoundedKeyTable _senders;

    public PacketHasUnderscoreReducer(int capacity = UnderscoredQueryLog.DefaultCapacity)
    {
        _log = new UnderscoredQueryLog(capacity);
        _senders = new BoundedKeyTable(capacity);
    }

    /// <inheritdoc />
    public override string Type => "PacketHasUnderscore";

    /// <summary>Matching questions not kept (as an example or in a sender's count) because a bound was reached.</summary>
    public long DroppedQueries => _log.Dropped + _senders.Refused;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        Span<byte> key = stackalloc byte[ReducerText.KeyBufferLength];
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            if (!UnderscoredQueryLog.Matches(in question))
            {
                continue;
            }

            _log.Add(in packet, in question, key);
            int n = ReducerText.WriteAddress(key, packet.SourceAddress);
            int sender = _senders.FindOrAdd(key[..n]);
            if (sender >= 0)
            {
                _senders.ValueAt(sender)++;
            }
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<PacketHasUnderscoreReducer>(other);
        _log.Merge(same._log);
        for (int i = 0; i < same._senders.Count; i++)
        {
            int entry = _senders.FindOrAdd(same._senders.KeyAt(i));
            if (entry >= 0)
            {
                _senders.ValueAt(entry) += same._senders.ValueAt(i);
            }
        }

        _senders.AddRefused(same._senders.Refused);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < _senders.Count; i++)
        {
            ReducerText.ReadAddress(_senders.KeyAt(i), out ReadOnlySpan<byte> address);
            counts[ReducerText.FormatAddress(address)] = _senders.ValueAt(i);
        }

        var examples = _log.ToExamples();
        writer.WriteStartObject();
        foreach (var (sender, count) in counts)
        {
            writer.WriteStartObject(sender);
            writer.WriteNumber("cnt"u8, count);
            writer.WriteStartArray("queries"u8);
            foreach (var example in examples)
            {
                if (string.Equals(example.Sender, sender, StringComparison.Ordinal))
                {
                    example.WriteTo(writer);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, log, [refused, [[sender, cnt], ...]]]</c>: the distinct queries kept (see
    /// <c>UnderscoredQueryLog.WriteState</c>), then the senders (<c>[address length][address]</c>) with their counts.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(3);
        writer.Write(1);
        _log.WriteState(ref writer);
        KeyTableState.Write(ref writer, _senders);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 3, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _log.ReadState(ref reader, Type);
        KeyTableState.Read(ref reader, _senders, IsSenderKey, 1, long.MaxValue, Type, "the senders");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    private static bool IsSenderKey(ReadOnlySpan<byte> key) => StateKeys.SkipAddress(ref key) && key.IsEmpty;

    /// <inheritdoc />
    public override void Reset()
    {
        _log.Reset();
        _senders.Reset();
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new PacketHasUnderscoreReducer(_log.Capacity);
}
