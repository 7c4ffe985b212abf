using System.Text.Json;
using MessagePack;

namespace RataDns.Reducers.Counters;

/// <summary>
/// MessageSizeHistogram: DNS message sizes in bytes (for TCP without the 2-byte length prefix; no IP or UDP
/// headers), queries and responses separately,
/// <c>{"queries": {"0-63": n, "64-127": n, ..., "4096+": n}, "responses": {...}}</c>. The buckets are fixed
/// (0-63, 64-127, 128-255, 256-511, 512-1023, 1024-1231, 1232-1499, 1500-4095, 4096+) and always all written, in
/// that order, zeros included. A message shorter than 3 bytes (neither query nor response) is not counted.
/// </summary>
public sealed class MessageSizeHistogram : Reducer
{
    private static readonly int[] LowerBounds = [0, 64, 128, 256, 512, 1024, 1232, 1500, 4096];

    private static readonly string[] Labels =
        ["0-63", "64-127", "128-255", "256-511", "512-1023", "1024-1231", "1232-1499", "1500-4095", "4096+"];

    private readonly long[] _queries = new long[LowerBounds.Length];
    private readonly long[] _responses = new long[LowerBounds.Length];

    /// <inheritdoc />
    public override string Type => "MessageSizeHistogram";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.IsQuery)
        {
            _queries[Bucket(packet.Message.Length)]++;
        }
        else if (packet.IsResponse)
        {
            _responses[Bucket(packet.Message.Length)]++;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<MessageSizeHistogram>(other);
        CounterSupport.Add(_queries, same._queries);
        CounterSupport.Add(_responses, same._responses);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WritePropertyName("queries"u8);
        WriteBuckets(writer, _queries);
        writer.WritePropertyName("responses"u8);
        WriteBuckets(writer, _responses);
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, {bucket: count}, {bucket: count}]</c>: the non-zero buckets (0 = "0-63" .. 8 = "4096+") of queries,
    /// then of responses.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer) => CounterSupport.WriteQueriesAndResponses(ref writer, _queries, _responses);

    /// <inheritdoc />
    public override void ReadState(ref MessagePackReader reader) => CounterSupport.ReadQueriesAndResponses(ref reader, _queries, _responses, Type);

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset()
    {
        Array.Clear(_queries);
        Array.Clear(_responses);
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new MessageSizeHistogram();

    private static int Bucket(int size)
    {
        int bucket = 0;
        while (bucket + 1 < LowerBounds.Length && size >= LowerBounds[bucket + 1])
        {
            bucket++;
        }

        return bucket;
    }

    private static void WriteBuckets(Utf8JsonWriter writer, long[] counts)
    {
        writer.WriteStartObject();
        for (int i = 0; i < counts.Length; i++)
        {
            writer.WriteNumber(Labels[i], counts[i]);
        }

        writer.WriteEndObject();
    }
}
