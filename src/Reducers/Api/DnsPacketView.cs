using System.Runtime.CompilerServices;
using RataDns.DnsWire;

namespace RataDns.Reducers;

/// <summary>
/// What a reducer sees of one DNS message: the message bytes, its header, the addresses and ports that carried it
/// and its capture time, in DnsWire's terms only (a plugin author needs no capture types). A zero-copy view: every
/// span points into the frame (or reassembly buffer), so it is only
/// valid during <see cref="Reducer.Observe(in DnsPacketView)"/>; a reducer that keeps anything copies it.
/// </summary>
public readonly ref struct DnsPacketView
{
    // Where what reducers share is kept for every reducer of this message (null: computed on each request).
    private readonly ref DnsPacketCache _cache;

    /// <summary>
    /// A view from plain values (tests, synthetic traffic). The addresses are 4 (IPv4) or 16 (IPv6) bytes;
    /// <see cref="IpVersion"/> follows from the source address length.
    /// </summary>
    public DnsPacketView(
        ReadOnlySpan<byte> message,
        long timestampNanoseconds,
        TransportProtocol transport,
        ReadOnlySpan<byte> sourceAddress,
        ushort sourcePort,
        ReadOnlySpan<byte> destinationAddress,
        ushort destinationPort)
    {
        Message = message;
        TimestampNanoseconds = timestampNanoseconds;
        Transport = transport;
        SourceAddress = sourceAddress;
        SourcePort = sourcePort;
        DestinationAddress = destinationAddress;
        DestinationPort = destinationPort;
        IpVersion = sourceAddress.Length == 16 ? (byte)6 : (byte)4;
        HeaderBytes = Math.Min(message.Length, DnsHeader.Size);
        Header = message.Length >= DnsHeader.Size ? DnsHeader.Read(message) : DnsHeader.ReadPartial(message);
    }

    /// <summary>
    /// As the view from plain values, with a place to keep <see cref="Facts"/> and the first question so the message is
    /// read once for all reducers (the engine gives each message one); <paramref name="cache"/> must be cleared
    /// (<see cref="DnsPacketCache.Clear"/>) for a new message.
    /// </summary>
    public DnsPacketView(
        ReadOnlySpan<byte> message,
        long timestampNanoseconds,
        TransportProtocol transport,
        ReadOnlySpan<byte> sourceAddress,
        ushort sourcePort,
        ReadOnlySpan<byte> destinationAddress,
        ushort destinationPort,
        ref DnsPacketCache cache)
        : this(message, timestampNanoseconds, transport, sourceAddress, sourcePort, destinationAddress, destinationPort)
    {
        _cache = ref cache;
    }

    /// <summary>The DNS message (for TCP, without its 2-byte length prefix).</summary>
    public ReadOnlySpan<byte> Message { get; }

    /// <summary>The header; only the fields inside <see cref="HeaderBytes"/> are real (all of them when 12).</summary>
    public DnsHeader Header { get; }

    /// <summary>12, or fewer for a message shorter than a header (id needs 2 bytes, flags 4).</summary>
    public int HeaderBytes { get; }

    /// <summary>QR = 1: a response ("answer" in RaTA DNS terms). False when the flags were not captured.</summary>
    public bool IsResponse => HeaderBytes >= 3 && Header.IsResponse;

    /// <summary>QR = 0: a query. False when the flags were not captured.</summary>
    public bool IsQuery => HeaderBytes >= 3 && !Header.IsResponse;

    /// <summary>The transport that carried the message: UDP or TCP (for an encrypted transport, the one under it).</summary>
    public TransportProtocol Transport { get; }

    /// <summary>
    /// The encrypted transport the message travelled over, when the source knows it (dnstap's <c>socket_protocol</c>);
    /// <see cref="EncryptedTransport.None"/> for plain DNS and for every captured packet.
    /// </summary>
    public EncryptedTransport Encryption { get; init; }

    /// <summary>
    /// For a response the server itself reported (dnstap), when the server received the query it answers, in
    /// nanoseconds since the Unix epoch: the server's own latency is <see cref="TimestampNanoseconds"/> minus this.
    /// 0 when unknown (every captured packet, queries, and dnstap responses without a query time).
    /// </summary>
    public long ServerQueryTimeNanoseconds { get; init; }

    /// <summary>4 or 6.</summary>
    public byte IpVersion { get; }

    /// <summary>4 or 16 bytes.</summary>
    public ReadOnlySpan<byte> SourceAddress { get; }

    /// <summary>4 or 16 bytes.</summary>
    public ReadOnlySpan<byte> DestinationAddress { get; }

    public ushort SourcePort { get; }

    public ushort DestinationPort { get; }

    /// <summary>Capture time in nanoseconds since the Unix epoch (packet time, not wall-clock time).</summary>
    public long TimestampNanoseconds { get; }

    /// <summary>
    /// The whole-message facts (parse status, EDNS), computed on first use and shared by every reducer of this
    /// message when the view has a cache (the engine gives it one); computed on each use otherwise.
    /// </summary>
    public DnsMessageFacts Facts
    {
        get
        {
            if (Unsafe.IsNullRef(ref _cache))
            {
                return DnsMessageFacts.Compute(Message);
            }

            if (!_cache.Facts.Computed)
            {
                _cache.Facts = DnsMessageFacts.Compute(Message);
            }

            return _cache.Facts;
        }
    }

    /// <summary>
    /// The message's first question, read once for every reducer of the message: its name lowercased in wire form,
    /// the name's <see cref="KeyHash"/>, type and class. Returns <see cref="QuestionShape.One"/> for the usual single
    /// question; <see cref="QuestionShape.None"/> when no question could be read (<paramref name="question"/> is then
    /// empty); <see cref="QuestionShape.Several"/> when there are more questions than the first (a reducer that counts
    /// every question reads them with <see cref="CreateReader"/>), and always from a view without a cache, whose
    /// <paramref name="question"/> is then empty: such a reducer's own reading is the reference this shortcut
    /// agrees with.
    /// </summary>
    public QuestionShape ReadQuestion(out SharedQuestion question)
    {
        if (Unsafe.IsNullRef(ref _cache))
        {
            question = default;
            return QuestionShape.Several;
        }

        ref var slot = ref _cache.Question;
        if (slot.Shape == QuestionShape.Unread)
        {
            ReadFirstQuestion(Message, ref slot);
        }

        question = slot.Shape == QuestionShape.None
            ? default
            : new SharedQuestion(((ReadOnlySpan<byte>)slot.Name)[..slot.NameLength], slot.NameHash, slot.Type, slot.Class);
        return slot.Shape;
    }

    /// <summary>A reader positioned after the header: questions, then records. Allocates nothing.</summary>
    public DnsMessageReader CreateReader() => new(Message);

    private static void ReadFirstQuestion(ReadOnlySpan<byte> message, ref DnsPacketCache.QuestionSlot slot)
    {
        var reader = new DnsMessageReader(message);
        if (!reader.TryReadQuestion(out DnsQuestion first))
        {
            slot.Shape = QuestionShape.None;
            return;
        }

        Span<byte> name = slot.Name;
        slot.NameLength = first.Name.CopyWireFormTo(name, lowerCase: true);
        slot.NameHash = KeyHash.Of(name[..slot.NameLength]);
        slot.Type = first.Type;
        slot.Class = first.Class;
        slot.Shape = reader.Header.QuestionCount > 1 ? QuestionShape.Several : QuestionShape.One;
    }
}
