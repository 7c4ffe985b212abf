using System.Buffers.Binary;

namespace RataDns.Capture.Dnstap;

/// <summary>dnstap's <c>Message.Type</c>: who logged the message, and whether it is the query or the response.</summary>
public enum DnstapMessageType : byte
{
    None = 0,
    AuthQuery = 1,
    AuthResponse = 2,
    ResolverQuery = 3,
    ResolverResponse = 4,
    ClientQuery = 5,
    ClientResponse = 6,
    ForwarderQuery = 7,
    ForwarderResponse = 8,
    StubQuery = 9,
    StubResponse = 10,
    ToolQuery = 11,
    ToolResponse = 12,
    UpdateQuery = 13,
    UpdateResponse = 14,
}

/// <summary>dnstap's <c>SocketProtocol</c>: how the DNS message travelled.</summary>
public enum DnstapProtocol : byte
{
    None = 0,
    Udp = 1,
    Tcp = 2,
    Dot = 3,
    Doh = 4,
    DnsCryptUdp = 5,
    DnsCryptTcp = 6,
    Doq = 7,
}

/// <summary>
/// One <c>dnstap.Dnstap</c> payload of type MESSAGE (dnstap.proto, proto2), its fields as spans of the frame it was
/// read from: valid while that frame is. Absent fields are empty spans and zeros.
/// </summary>
public ref struct DnstapMessage
{
    public ReadOnlySpan<byte> Identity;
    public ReadOnlySpan<byte> Version;
    public DnstapMessageType Type;

    /// <summary><c>socket_family</c>: 1 INET (IPv4), 2 INET6; 0 absent.</summary>
    public byte SocketFamily;
    public DnstapProtocol Protocol;
    public ReadOnlySpan<byte> QueryAddress;
    public ReadOnlySpan<byte> ResponseAddress;
    public ushort QueryPort;
    public ushort ResponsePort;
    public ulong QueryTimeSeconds;
    public uint QueryTimeNanoseconds;
    public ReadOnlySpan<byte> QueryMessage;
    public ReadOnlySpan<byte> QueryZone;
    public ulong ResponseTimeSeconds;
    public uint ResponseTimeNanoseconds;
    public ReadOnlySpan<byte> ResponseMessage;

    /// <summary><c>http_protocol</c> for DoH: 1 HTTP/1, 2 HTTP/2, 3 HTTP/3; 0 absent.</summary>
    public byte HttpProtocol;

    /// <summary>Whether the message is a response (even types), by its type.</summary>
    public readonly bool IsResponse => Type != DnstapMessageType.None && ((byte)Type & 1) == 0;

    /// <summary>The DNS message it carries: the response's for response types, the query's otherwise.</summary>
    public readonly ReadOnlySpan<byte> DnsMessage => IsResponse ? ResponseMessage : QueryMessage;

    /// <summary>The two-letter mnemonic dnstap's documentation and dnstap-ldns use (CQ, CR, AQ, ...).</summary>
    public readonly string Mnemonic => Type switch
    {
        DnstapMessageType.AuthQuery => "AQ",
        DnstapMessageType.AuthResponse => "AR",
        DnstapMessageType.ResolverQuery => "RQ",
        DnstapMessageType.ResolverResponse => "RR",
        DnstapMessageType.ClientQuery => "CQ",
        DnstapMessageType.ClientResponse => "CR",
        DnstapMessageType.ForwarderQuery => "FQ",
        DnstapMessageType.ForwarderResponse => "FR",
        DnstapMessageType.StubQuery => "SQ",
        DnstapMessageType.StubResponse => "SR",
        DnstapMessageType.ToolQuery => "TQ",
        DnstapMessageType.ToolResponse => "TR",
        DnstapMessageType.UpdateQuery => "UQ",
        DnstapMessageType.UpdateResponse => "UR",
        _ => "??",
    };
}

/// <summary>Why a dnstap payload could not be read.</summary>
public enum DnstapDecodeStatus : byte
{
    Ok,

    /// <summary>A varint, length or fixed field runs past the payload, or a varint is longer than 10 bytes.</summary>
    Truncated,

    /// <summary>A wire type protobuf does not use here (groups, 6, 7), or a field of the wrong wire type.</summary>
    Malformed,

    /// <summary>A well-formed payload that is not a MESSAGE (another <c>Dnstap.type</c>, or no message).</summary>
    NotMessage,
}

