using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.Counters;
using RataDns.Reducers.Original;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Extended;

/// <summary>
/// MalformedCounter: every message is read to its end with <see cref="DnsMessageReader"/> (header, questions and
/// all records, RDATA validated) and counted by its <see cref="DnsParseStatus"/>, named as <c>ratadns serialize</c>
/// names it in <c>"malformed":{"reason",...}</c> (<see cref="DnsParseStatusNames"/>: "ok", "truncated",
/// "count_exceeds_payload", "bad_label_type", "name_too_long", "forward_pointer", "pointer_loop", "rdata_overrun",
/// "bad_rdata"):
/// <c>{"total": n, "malformed": n, "reasons": {"truncated": {"count": n, "examples": [...]}, ...}}</c>.
/// Only reasons seen are written, in the enum's order ("ok" first); "ok" never has examples.
/// <para>
/// Each malformed reason keeps up to <c>Examples</c> (option, 0..100, default 3) examples
/// <c>{"client", "qname", "offset", "section", "size"}</c>: the client address (a query's source, a response's
/// destination, the source when the flags were not captured), the first question's name if it could be read
/// (omitted otherwise; written as received, case kept), the reader's fault offset and section, and the message
/// size. Examples are copied into buffers preallocated at construction, so Observe allocates nothing. The kept
/// examples are the earliest by packet time (ties: the one observed, or merged in, first), so merging partials in
/// any order keeps the same examples as one reducer that saw the traffic in time order.
/// </para>
/// </summary>
public sealed class MalformedCounter : Reducer
{
    public const int DefaultExamples = 3;
    public const int MaxExamples = 100;

    private const int ReasonCount = (int)DnsParseStatus.BadRdata + 1;
    private const int AddressBytes = 16;
    private const int NoName = -1;

    private readonly int _examplesPerReason;
    private readonly long[] _counts = new long[ReasonCount];

    // Examples: slot = reason * _examplesPerReason + i, for i < _exampleCounts[reason].
    private readonly int[] _exampleCounts = new int[ReasonCount];
    private readonly long[] _exampleTimes;
    private readonly byte[] _exampleAddresses;
    private readonly byte[] _exampleAddressLengths;
    private readonly byte[] _exampleNames;
    private readonly short[] _exampleNameLengths;
    private readonly int[] _exampleOffsets;
    private readonly DnsSection[] _exampleSections;
    private readonly int[] _exampleSizes;

    public MalformedCounter(int examplesPerReason = DefaultExamples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(examplesPerReason);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(examplesPerReason, MaxExamples);
        _examplesPerReason = examplesPerReason;
        int slots = ReasonCount * examplesPerReason;
        _exampleTimes = new long[slots];
        _exampleAddresses = new byte[slots * AddressBytes];
        _exampleAddressLengths = new byte[slots];
        _exampleNames = new byte[slots * DnsName.MaxWireLength];
        _exampleNameLengths = new short[slots];
        _exampleOffsets = new int[slots];
        _exampleSections = new DnsSection[slots];
        _exampleSizes = new int[slots];
    }

    /// <inheritdoc />
    public override string Type => "MalformedCounter";

    /// <summary>The most examples kept per reason.</summary>
    public int ExamplesPerReason => _examplesPerReason;

    /// <summary>Messages counted with <paramref name="status"/> in this window.</summary>
    public long Count(DnsParseStatus status) => _counts[(int)status];

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        var facts = packet.Facts;
        DnsParseStatus status = facts.Status;
        int reason = (int)status;
        if ((uint)reason >= ReasonCount)
        {
            return;
        }

        _counts[reason]++;
        if (status == DnsParseStatus.Ok)
        {
            return;
        }

        int slot = ClaimSlot(reason, packet.TimestampNanoseconds);
        if (slot < 0)
        {
            return;
        }

        var reader = packet.CreateReader();
        bool hasName = reader.TryReadQuestion(out DnsQuestion first);

