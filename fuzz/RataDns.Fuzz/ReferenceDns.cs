using System.Buffers.Binary;
using System.Text;
using RataDns.DnsWire;

namespace RataDns.Fuzz;

/// <summary>
/// A slow, simple DNS message reader written for the <c>dns</c> fuzz target, straight from RFC 1035 4.1 and the
/// rules <see cref="DnsMessageReader"/> documents: it allocates freely, keeps no cache, walks every name from its
/// start, and formats names with its own escaping. The target asserts that the fast reader agrees with it, and
/// <see cref="Encode"/> writes what it read back out (names uncompressed) for the round-trip check.
/// </summary>
internal static class ReferenceDns
{
    private const int HeaderSize = 12;
    private const int MaxNameLength = 255;
    private const int MaxHops = 64;

    internal sealed record Name(List<byte[]> Labels, int EncodedLength, int WireLength)
    {
        public string Text
        {
            get
            {
                if (Labels.Count == 0)
                {
                    return ".";
                }

                var text = new StringBuilder();
                foreach (byte[] label in Labels)
                {
                    foreach (byte b in label)
                    {
                        if (b is (byte)'.' or (byte)'\\' or (byte)'"' or (byte)'(' or (byte)')' or (byte)';' or (byte)'@' or (byte)'$')
                        {
                            text.Append('\\').Append((char)b);
                        }
                        else if (b is >= 0x21 and <= 0x7E)
                        {
                            text.Append((char)b);
                        }
                        else
                        {
                            text.Append('\\').Append(b.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                        }
                    }

                    text.Append('.');
                }

                return text.ToString();
            }
        }

        public bool SameLabels(Name other) =>
            Labels.Count == other.Labels.Count && Labels.Zip(other.Labels).All(p => p.First.AsSpan().SequenceEqual(p.Second));
    }

    internal sealed record Item(
        DnsSection Section, int Offset, Name Owner, ushort Type, ushort Class, uint Ttl, int RdataOffset, int RdataLength,
        DnsParseStatus? RdataStatus, byte[]? Rdata);

    internal sealed class Message
    {
        public ushort Id { get; init; }
        public ushort Flags { get; init; }
        public ushort[] Counts { get; init; } = new ushort[4];
        public bool ShortHeader { get; init; }
        public List<Item> Items { get; } = [];
        public DnsParseStatus Status { get; set; } = DnsParseStatus.Ok;
        public DnsSection FaultSection { get; set; } = DnsSection.End;
        public int FaultOffset { get; set; } = -1;
        public int Position { get; set; }
        public bool Stopped { get; set; }

        /// <summary>True when some record's RDATA holds names this reader does not decode (NAPTR, RRSIG, NSEC, SVCB):
        /// copying it raw into another message could turn its pointers into nonsense.</summary>
        public bool HasOpaqueNames { get; set; }
    }

