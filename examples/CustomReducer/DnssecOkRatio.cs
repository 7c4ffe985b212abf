using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Reducers;

namespace RataDns.Examples.CustomReducer;

/// <summary>
/// DoBitRatio: how many DNS messages ask for DNSSEC records, i.e. carry an EDNS OPT record with the DO bit set
/// (RFC 3225, RFC 6891 6.1.4):
/// <code>{"messages": 1000, "edns": 900, "do": 600, "ratio": 0.6}</code>
/// <c>ratio</c> is <c>do / messages</c> (0 for a window without messages). By default only queries (QR = 0) are
/// counted; option <c>IncludeResponses</c> (true or false, default false) counts responses too.
/// <para>
/// The class is named for what it computes, while the configuration and the results call it <c>DoBitRatio</c>:
/// the <see cref="ReducerNameAttribute"/> gives the loader that name, and <see cref="Type"/> returns it.
/// </para>
/// </summary>
[ReducerName(Name)]
public sealed class DnssecOkRatio : Reducer
{
    /// <summary>The reducer's name in the configuration and in its results.</summary>
    public const string Name = "DoBitRatio";

    /// <summary>The configuration key that makes responses count too.</summary>
    public const string IncludeResponsesOption = "IncludeResponses";

    private long _messages;
    private long _edns;
    private long _do;

    /// <summary>Made by <c>ratadns monitor</c> for <c>{"Name": "DoBitRatio", "IncludeResponses": true, ...}</c>.</summary>
    /// <exception cref="ConfigurationException">An unknown option, or <c>IncludeResponses</c> not a boolean.</exception>
    public DnssecOkRatio(ReducerConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.RejectUnknownOptions(IncludeResponsesOption);
        IncludeResponses = configuration.GetBooleanOption(IncludeResponsesOption, defaultValue: false);
    }

    /// <summary>A reducer that counts queries, and responses too when <paramref name="includeResponses"/>.</summary>
    public DnssecOkRatio(bool includeResponses)
    {
        IncludeResponses = includeResponses;
    }

    /// <summary>Whether responses are counted as well as queries.</summary>
    public bool IncludeResponses { get; }

    /// <inheritdoc />
    public override string Type => Name;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery && !(IncludeResponses && packet.IsResponse))
        {
            return;
        }

        _messages++;
        if (TryFindOpt(packet, out var edns))
        {
            _edns++;
            if (edns.DnssecOk)
            {
                _do++;
            }
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<DnssecOkRatio>(other);
        if (same.IncludeResponses != IncludeResponses)
        {
            throw new ArgumentException("Cannot merge reducers with different IncludeResponses.", nameof(other));
        }

        _messages += same._messages;
        _edns += same._edns;
        _do += same._do;
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("messages"u8, _messages);
        writer.WriteNumber("edns"u8, _edns);
        writer.WriteNumber("do"u8, _do);
        writer.WriteNumber("ratio"u8, _messages == 0 ? 0 : (double)_do / _messages);
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, messages, edns, do]</c>: the counts, not the ratio, which follows from them for any merge of windows.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(4);
        writer.Write(1);
        writer.Write(_messages);
        writer.Write(_edns);
        writer.Write(_do);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 4, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _messages = StateReading.Count(ref reader, Type, "messages");
        _edns = StateReading.Count(ref reader, Type, "edns");
        _do = StateReading.Count(ref reader, Type, "do");
    }

    /// <summary>
    /// None: adding views would add the ratios too. Results without state (older monitors) are reported as not
    /// mergeable; with state the counts merge exactly and the ratio is recomputed.
    /// </summary>
    public override ViewMergeRule ViewMerge => ViewMergeRule.None;

    /// <inheritdoc />
    public override void Reset()
    {
        _messages = 0;
        _edns = 0;
        _do = 0;
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new DnssecOkRatio(IncludeResponses);

    /// <summary>
    /// The first OPT record of the additional section, read without allocating. False when there is none, when
    /// the message is malformed before it, or when the OPT record itself is malformed.
    /// </summary>
    private static bool TryFindOpt(in DnsPacketView packet, out EdnsRecord edns)
    {
        edns = default;
        if (packet.HeaderBytes < DnsHeader.Size || packet.Header.AdditionalCount == 0)
        {
            return false;
        }

        var reader = packet.CreateReader();
        while (reader.TryReadRecord(out var record))
        {
            if (record.Section == DnsSection.Additional && record.Type == DnsRecordType.OPT)
            {
                return EdnsRecord.TryRead(in record, out edns);
            }
        }

        return false;
    }
}