/// <summary>
/// Reads <c>dnstap.Dnstap</c> payloads by hand from the protobuf wire format (varint, 64-bit, length-delimited and
/// 32-bit fields; unknown fields skipped as protobuf requires), without allocating: the schema is small and fixed.
/// Never throws; every length is checked against the bytes that remain.
/// </summary>
public static class DnstapDecoder
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    public static DnstapDecodeStatus Decode(ReadOnlySpan<byte> payload, out DnstapMessage message)
    {
        message = default;
        int dnstapType = 0;
        ReadOnlySpan<byte> inner = default;
        bool hasMessage = false;
        var reader = new Reader(payload);
        while (!reader.End)
        {
            if (!reader.Field(out int field, out int wire, out ulong number, out ReadOnlySpan<byte> bytes, out var status))
            {
                return status;
            }

            switch (field)
            {
                case 1 when wire == WireLengthDelimited:
                    message.Identity = bytes;
                    break;
                case 2 when wire == WireLengthDelimited:
                    message.Version = bytes;
                    break;
                case 14 when wire == WireLengthDelimited:
                    inner = bytes;
                    hasMessage = true;
                    break;
                case 15 when wire == WireVarint:
                    dnstapType = (int)Math.Min(number, int.MaxValue);
                    break;
                case 1 or 2 or 14 or 15:
                    return DnstapDecodeStatus.Malformed;
            }
        }

        if (dnstapType != 1 || !hasMessage)
        {
            return DnstapDecodeStatus.NotMessage;
        }

        return DecodeMessage(inner, ref message);
    }

    private static DnstapDecodeStatus DecodeMessage(ReadOnlySpan<byte> payload, ref DnstapMessage message)
    {
        var reader = new Reader(payload);
        while (!reader.End)
        {
            if (!reader.Field(out int field, out int wire, out ulong number, out ReadOnlySpan<byte> bytes, out var status))
            {
                return status;
            }

            bool expected = field switch
            {
                1 or 2 or 3 or 6 or 7 or 8 or 12 or 16 => wire == WireVarint,
                4 or 5 or 10 or 11 or 14 or 15 => wire == WireLengthDelimited,
                9 or 13 => wire == WireFixed32,
                _ => true,
            };
            if (!expected)
            {
                return DnstapDecodeStatus.Malformed;
            }

            switch (field)
            {
                case 1: message.Type = number is >= 1 and <= 14 ? (DnstapMessageType)number : DnstapMessageType.None; break;
                case 2: message.SocketFamily = (byte)Math.Min(number, 255); break;
                case 3: message.Protocol = number is >= 1 and <= 7 ? (DnstapProtocol)number : DnstapProtocol.None; break;
                case 4: message.QueryAddress = bytes; break;
                case 5: message.ResponseAddress = bytes; break;
                case 6: message.QueryPort = (ushort)Math.Min(number, ushort.MaxValue); break;
                case 7: message.ResponsePort = (ushort)Math.Min(number, ushort.MaxValue); break;
                case 8: message.QueryTimeSeconds = number; break;
                case 9: message.QueryTimeNanoseconds = (uint)number; break;
                case 10: message.QueryMessage = bytes; break;
                case 11: message.QueryZone = bytes; break;
                case 12: message.ResponseTimeSeconds = number; break;
                case 13: message.ResponseTimeNanoseconds = (uint)number; break;
                case 14: message.ResponseMessage = bytes; break;
                case 16: message.HttpProtocol = (byte)Math.Min(number, 255); break;
            }
        }

        return message.Type == DnstapMessageType.None ? DnstapDecodeStatus.Malformed : DnstapDecodeStatus.Ok;
    }

    /// <summary>Reads one field at a time: its number, wire type, and its value (a number, or the bytes of a length-delimited field).</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _offset;

        public readonly bool End => _offset >= _data.Length;

        public bool Field(out int field, out int wire, out ulong number, out ReadOnlySpan<byte> bytes, out DnstapDecodeStatus status)
        {
            field = 0;
            number = 0;
            bytes = default;
            status = DnstapDecodeStatus.Truncated;
            if (!Varint(out ulong tag))
            {
                wire = -1;
                return false;
            }

            wire = (int)(tag & 7);
            field = (int)Math.Min(tag >> 3, int.MaxValue);
            switch (wire)
            {
                case WireVarint:
                    return Varint(out number);

                case WireFixed64:
                    if (_data.Length - _offset < 8)
                    {
                        return false;
                    }

                    number = BinaryPrimitives.ReadUInt64LittleEndian(_data[_offset..]);
                    _offset += 8;
                    return true;

                case WireLengthDelimited:
                    if (!Varint(out ulong length) || length > (ulong)(_data.Length - _offset))
                    {
                        return false;
                    }

                    bytes = _data.Slice(_offset, (int)length);
                    _offset += (int)length;
                    return true;

                case WireFixed32:
                    if (_data.Length - _offset < 4)
                    {
                        return false;
                    }

                    number = BinaryPrimitives.ReadUInt32LittleEndian(_data[_offset..]);
                    _offset += 4;
                    return true;

                default:
                    status = DnstapDecodeStatus.Malformed;
                    return false;
            }
        }

        private bool Varint(out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                if (_offset >= _data.Length)
                {
                    return false;
                }

                byte b = _data[_offset++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return true;
                }
            }

            return false; // more than 10 bytes
        }
    }
}