    public static Message Read(byte[] m)
    {
        if (m.Length < HeaderSize)
        {
            return new Message
            {
                ShortHeader = true, Status = DnsParseStatus.Truncated, FaultSection = DnsSection.Header,
                FaultOffset = m.Length, Position = m.Length, Stopped = true,
            };
        }

        var message = new Message
        {
            Id = U16(m, 0),
            Flags = U16(m, 2),
            Counts = [U16(m, 4), U16(m, 6), U16(m, 8), U16(m, 10)],
        };
        int pos = HeaderSize;
        DnsSection[] sections = [DnsSection.Question, DnsSection.Answer, DnsSection.Authority, DnsSection.Additional];
        for (int s = 0; s < 4; s++)
        {
            for (int i = 0; i < message.Counts[s]; i++)
            {
                var section = sections[s];
                if (pos >= m.Length)
                {
                    Stop(message, DnsParseStatus.CountExceedsPayload, section, pos);
                    return message;
                }

                var status = ReadName(m, m.Length, pos, out var owner);
                if (status != DnsParseStatus.Ok)
                {
                    Stop(message, status, section, pos);
                    return message;
                }

                int at = pos + owner!.EncodedLength;
                if (section == DnsSection.Question)
                {
                    if (at + 4 > m.Length)
                    {
                        Stop(message, DnsParseStatus.Truncated, section, pos);
                        return message;
                    }

                    message.Items.Add(new Item(section, pos, owner, U16(m, at), U16(m, at + 2), 0, 0, 0, null, null));
                    pos = at + 4;
                    continue;
                }

                if (at + 10 > m.Length)
                {
                    Stop(message, DnsParseStatus.Truncated, section, pos);
                    return message;
                }

                ushort type = U16(m, at);
                int rdLength = U16(m, at + 8);
                int rdOffset = at + 10;
                if (rdLength > m.Length - rdOffset)
                {
                    Stop(message, DnsParseStatus.RdataOverrun, section, pos);
                    return message;
                }

                ushort @class = U16(m, at + 2);
                var (rdataStatus, rdata) = rdLength == 0 && @class is 254 or 255
                    ? (DnsParseStatus.Ok, [])                              // RFC 2136 2.4/2.5: class NONE/ANY, no RDATA
                    : CheckRdata(m, type, rdOffset, rdLength);
                if (rdataStatus == DnsParseStatus.BadRdata && message.Status == DnsParseStatus.Ok)
                {
                    (message.Status, message.FaultSection, message.FaultOffset) = (DnsParseStatus.BadRdata, section, pos);
                }

                message.HasOpaqueNames |= type is DnsRecordType.NAPTR or DnsRecordType.RRSIG or DnsRecordType.NSEC
                    or DnsRecordType.SVCB or DnsRecordType.HTTPS;
                message.Items.Add(new Item(section, pos, owner, type, @class, BinaryPrimitives.ReadUInt32BigEndian(m.AsSpan(at + 4)),
                    rdOffset, rdLength, rdataStatus, rdata));
                pos = rdOffset + rdLength;
            }
        }

        message.Position = pos;
        return message;

        void Stop(Message msg, DnsParseStatus status, DnsSection section, int offset)
        {
            if (msg.Status is DnsParseStatus.Ok or DnsParseStatus.BadRdata)
            {
                (msg.Status, msg.FaultSection, msg.FaultOffset) = (status, section, offset);
            }

            msg.Position = pos;
            msg.Stopped = true;
        }
    }

    /// <summary>
    /// RFC 1035 4.1.4 names with the project's rules: labels of type 01/10 are refused, a name is at most 255 bytes,
    /// every pointer goes strictly before the run of labels that led to it, at most 64 pointers. Reads only bytes
    /// before <paramref name="limit"/>.
    /// </summary>
    public static DnsParseStatus ReadName(byte[] m, int limit, int offset, out Name? name)
    {
        name = null;
        var labels = new List<byte[]>();
        int pos = offset;
        int runStart = offset;
        int encoded = -1;
        int length = 1;
        int hops = 0;
        while (true)
        {
            if (pos >= limit)
            {
                return DnsParseStatus.Truncated;
            }

            int b = m[pos];
            if (b == 0)
            {
                name = new Name(labels, encoded >= 0 ? encoded : pos + 1 - offset, length);
                return DnsParseStatus.Ok;
            }

            if (b < 0x40)
            {
                if (pos + 1 + b > limit)
                {
                    return DnsParseStatus.Truncated;
                }

                length += b + 1;
                if (length > MaxNameLength)
                {
                    return DnsParseStatus.NameTooLong;
                }

                labels.Add(m.AsSpan(pos + 1, b).ToArray());
                pos += 1 + b;
            }
            else if (b >= 0xC0)
            {
                if (pos + 1 >= limit)
                {
                    return DnsParseStatus.Truncated;
                }

                int target = ((b & 0x3F) << 8) | m[pos + 1];
                if (encoded < 0)
                {
                    encoded = pos + 2 - offset;
                }

                if (target >= pos)
                {
                    return DnsParseStatus.ForwardPointer;
                }

                if (target >= runStart || ++hops > MaxHops)
                {
                    return DnsParseStatus.PointerLoop;
                }

                runStart = pos = target;
            }
            else
            {
                return DnsParseStatus.BadLabelType;
            }
        }
    }