        ReadOnlySpan<byte> client = packet.IsResponse ? packet.DestinationAddress : packet.SourceAddress;
        client = client[..Math.Min(client.Length, AddressBytes)];
        client.CopyTo(_exampleAddresses.AsSpan(slot * AddressBytes));
        _exampleAddressLengths[slot] = (byte)client.Length;
        _exampleNameLengths[slot] = hasName
            ? (short)first.Name.CopyWireFormTo(_exampleNames.AsSpan(slot * DnsName.MaxWireLength, DnsName.MaxWireLength))
            : (short)NoName;
        _exampleOffsets[slot] = facts.FaultOffset;
        _exampleSections[slot] = facts.FaultSection;
        _exampleSizes[slot] = packet.Message.Length;
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<MalformedCounter>(other);
        if (same._examplesPerReason != _examplesPerReason)
        {
            throw new ArgumentException($"Cannot merge a {Type} keeping {same._examplesPerReason} examples into one keeping {_examplesPerReason}.", nameof(other));
        }

        for (int reason = 0; reason < ReasonCount; reason++)
        {
            _counts[reason] += same._counts[reason];
            for (int i = 0; i < same._exampleCounts[reason]; i++)
            {
                int from = (reason * _examplesPerReason) + i;
                int slot = ClaimSlot(reason, same._exampleTimes[from]);
                if (slot >= 0)
                {
                    CopyExample(same, from, slot);
                }
            }
        }
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        long total = 0;
        foreach (long count in _counts)
        {
            total += count;
        }

