using System.Text.Json;
using MessagePack;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Counters;

/// <summary>
/// EdnsCounter: EDNS use in queries (QR = 0),
/// <code>
/// {"queries": n, "edns": n, "noEdns": n, "versions": {"0": n}, "do": n, "clientSubnet": n,
///  "udpSize": {"&lt;512": n, "512-1231": n, "1232": n, "1233-4095": n, "&gt;=4096": n}}
/// </code>
/// A query uses EDNS when the first OPT record of its additional section can be read (RFC 6891); a query whose
/// records stop on a fault before it, or whose OPT options are malformed, counts as <c>noEdns</c>. For EDNS
/// queries: <c>versions</c> by EDNS version (count descending then key), <c>do</c> with the DO bit (RFC 3225),
/// <c>clientSubnet</c> with an option 8 (RFC 7871, present at all, whatever its content), and <c>udpSize</c> by
/// the advertised UDP payload size (all five buckets always written, in that order). So
/// <c>queries = edns + noEdns</c> and the <c>versions</c> and <c>udpSize</c> counts each add up to <c>edns</c>.
/// </summary>
public sealed class EdnsCounter : Reducer
{
    private const int VersionValues = 256;

    private static readonly int[] SizeLowerBounds = [0, 512, 1232, 1233, 4096];

    private readonly long[] _versions = new long[VersionValues];
    private readonly long[] _sizes = new long[SizeLowerBounds.Length];
    private long _queries;
    private long _edns;
    private long _do;
    private long _clientSubnet;

    /// <inheritdoc />
    public override string Type => "EdnsCounter";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        _queries++;
        var facts = packet.Facts;
        if (!facts.HasEdns)
        {
            return;
        }

        _edns++;
        _versions[facts.EdnsVersion]++;
        _sizes[Bucket(facts.EdnsUdpPayloadSize)]++;
        if (facts.EdnsDnssecOk)
        {
            _do++;
        }

        if (facts.EdnsClientSubnet)
        {
            _clientSubnet++;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<EdnsCounter>(other);
        _queries += same._queries;
        _edns += same._edns;
        _do += same._do;
        _clientSubnet += same._clientSubnet;
        CounterSupport.Add(_versions, same._versions);
        CounterSupport.Add(_sizes, same._sizes);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("queries"u8, _queries);
        writer.WriteNumber("edns"u8, _edns);
        writer.WriteNumber("noEdns"u8, _queries - _edns);
        writer.WritePropertyName("versions"u8);
        CounterSupport.WriteByCountThenKey(writer, _versions, CounterSupport.Decimal);
        writer.WriteNumber("do"u8, _do);
        writer.WriteNumber("clientSubnet"u8, _clientSubnet);
        writer.WritePropertyName("udpSize"u8);
        writer.WriteStartObject();
        writer.WriteNumber("<512"u8, _sizes[0]);
        writer.WriteNumber("512-1231"u8, _sizes[1]);
        writer.WriteNumber("1232"u8, _sizes[2]);
        writer.WriteNumber("1233-4095"u8, _sizes[3]);
        writer.WriteNumber(">=4096"u8, _sizes[4]);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, queries, edns, do, clientSubnet, {version: count}, {sizeBucket: count}]</c>: the counters, the non-zero
    /// counts by EDNS version, and by UDP size bucket (0 = "&lt;512" .. 4 = "&gt;=4096").
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(7);
        writer.Write(1);
        writer.Write(_queries);
        writer.Write(_edns);
        writer.Write(_do);
        writer.Write(_clientSubnet);
        CounterSupport.WriteCounts(ref writer, _versions);
        CounterSupport.WriteCounts(ref writer, _sizes);
    }

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 7, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _queries = StateReading.Count(ref reader, Type, "queries");
        _edns = StateReading.Count(ref reader, Type, "edns");
        _do = StateReading.Count(ref reader, Type, "do");
        _clientSubnet = StateReading.Count(ref reader, Type, "clientSubnet");
        CounterSupport.ReadCounts(ref reader, _versions, Type, "versions");
        CounterSupport.ReadCounts(ref reader, _sizes, Type, "udpSize");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset()
    {
        _queries = 0;
        _edns = 0;
        _do = 0;
        _clientSubnet = 0;
        Array.Clear(_versions);
        Array.Clear(_sizes);
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new EdnsCounter();

    private static int Bucket(ushort size)
    {
        int bucket = 0;
        while (bucket + 1 < SizeLowerBounds.Length && size >= SizeLowerBounds[bucket + 1])
        {
            bucket++;
        }

        return bucket;
    }
}