    /// <summary>
    /// RDATA layouts of the types this reader knows (RFC 1035 3.3 and 3.4, RFC 3596, RFC 2782); null for the others.
    /// Also returns the RDATA with its names written uncompressed, for <see cref="Encode"/>.
    /// </summary>
    private static (DnsParseStatus? Status, byte[] Uncompressed) CheckRdata(byte[] m, ushort type, int offset, int length)
    {
        byte[] raw = m.AsSpan(offset, length).ToArray();
        int end = offset + length;
        switch (type)
        {
            case DnsRecordType.A:
                return (length == 4 ? DnsParseStatus.Ok : DnsParseStatus.BadRdata, raw);
            case DnsRecordType.AAAA:
                return (length == 16 ? DnsParseStatus.Ok : DnsParseStatus.BadRdata, raw);
            case DnsRecordType.NS or DnsRecordType.CNAME or DnsRecordType.DNAME or DnsRecordType.PTR
                or DnsRecordType.MB or DnsRecordType.MG or DnsRecordType.MR:
                return NamesThenFixed(m, offset, end, prefix: 0, names: 1, suffix: 0);
            case DnsRecordType.MX:
                return NamesThenFixed(m, offset, end, prefix: 2, names: 1, suffix: 0);
            case DnsRecordType.SRV:
                return NamesThenFixed(m, offset, end, prefix: 6, names: 1, suffix: 0);
            case DnsRecordType.SOA:
                return NamesThenFixed(m, offset, end, prefix: 0, names: 2, suffix: 20);
            case DnsRecordType.TXT or DnsRecordType.SPF:
                int p = 0;
                while (p < length)
                {
                    p += 1 + raw[p];
                }

                return (length > 0 && p == length ? DnsParseStatus.Ok : DnsParseStatus.BadRdata, raw);
            default:
                return (null, raw);
        }
    }

    private static (DnsParseStatus? Status, byte[] Uncompressed) NamesThenFixed(byte[] m, int offset, int end, int prefix, int names, int suffix)
    {
        var bad = (DnsParseStatus.BadRdata, Array.Empty<byte>());
        if (end - offset < prefix)
        {
            return bad;
        }

        var output = new List<byte>(m.AsSpan(offset, prefix).ToArray());
        int p = offset + prefix;
        for (int i = 0; i < names; i++)
        {
            if (p >= end || ReadName(m, end, p, out var name) != DnsParseStatus.Ok)
            {
                return bad;
            }

            WriteName(output, name!);
            p += name!.EncodedLength;
        }

        if (end - p != suffix)
        {
            return bad;
        }

        output.AddRange(m.AsSpan(p, suffix).ToArray());
        return (DnsParseStatus.Ok, output.ToArray());
    }

    /// <summary>
    /// Writes a message read without any fault back out: the header with the counts of what was read, every item
    /// with its names uncompressed, no trailing bytes.
    /// </summary>
    public static byte[] Encode(Message message)
    {
        var output = new List<byte>();
        AddU16(output, message.Id);
        AddU16(output, message.Flags);
        foreach (var section in new[] { DnsSection.Question, DnsSection.Answer, DnsSection.Authority, DnsSection.Additional })
        {
            AddU16(output, (ushort)message.Items.Count(i => i.Section == section));
        }

        foreach (var item in message.Items)
        {
            WriteName(output, item.Owner);
            AddU16(output, item.Type);
            AddU16(output, item.Class);
            if (item.Section == DnsSection.Question)
            {
                continue;
            }

            AddU16(output, (ushort)(item.Ttl >> 16));
            AddU16(output, (ushort)item.Ttl);
            AddU16(output, (ushort)item.Rdata!.Length);
            output.AddRange(item.Rdata);
        }

        return output.ToArray();
    }

    private static void WriteName(List<byte> output, Name name)
    {
        foreach (byte[] label in name.Labels)
        {
            output.Add((byte)label.Length);
            output.AddRange(label);
        }

        output.Add(0);
    }

    private static void AddU16(List<byte> output, ushort value)
    {
        output.Add((byte)(value >> 8));
        output.Add((byte)value);
    }

    private static ushort U16(byte[] m, int at) => BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(at));
}