        writer.WriteStartObject();
        writer.WriteNumber("total"u8, total);
        writer.WriteNumber("malformed"u8, total - _counts[(int)DnsParseStatus.Ok]);
        writer.WriteStartObject("reasons"u8);
        for (int reason = 0; reason < ReasonCount; reason++)
        {
            if (_counts[reason] == 0)
            {
                continue;
            }

            writer.WriteStartObject(DnsParseStatusNames.Name((DnsParseStatus)reason));
            writer.WriteNumber("count"u8, _counts[reason]);
            writer.WriteStartArray("examples"u8);
            for (int i = 0; i < _exampleCounts[reason]; i++)
            {
                WriteExample(writer, (reason * _examplesPerReason) + i);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, {reason: count}, [[reason, time, client, qname, offset, section, size], ...]]</c>: the non-zero counts by
    /// <see cref="DnsParseStatus"/> value, then the kept examples, per reason by time: packet time in nanoseconds,
    /// the client's address bytes (bin), the first question's name in wire form as received (bin, or nil), the
    /// fault's offset, its <see cref="DnsSection"/> value, the message size.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(3);
        writer.Write(1);
        CounterSupport.WriteCounts(ref writer, _counts);
        int examples = 0;
        foreach (int held in _exampleCounts)
        {
            examples += held;
        }

        writer.WriteArrayHeader(examples);
        for (int reason = 0; reason < ReasonCount; reason++)
        {
            for (int i = 0; i < _exampleCounts[reason]; i++)
            {
                int slot = (reason * _examplesPerReason) + i;
                writer.WriteArrayHeader(7);
                writer.Write(reason);
                writer.Write(_exampleTimes[slot]);
                writer.Write(_exampleAddresses.AsSpan(slot * AddressBytes, _exampleAddressLengths[slot]));
                if (_exampleNameLengths[slot] == NoName)
                {
                    writer.WriteNil();
                }
                else
                {
                    writer.Write(_exampleNames.AsSpan(slot * DnsName.MaxWireLength, _exampleNameLengths[slot]));
                }

                writer.Write(_exampleOffsets[slot]);
                writer.Write((int)_exampleSections[slot]);
                writer.Write(_exampleSizes[slot]);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">Also for more examples of a reason than this instance keeps or than
    /// the reason's count, an example of "ok", an address longer than 16 bytes, a name not in wire form.</exception>
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 3, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        CounterSupport.ReadCounts(ref reader, _counts, Type, "reasons");
        int examples = StateReading.ArrayHeader(ref reader, ReasonCount * _examplesPerReason, Type, "examples");
        Span<byte> address = stackalloc byte[AddressBytes];
        Span<byte> name = stackalloc byte[DnsName.MaxWireLength];
        for (int e = 0; e < examples; e++)
        {
            StateReading.ExactArrayHeader(ref reader, 7, Type, "items of an example");
            int reason = reader.ReadInt32();
            if (reason <= (int)DnsParseStatus.Ok || reason >= ReasonCount)
            {
                throw new InvalidDataException($"{Type} state: an example of reason {reason}; examples are of 1..{ReasonCount - 1}.");
            }

            if (_exampleCounts[reason] >= Math.Min(_examplesPerReason, _counts[reason]))
            {
                throw new InvalidDataException($"{Type} state: more examples of reason {reason} than kept or counted.");
            }

            long time = reader.ReadInt64();
            int addressLength = StateReading.Bytes(ref reader, address, AddressBytes, Type, "an example's client");
            int nameLength = NoName;
            if (!reader.TryReadNil())
            {
                nameLength = StateReading.Bytes(ref reader, name, DnsName.MaxWireLength, Type, "an example's qname");
                if (!StateKeys.IsWireName(name[..nameLength]))
                {
                    throw new InvalidDataException($"{Type} state: an example's qname is not a name in wire form.");
                }
            }

            int offset = reader.ReadInt32();
            int section = reader.ReadInt32();
            int size = reader.ReadInt32();
            if ((uint)section > (uint)DnsSection.End || offset < 0 || size < 0)
            {
                throw new InvalidDataException($"{Type} state: an example with section {section}, offset {offset}, size {size}.");
            }

            int slot = ClaimSlot(reason, time);
            address[..addressLength].CopyTo(_exampleAddresses.AsSpan(slot * AddressBytes));
            _exampleAddressLengths[slot] = (byte)addressLength;
            name[..Math.Max(nameLength, 0)].CopyTo(_exampleNames.AsSpan(slot * DnsName.MaxWireLength));
            _exampleNameLengths[slot] = (short)nameLength;
            _exampleOffsets[slot] = offset;
            _exampleSections[slot] = (DnsSection)section;
            _exampleSizes[slot] = size;
        }
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.Additive;

    /// <inheritdoc />
    public override void Reset()
    {
        Array.Clear(_counts);
        Array.Clear(_exampleCounts);
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new MalformedCounter(_examplesPerReason);

    /// <summary>
    /// The slot for a new example of <paramref name="reason"/> at <paramref name="time"/>, keeping the slots of a
    /// reason sorted by time (equal times: earlier arrival first): -1 when the reason is full of examples no later
    /// than it; otherwise later examples shift down one (the latest drops out when full).
    /// </summary>
    private int ClaimSlot(int reason, long time)
    {
        int first = reason * _examplesPerReason;
        int held = _exampleCounts[reason];
        int at = held;
        while (at > 0 && _exampleTimes[first + at - 1] > time)
        {
            at--;
        }

        if (at == _examplesPerReason)
        {
            return -1;
        }

        int last = held == _examplesPerReason ? held - 1 : held;
        for (int i = last; i > at; i--)
        {
            CopyExample(this, first + i - 1, first + i);
        }

        _exampleCounts[reason] = Math.Max(held, last + 1);
        _exampleTimes[first + at] = time;
        return first + at;
    }

    private void CopyExample(MalformedCounter source, int from, int to)
    {
        _exampleTimes[to] = source._exampleTimes[from];
        source._exampleAddresses.AsSpan(from * AddressBytes, AddressBytes).CopyTo(_exampleAddresses.AsSpan(to * AddressBytes));
        _exampleAddressLengths[to] = source._exampleAddressLengths[from];
        source._exampleNames.AsSpan(from * DnsName.MaxWireLength, DnsName.MaxWireLength)
            .CopyTo(_exampleNames.AsSpan(to * DnsName.MaxWireLength));
        _exampleNameLengths[to] = source._exampleNameLengths[from];
        _exampleOffsets[to] = source._exampleOffsets[from];
        _exampleSections[to] = source._exampleSections[from];
        _exampleSizes[to] = source._exampleSizes[from];
    }

    private void WriteExample(Utf8JsonWriter writer, int slot)
    {
        writer.WriteStartObject();
        writer.WriteString("client"u8, TopClientsReducer.FormatAddress(_exampleAddresses.AsSpan(slot * AddressBytes, _exampleAddressLengths[slot])));
        if (_exampleNameLengths[slot] != NoName)
        {
            writer.WriteString("qname"u8, ReducerText.FormatWireName(_exampleNames.AsSpan(slot * DnsName.MaxWireLength, _exampleNameLengths[slot])));
        }

        writer.WriteNumber("offset"u8, _exampleOffsets[slot]);
        writer.WriteString("section"u8, DnsParseStatusNames.Name(_exampleSections[slot]));
        writer.WriteNumber("size"u8, _exampleSizes[slot]);
        writer.WriteEndObject();
    }
}
