using System.Globalization;
using System.Text.Json;
using MessagePack;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;
using RataDns.Reducers;

namespace RataDns.Examples.CustomReducer;

/// <summary>
/// QueriesByLabelCount: the questions of queries (QR = 0) by how many labels their QNAME has, e.g. for the
/// default <c>MaxLabels</c> of 10:
/// <code>
/// {"queries": 120, "questions": 120,
///  "labels": {"0": 1, "1": 0, "2": 40, "3": 70, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 0, "10+": 9}}
/// </code>
/// <c>www.example.com.</c> has 3 labels, the root <c>.</c> has 0. Long names (many labels) are typical of
/// tunnelling over DNS and of random-subdomain floods. <c>queries</c> counts query messages, <c>questions</c> the
/// questions read from them (every question of a message; in a malformed question section the ones before the
/// fault), so the <c>labels</c> counts add up to <c>questions</c>. All buckets are always written, in order.
/// <para>
/// Option <c>MaxLabels</c> (1 to 127, default 10): the last bucket, <c>"MaxLabels+"</c>, holds the names with that
/// many labels or more. Exact: one counter per bucket, no allocation in <see cref="Observe"/>.
/// </para>
/// </summary>
public sealed class QueriesByLabelCount : Reducer
{
    /// <summary>The configuration key of the last bucket's label count.</summary>
    public const string MaxLabelsOption = "MaxLabels";

    /// <summary><c>MaxLabels</c> when the configuration does not give it.</summary>
    public const int DefaultMaxLabels = 10;

    /// <summary>The most labels a name can have: 127 one-byte labels and the root fill 255 bytes (RFC 1035 3.1).</summary>
    public const int MostLabels = 127;

    private readonly long[] _counts;
    private readonly string[] _keys;
    private long _queries;
    private long _questions;

    /// <summary>Made by <c>ratadns monitor</c> for a configuration entry <c>{"Name": "QueriesByLabelCount", "MaxLabels": 8, ...}</c>.</summary>
    /// <exception cref="ConfigurationException">An unknown option, or <c>MaxLabels</c> out of range (the message names the key).</exception>
    public QueriesByLabelCount(ReducerConfiguration configuration)
        : this(ReadMaxLabels(configuration))
    {
    }

    /// <summary>A reducer whose last bucket is <paramref name="maxLabels"/> labels or more.</summary>
    public QueriesByLabelCount(int maxLabels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLabels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLabels, MostLabels);
        MaxLabels = maxLabels;

        // Everything Observe needs is allocated here, once; the bucket names too, since WriteData would otherwise
        // format them at every window.
        _counts = new long[maxLabels + 1];
        _keys = new string[maxLabels + 1];
        for (int i = 0; i < maxLabels; i++)
        {
            _keys[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        _keys[maxLabels] = maxLabels.ToString(CultureInfo.InvariantCulture) + "+";
    }

    /// <summary>The label count of the last bucket (which holds that many labels or more).</summary>
    public int MaxLabels { get; }

    /// <inheritdoc />
    public override string Type => "QueriesByLabelCount";

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        _queries++;

        // The reader and the questions are ref structs over the packet's bytes: nothing here touches the heap.
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out var question))
        {
            _questions++;
            _counts[Math.Min(question.Name.LabelCount, MaxLabels)]++;
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<QueriesByLabelCount>(other);
        if (same.MaxLabels != MaxLabels)
        {
            throw new ArgumentException($"Cannot merge MaxLabels {same.MaxLabels} into MaxLabels {MaxLabels}.", nameof(other));
        }

        _queries += same._queries;
        _questions += same._questions;
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += same._counts[i];
        }
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("queries"u8, _queries);
        writer.WriteNumber("questions"u8, _questions);
        writer.WriteStartObject("labels"u8);
        for (int i = 0; i < _counts.Length; i++)
        {
            writer.WriteNumber(_keys[i], _counts[i]);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Results carry the state below, so an aggregator merges windows and monitors exactly.</summary>
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, queries, questions, {labels: count}]</c>: a layout number first (a later version of the plugin that
    /// changes the layout writes 2 and can still read 1), the counters, then the non-zero buckets by label count
    /// (MaxLabels for the last one). MaxLabels itself is an option, so the reader was made with the same one.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(4);
        writer.Write(1);
        writer.Write(_queries);
        writer.Write(_questions);
        int nonZero = 0;
        foreach (long count in _counts)
        {
            nonZero += count != 0 ? 1 : 0;
        }

        writer.WriteMapHeader(nonZero);
        for (int i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                writer.Write(i);
                writer.Write(_counts[i]);
            }
        }
    }

    /// <summary>
    /// Reads what <see cref="WriteState"/> wrote. The bytes come from the network: the number of buckets is checked
    /// against this instance's before anything is looped over, and every bucket index against the array.
    /// </summary>
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 4, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _queries = StateReading.Count(ref reader, Type, "queries");
        _questions = StateReading.Count(ref reader, Type, "questions");
        int buckets = reader.ReadMapHeader();
        if ((uint)buckets > (uint)_counts.Length)
        {
            throw new InvalidDataException($"{Type} state: {buckets} buckets; MaxLabels {MaxLabels} has {_counts.Length}.");
        }

        for (int i = 0; i < buckets; i++)
        {
            int labels = reader.ReadInt32();
            if ((uint)labels >= (uint)_counts.Length || _counts[labels] != 0)
            {
                throw new InvalidDataException($"{Type} state: bucket {labels} is out of range or repeated.");
            }

            _counts[labels] = StateReading.Count(ref reader, Type, "a bucket");
        }
    }

    /// <summary>Views alone combine by adding numbers key-wise.</summary>
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset()
    {
        Array.Clear(_counts);
        _queries = 0;
        _questions = 0;
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new QueriesByLabelCount(MaxLabels);

    private static int ReadMaxLabels(ReducerConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.RejectUnknownOptions(MaxLabelsOption);
        return configuration.GetInt32Option(MaxLabelsOption, DefaultMaxLabels, 1, MostLabels);
    }
}
