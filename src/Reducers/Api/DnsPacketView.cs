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
    // Where the message's facts are cached for every reducer of this message (null: computed on each request).
    private readonly ref DnsMessageFacts _facts;

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
    /// As the view from plain values, with a place to cache <see cref="Facts"/> so the message is walked once for all
    /// reducers (the engine gives each message one); <paramref name="facts"/> must be <c>default</c> (not yet
    /// computed) for a new message.
    /// </summary>
    public DnsPacketView(
        ReadOnlySpan<byte> message,
        long timestampNanoseconds,
        TransportProtocol transport,
        ReadOnlySpan<byte> sourceAddress,
        ushort sourcePort,
        ReadOnlySpan<byte> destinationAddress,
        ushort destinationPort,
        ref DnsMessageFacts facts)
        : this(message, timestampNanoseconds, transport, sourceAddress, sourcePort, destinationAddress, destinationPort)
    {
        _facts = ref facts;
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

    public TransportProtocol Transport { get; }

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
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref _facts))
            {
                return DnsMessageFacts.Compute(Message);
            }

            if (!_facts.Computed)
            {
                _facts = DnsMessageFacts.Compute(Message);
            }

            return _facts;
        }
    }

    /// <summary>A reader positioned after the header: questions, then records. Allocates nothing.</summary>
    public DnsMessageReader CreateReader() => new(Message);
}
