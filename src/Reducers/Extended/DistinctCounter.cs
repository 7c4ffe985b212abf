using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;
using RataDns.Reducers.Summaries;

namespace RataDns.Reducers.Extended;

/// <summary>
/// DistinctCounter: estimates of the number of distinct question names (lowercased, every question of a query)
/// and of distinct client addresses (query sources) per window, with two <see cref="HyperLogLog"/> sketches:
/// <c>{"qnames": n, "clients": n, "precision": p, "relativeError": 1.04 / sqrt(2^p)}</c>.
/// <para>
/// Option <c>Precision</c> (p, 4..16, default 14: 2^14 one-byte registers per sketch, standard error 0.81 %).
/// "relativeError" is the sketch's standard error relative to the true count; small counts (below about 3·2^p)
/// use linear counting and are much closer. Merging is the register-wise maximum, which is exactly the sketch of
/// the union, so merged partials give the same estimate as one reducer that saw all the traffic. Partials share
/// the hash seed of the reducer they were made from (<see cref="Reducer.CreateEmpty"/>); sketches with different
/// seeds cannot be merged. Observe allocates nothing.
/// </para>
/// </summary>
public sealed class DistinctCounter : Reducer
{
    private readonly HyperLogLog _names;
    private readonly HyperLogLog _clients;
    private readonly bool _sketch;

    /// <summary>
    /// The hash seed of reducers made from a configuration without a <c>Seed</c> option: fixed, so results are
    /// reproducible and the sketches of every monitor can be merged by an aggregator. Someone who knows it could
    /// choose names that skew the estimate; a secret <c>Seed</c> (the same on every monitor) prevents that.
    /// </summary>
    public const ulong DefaultSeed = 0x9E3779B97F4A7C15UL;

    /// <param name="precision">p: each sketch has 2^p registers.</param>
    /// <param name="seed">The hash seed shared by partials that will be merged; random when omitted.</param>
    /// <param name="sketch">Write the registers in each result (<c>"sketch"</c>), for exact merging downstream.</param>
    public DistinctCounter(int precision = HyperLogLog.DefaultPrecision, ulong? seed = null, bool sketch = false)
    {
        _sketch = sketch;
        ulong key = seed ?? HyperLogLog.NewSeed();
        _names = new HyperLogLog(key, precision);
        _clients = new HyperLogLog(key, precision);
    }

    /// <inheritdoc />
    public override string Type => "DistinctCounter";

    /// <summary>p: log2 of the registers per sketch.</summary>
    public int Precision => _names.Precision;

    /// <summary>The estimated distinct question names so far in this window.</summary>
    public double EstimatedNames => _names.Estimate();

    /// <summary>The estimated distinct clients so far in this window.</summary>
    public double EstimatedClients => _clients.Estimate();

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (!packet.IsQuery)
        {
            return;
        }

        _clients.Add(packet.SourceAddress);
        var shape = packet.ReadQuestion(out var first);
        if (shape == QuestionShape.One)
        {
            _names.Add(first.LowercaseName);
            return;
        }

        if (shape == QuestionShape.Several)
        {
            AddEveryName(in packet);
        }
    }

    private void AddEveryName(in DnsPacketView packet)
    {
        Span<byte> key = stackalloc byte[DnsName.MaxWireLength];
        var reader = packet.CreateReader();
        while (reader.TryReadQuestion(out DnsQuestion question))
        {
            int n = question.Name.CopyWireFormTo(key, lowerCase: true);
            _names.Add(key[..n]);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<DistinctCounter>(other);
        _names.Merge(same._names);
        _clients.Merge(same._clients);
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("qnames"u8, (long)Math.Round(_names.Estimate()));
        writer.WriteNumber("clients"u8, (long)Math.Round(_clients.Estimate()));
        writer.WriteNumber("precision"u8, _names.Precision);
        writer.WriteNumber("relativeError"u8, _names.StandardError);
        if (_sketch)
        {
            // The registers themselves, so an aggregator can merge windows and monitors exactly (register-wise max).
            writer.WriteStartObject("sketch"u8);
            writer.WriteString("seed"u8, _names.Seed.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteBase64String("qnames"u8, _names.Registers);
            writer.WriteBase64String("clients"u8, _clients.Registers);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, precision, seed, qnameRegisters, clientRegisters]</c>: the sketches' precision p and hash seed (an
    /// unsigned 64-bit integer), then each sketch's 2^p registers as bin. The view's "sketch" option does not change it.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(5);
        writer.Write(1);
        writer.Write(_names.Precision);
        writer.Write(_names.Seed);
        writer.Write(_names.Registers);
        writer.Write(_clients.Registers);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">Also when the state's precision or seed is not this instance's: such
    /// sketches do not merge.</exception>
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 5, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        int precision = reader.ReadInt32();
        if (precision != _names.Precision)
        {
            throw new InvalidDataException($"{Type} state: precision {precision}; this instance's is {_names.Precision}.");
        }

        ulong seed = reader.ReadUInt64();
        if (seed != _names.Seed)
        {
            throw new InvalidDataException($"{Type} state: another hash seed than this instance's (configure the same Seed everywhere).");
        }

        ReadRegisters(ref reader, _names, "qnames");
        ReadRegisters(ref reader, _clients, "clients");
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.DistinctEstimates;

    private void ReadRegisters(ref MessagePackReader reader, HyperLogLog into, string what)
    {
        System.Buffers.ReadOnlySequence<byte>? read;
        try
        {
            read = reader.ReadBytes();
        }
        catch (ArgumentOutOfRangeException)
        {
            // MessagePack slices the declared length before checking it against what remains.
            throw new InvalidDataException($"{Type} state: the {what} registers declare more bytes than remain.");
        }

        var bytes = read ?? throw new InvalidDataException($"{Type} state: the {what} registers are nil.");
        if (bytes.Length != into.Registers.Length)
        {
            throw new InvalidDataException($"{Type} state: {bytes.Length} {what} registers; a sketch of precision {into.Precision} has {into.Registers.Length}.");
        }

        try
        {
            into.Merge(HyperLogLog.FromRegisters(into.Seed, System.Buffers.BuffersExtensions.ToArray(bytes)));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{Type} state: the {what} registers: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override void Reset()
    {
        _names.Reset();
        _clients.Reset();
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new DistinctCounter(_names.Precision, _names.Seed, _sketch);
}
