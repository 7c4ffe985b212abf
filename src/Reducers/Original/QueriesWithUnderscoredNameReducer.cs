using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Original;

/// <summary>
/// QueriesWithUnderscoredName: <c>{qname_lowercase: [{"sender","server","query":{"qname","qtype","qclass"}}, ...]}</c>
/// for questions of queries whose name has a '_' and whose type is A, NS, SOA or MX. Each distinct query
/// (sender, server, name as sent, type, class) appears once per window; "qname" keeps the case that was sent,
/// "qtype"/"qclass" are mnemonics ("A", "IN"). At most <c>Capacity</c> (option, default 1000) distinct queries are
/// kept per window; the rest are counted in <see cref="DroppedQueries"/> (not part of <c>data</c>).
/// </summary>
public sealed class QueriesWithUnderscoredNameReducer : Reducer
{
    private readonly UnderscoredQueryLog _log;

    public QueriesWithUnderscoredNameReducer(int capacity = UnderscoredQueryLog.DefaultCapacity) =>
        _log = new UnderscoredQueryLog(capacity);

    /// <inheritdoc />
    public override string Type => "QueriesWithUnderscoredName";

    /// <summary>Distinct matching queries not kept this window because the bound was reached.</summary>
    public long DroppedQueries => _log.Dropped;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        var shape = packet.ReadQuestion(out var first);
        if (shape == QuestionShape.None || (shape == QuestionShape.One && !UnderscoredQueryLog.Matches(first.Type, first.LowercaseName)))
        {
            // The usual query: one question, no underscore. A match (rare) is logged from the message's own
            // bytes below, with the name's case as sent.
            return;
        }

        Span<byte> key = stackalloc byte[ReducerText.KeyBufferLength];
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            if (UnderscoredQueryLog.Matches(in question))
            {
                _log.Add(in packet, in question, key);
            }
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other) => _log.Merge(RequireMergeable<QueriesWithUnderscoredNameReducer>(other)._log);

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        string? open = null;
        foreach (var example in _log.ToExamples())
        {
            if (!string.Equals(open, example.LowercaseName, StringComparison.Ordinal))
            {
                if (open is not null)
                {
                    writer.WriteEndArray();
                }

                open = example.LowercaseName;
                writer.WriteStartArray(open);
            }

            example.WriteTo(writer);
        }

        if (open is not null)
        {
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary><c>[1, log]</c>: the distinct queries kept (see <c>UnderscoredQueryLog.WriteState</c>).</summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(2);
        writer.Write(1);
        _log.WriteState(ref writer);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 2, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _log.ReadState(ref reader, Type);
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset() => _log.Reset();

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new QueriesWithUnderscoredNameReducer(_log.Capacity);
}
