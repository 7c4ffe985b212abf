using RataDns.DnsWire;

namespace RataDns.Reducers;

/// <summary>
/// What one walk over a whole message tells (its parse status and first fault, and its EDNS OPT record), computed
/// once per message and shared by every reducer that needs it (<see cref="DnsPacketView.Facts"/>), instead of each
/// reducer walking the records again.
/// </summary>
public struct DnsMessageFacts
{
    /// <summary>The status of reading the message to its end (<see cref="DnsMessageReader.ReadToEnd"/>).</summary>
    public DnsParseStatus Status { get; private set; }

    /// <summary>Where the first fault is (when <see cref="Status"/> is not Ok).</summary>
    public DnsSection FaultSection { get; private set; }

    public int FaultOffset { get; private set; }

    /// <summary>
    /// The first OPT record of the additional section was found before any fault, with well-formed options (as
    /// RFC 6891 6.1.1 reads it: later OPT records are ignored).
    /// </summary>
    public bool HasEdns { get; private set; }

    public byte EdnsVersion { get; private set; }

    public ushort EdnsUdpPayloadSize { get; private set; }

    public bool EdnsDnssecOk { get; private set; }

    /// <summary>The OPT record's upper 8 bits of the extended RCODE (0 without EDNS).</summary>
    public byte EdnsExtendedRcodeHigh { get; private set; }

    /// <summary>The OPT record carries an EDNS Client Subnet option (RFC 7871).</summary>
    public bool EdnsClientSubnet { get; private set; }

    /// <summary>True once <see cref="Compute"/> filled these facts (a default value is "not yet walked").</summary>
    public bool Computed { get; private set; }

    /// <summary>The full RCODE: the header's 4 bits, extended by the OPT record's 8 when there is one (RFC 6891).</summary>
    public readonly int Rcode(in DnsHeader header) => (EdnsExtendedRcodeHigh << 4) | header.Rcode;

    /// <summary>Walks <paramref name="message"/> once, allocating nothing.</summary>
    public static DnsMessageFacts Compute(ReadOnlySpan<byte> message)
    {
        var facts = new DnsMessageFacts { Computed = true };
        var reader = new DnsMessageReader(message);
        bool optSeen = false;
        while (reader.TryReadRecord(out DnsRecord record))
        {
            if (!optSeen && record.Section == DnsSection.Additional && record.Type == DnsRecordType.OPT)
            {
                optSeen = true;
                if (EdnsRecord.TryRead(in record, out var edns))
                {
                    facts.HasEdns = true;
                    facts.EdnsVersion = edns.Version;
                    facts.EdnsUdpPayloadSize = edns.UdpPayloadSize;
                    facts.EdnsDnssecOk = edns.DnssecOk;
                    facts.EdnsExtendedRcodeHigh = edns.ExtendedRcodeHigh;
                    foreach (var option in edns.EnumerateOptions())
                    {
                        if (option.Code == EdnsOptionCode.ClientSubnet)
                        {
                            facts.EdnsClientSubnet = true;
                            break;
                        }
                    }
                }
            }
        }

        facts.Status = reader.Status;
        facts.FaultSection = reader.FaultSection;
        facts.FaultOffset = reader.FaultOffset;
        return facts;
    }
}
