using System.Text.Json;
using MessagePack;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Original;

/// <summary>
/// QueriesPerSecond <c>{"qps": x}</c>, AnswersPerSecond <c>{"aps": x}</c>, PacketsPerSecond <c>{"pps": x}</c> and
/// PacketsQueriesAndAnswersPerSecond <c>{"pps": x, "qps": y, "aps": z}</c>: counts over the window's packet time
/// (see <see cref="ReducerWindow.Rate"/>; a zero-length window gives 0). A query has QR = 0, an answer QR = 1; a
/// message too short to hold the flags is a packet but neither.
/// </summary>
public sealed class PacketRateReducer : Reducer
{
    private readonly RateKind _kind;
    private long _packets;
    private long _queries;
    private long _answers;

    public PacketRateReducer(RateKind kind)
    {
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown rate kind.");
        }

        _kind = kind;
    }

    /// <summary>Which rates are written.</summary>
    public enum RateKind : byte
    {
        QueriesPerSecond,
        AnswersPerSecond,
        PacketsPerSecond,
        PacketsQueriesAndAnswersPerSecond,
    }

    /// <inheritdoc />
    public override string Type => _kind switch
    {
        RateKind.QueriesPerSecond => "QueriesPerSecond",
        RateKind.AnswersPerSecond => "AnswersPerSecond",
        RateKind.PacketsPerSecond => "PacketsPerSecond",
        _ => "PacketsQueriesAndAnswersPerSecond",
    };

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        _packets++;
        if (packet.IsQuery)
        {
            _queries++;
        }
        else if (packet.IsResponse)
        {
            _answers++;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<PacketRateReducer>(other);
        _packets = SaturatingCount.Add(_packets, same._packets);
        _queries = SaturatingCount.Add(_queries, same._queries);
        _answers = SaturatingCount.Add(_answers, same._answers);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (_kind is RateKind.PacketsPerSecond or RateKind.PacketsQueriesAndAnswersPerSecond)
        {
            writer.WriteNumber("pps"u8, window.Rate(_packets));
        }

        if (_kind is RateKind.QueriesPerSecond or RateKind.PacketsQueriesAndAnswersPerSecond)
        {
            writer.WriteNumber("qps"u8, window.Rate(_queries));
        }

        if (_kind is RateKind.AnswersPerSecond or RateKind.PacketsQueriesAndAnswersPerSecond)
        {
            writer.WriteNumber("aps"u8, window.Rate(_answers));
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, packets, queries, answers]</c>: the counts, whatever rates the type writes; the rates follow from the
    /// window the merged state is written for (an aggregator's span: its first window's start to its last's end).
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(4);
        writer.Write(1);
        writer.Write(_packets);
        writer.Write(_queries);
        writer.Write(_answers);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 4, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _packets = StateReading.Count(ref reader, Type, "packets");
        _queries = StateReading.Count(ref reader, Type, "queries");
        _answers = StateReading.Count(ref reader, Type, "answers");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Rates;

    /// <inheritdoc />
    public override void Reset()
    {
        _packets = 0;
        _queries = 0;
        _answers = 0;
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new PacketRateReducer(_kind);
}
