using System.Buffers.Binary;

namespace RataDns.Capture;

/// <summary>The outcome of one step of <see cref="CaptureRecordParser"/>.</summary>
public enum CaptureParseStatus : byte
{
    /// <summary>A packet record was read; the frame is valid and <c>consumed</c> bytes were used.</summary>
    Frame = 0,

    /// <summary>A header or a block that carries no packet (SHB, IDB, NRB, ISB, DSB, custom, unknown) was consumed.</summary>
    Skipped,

    /// <summary>The span ends inside the record; <c>needed</c> is how many bytes from its start are required (so far).</summary>
    NeedMoreData,

    /// <summary>The record cannot be framed; <see cref="CaptureRecordParser.LastError"/> says why. Reading must stop.</summary>
    Corrupt,
}

/// <summary>
/// The pcap and pcapng format code shared by <see cref="CaptureFileReader"/> and <see cref="CaptureStreamReader"/>:
/// each call looks at a span that starts at a record boundary and either reads one record, asks for more bytes
/// (without consuming any), or reports corruption. It keeps the per-capture state: byte order, timestamp
/// resolution, the pcapng interface table, and the frame count. Nothing is allocated per record; an IDB may grow
/// the interface table (bounded by <see cref="MaxInterfaces"/>).
/// </summary>
public sealed class CaptureRecordParser
{
    /// <summary>pcap record header: ts_sec, ts_frac, incl_len, orig_len (4 bytes each).</summary>
    public const int PcapRecordHeaderSize = 16;

    /// <summary>pcap file header: magic, version (2+2), thiszone, sigfigs, snaplen, linktype.</summary>
    public const int PcapFileHeaderSize = 24;

    /// <summary>A pcap record larger than this (or than the file's snaplen, when larger) is corrupt.</summary>
    public const int DefaultMaxRecordLength = 256 * 1024;

    /// <summary>Cap on the snaplen used as a record bound, so a hostile header cannot ask for gigabytes.</summary>
    public const int MaxSnapLengthBound = 16 * 1024 * 1024;

    /// <summary>Largest pcapng block accepted (Wireshark uses the same 16 MiB bound).</summary>
    public const int MaxBlockLength = 16 * 1024 * 1024;

    /// <summary>Interface Description Blocks accepted per section.</summary>
    public const int MaxInterfaces = 65536;

    // Block types, pcapng draft (draft-ietf-opsawg-pcapng) section 4 and appendix.
    private const uint SectionHeaderBlockType = 0x0A0D0D0A;
    private const uint InterfaceDescriptionBlockType = 0x00000001;
    private const uint ObsoletePacketBlockType = 0x00000002;
    private const uint SimplePacketBlockType = 0x00000003;
    private const uint EnhancedPacketBlockType = 0x00000006;
    private const uint ByteOrderMagic = 0x1A2B3C4D;

    // Block header: type + total length; trailer: total length again.
    private const int BlockHeaderSize = 8;
    private const int BlockOverhead = 12;
    private const int ShbMinimumLength = 28;

    // IDB options, pcapng 4.2.
    private const ushort OptionEndOfOptions = 0;
    private const ushort OptionIfTsResol = 9;
    private const ushort OptionIfTsOffset = 14;

    private const long NanosecondsPerSecond = 1_000_000_000;

    private InterfaceDescription[] _interfaces = new InterfaceDescription[4];
    private int _interfaceCount;
    private bool _bigEndian;
    private bool _sectionOpen;
    private bool _pcapNanoseconds;
    private LinkType _pcapLinkType;
    private uint _pcapRecordBound;
    private long _framesRead;
    private int _lastNeeded;
    private bool _lastNeedWasHeader;

    public CaptureRecordParser()
    {
        Reset();
    }

    /// <summary>The format found by <see cref="ReadFileHeader"/>; meaningful once it returned anything but NeedMoreData.</summary>
    public CaptureFileFormat Format { get; private set; }

    /// <summary>Frames returned so far; the next one gets number <c>FramesRead + 1</c>.</summary>
    public long FramesRead => _framesRead;

    /// <summary>Why the last call returned <see cref="CaptureParseStatus.Corrupt"/> (names the offset and frame).</summary>
    public string? LastError { get; private set; }

    /// <summary>Forgets everything, to read a capture again from its first byte.</summary>
    public void Reset()
    {
        _interfaceCount = 0;
        _bigEndian = false;
        _sectionOpen = false;
        _pcapNanoseconds = false;
        _pcapLinkType = LinkType.Null;
        _pcapRecordBound = DefaultMaxRecordLength;
        _framesRead = 0;
        _lastNeeded = 0;
        _lastNeedWasHeader = false;
        LastError = null;
    }

    /// <summary>
    /// Recognises the 4-byte magic at the start of a capture. Returns false for anything else (or fewer bytes).
    /// </summary>
    public static bool TryDetectFormat(ReadOnlySpan<byte> start, out CaptureFileFormat format)
    {
        format = CaptureFileFormat.Pcap;
        if (start.Length < 4)
        {
            return false;
        }

        uint magic = BinaryPrimitives.ReadUInt32BigEndian(start);
        switch (magic)
        {
            case 0xA1B2C3D4:
            case 0xD4C3B2A1:
            case 0xA1B23C4D:
            case 0x4D3CB2A1:
                format = CaptureFileFormat.Pcap;
                return true;
            case SectionHeaderBlockType:
                format = CaptureFileFormat.PcapNg;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Reads the pcap file header (24 bytes). For pcapng nothing is consumed: the Section Header Block is read as
    /// the first record by <see cref="ReadRecord"/>. The caller has checked the magic with <see cref="TryDetectFormat"/>.
    /// </summary>
    public CaptureParseStatus ReadFileHeader(ReadOnlySpan<byte> data, out int consumed, out int needed)
    {
        consumed = 0;
        needed = 4;
        if (!TryDetectFormat(data, out var format))
        {
            return data.Length < 4 ? NeedMore(4, header: true, out needed) : Corrupt("unknown capture magic at offset 0");
        }

        Format = format;
        if (format == CaptureFileFormat.PcapNg)
        {
            needed = 0;
            return CaptureParseStatus.Skipped;
        }

        if (data.Length < PcapFileHeaderSize)
        {
            return NeedMore(PcapFileHeaderSize, header: true, out needed);
        }

        // The magic is written in the writer's byte order: a1b2c3d4 read big-endian means a big-endian file.
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        _bigEndian = magic is 0xA1B2C3D4 or 0xA1B23C4D;
        _pcapNanoseconds = magic is 0xA1B23C4D or 0x4D3CB2A1;
        uint snapLength = ReadUInt32(data[16..]);

        // The link-layer type is the low 16 bits; the high bits may hold FCS information (pcap draft, section 4).
        _pcapLinkType = (LinkType)(ReadUInt32(data[20..]) & 0xFFFF);
        _pcapRecordBound = Math.Max(DefaultMaxRecordLength, Math.Min(snapLength, MaxSnapLengthBound));
        consumed = PcapFileHeaderSize;
        needed = PcapFileHeaderSize;
        return CaptureParseStatus.Skipped;
    }

    /// <summary>
    /// Reads one record from <paramref name="data"/>, which starts at a record boundary at stream offset
    /// <paramref name="offset"/>. On <see cref="CaptureParseStatus.NeedMoreData"/> nothing is consumed and
    /// <paramref name="needed"/> is the byte count to offer next time (it may grow again once the header is seen).
    /// </summary>
    public CaptureParseStatus ReadRecord(
        ReadOnlySpan<byte> data, long offset, out int consumed, out int needed, out CapturedFrame frame)
    {
        frame = default;
        consumed = 0;
        needed = 0;
        return Format == CaptureFileFormat.Pcap
            ? ReadPcapRecord(data, offset, ref consumed, ref needed, ref frame)
            : ReadPcapNgBlock(data, offset, ref consumed, ref needed, ref frame);
    }

    /// <summary>The message for a capture that ended while the last call still needed more bytes.</summary>
    public string DescribeTruncation(long offset, long available)
    {
        string what = (Format, _lastNeedWasHeader) switch
        {
            (CaptureFileFormat.Pcap, true) when offset == 0 && _framesRead == 0 && _lastNeeded == PcapFileHeaderSize
                => "pcap file header",
            (CaptureFileFormat.Pcap, true) => "record header",
            (CaptureFileFormat.Pcap, false) => "record",
            (_, true) => "pcapng block header",
            _ => "pcapng block",
        };
        return $"truncated {what} at offset {offset} (frame {_framesRead + 1}): {available} of {_lastNeeded} bytes present";
    }

    private CaptureParseStatus ReadPcapRecord(
        ReadOnlySpan<byte> data, long offset, ref int consumed, ref int needed, ref CapturedFrame frame)
    {
        if (data.Length < PcapRecordHeaderSize)
        {
            return NeedMore(PcapRecordHeaderSize, header: true, out needed);
        }

        uint seconds = ReadUInt32(data);
        uint fraction = ReadUInt32(data[4..]);
        uint includedLength = ReadUInt32(data[8..]);
        uint originalLength = ReadUInt32(data[12..]);

        // Check the declared length before trusting it: a hostile or damaged header must not make us wait for,
        // or allocate, gigabytes.
        if (includedLength > _pcapRecordBound)
        {
            return Corrupt(
                $"record at offset {offset} (frame {_framesRead + 1}) has incl_len {includedLength}, beyond the bound {_pcapRecordBound}");
        }

        int total = PcapRecordHeaderSize + (int)includedLength;
        if (data.Length < total)
        {
            return NeedMore(total, header: false, out needed);
        }

        long timestamp = (seconds * NanosecondsPerSecond) + (_pcapNanoseconds ? fraction : fraction * 1000L);
        _framesRead++;
        frame = new CapturedFrame(
            timestamp, _pcapLinkType, 0, originalLength, data.Slice(PcapRecordHeaderSize, (int)includedLength), offset, _framesRead);
        consumed = total;
        needed = total;
        return CaptureParseStatus.Frame;
    }

    private CaptureParseStatus ReadPcapNgBlock(
        ReadOnlySpan<byte> data, long offset, ref int consumed, ref int needed, ref CapturedFrame frame)
    {
        if (data.Length < BlockHeaderSize)
        {
            return NeedMore(BlockHeaderSize, header: true, out needed);
        }

        // The SHB type reads the same in both byte orders; its byte-order magic (after the length) sets the order
        // of everything in the section, its own length included (pcapng 4.1).
        bool isSectionHeader = BinaryPrimitives.ReadUInt32BigEndian(data) == SectionHeaderBlockType;
        if (isSectionHeader)
        {
            if (data.Length < BlockOverhead)
            {
                return NeedMore(BlockOverhead, header: true, out needed);
            }

            uint orderMagic = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
            if (orderMagic == ByteOrderMagic)
            {
                _bigEndian = true;
            }
            else if (BinaryPrimitives.ReverseEndianness(orderMagic) == ByteOrderMagic)
            {
                _bigEndian = false;
            }
            else
            {
                return Corrupt($"section header block at offset {offset} has a bad byte-order magic 0x{orderMagic:x8}");
            }
        }
        else if (!_sectionOpen)
        {
            return Corrupt($"pcapng block at offset {offset} comes before any section header block");
        }

        uint type = ReadUInt32(data);
        uint length = ReadUInt32(data[4..]);
        if (length < BlockOverhead || (length & 3) != 0 || length > MaxBlockLength
            || (isSectionHeader && length < ShbMinimumLength))
        {
            return Corrupt(
                $"pcapng block at offset {offset} (frame {_framesRead + 1}) has a bad total length {length}");
        }

        int total = (int)length;
        if (data.Length < total)
        {
            return NeedMore(total, header: false, out needed);
        }

        if (ReadUInt32(data[(total - 4)..]) != length)
        {
            return Corrupt(
                $"pcapng block at offset {offset} (frame {_framesRead + 1}): the trailing length does not match {length}");
        }

        needed = total;
        var body = data[BlockHeaderSize..(total - 4)];
        CaptureParseStatus status = type switch
        {
            SectionHeaderBlockType => ReadSectionHeader(body, offset),
            InterfaceDescriptionBlockType => ReadInterfaceDescription(body, offset),
            EnhancedPacketBlockType => ReadEnhancedPacket(body, offset, ref frame),
            SimplePacketBlockType => ReadSimplePacket(body, offset, ref frame),
            ObsoletePacketBlockType => ReadObsoletePacket(body, offset, ref frame),

            // NRB, ISB, DSB, custom and unknown blocks carry no packet; their length frames them (pcapng 3.1).
            _ => CaptureParseStatus.Skipped,
        };
        if (status != CaptureParseStatus.Corrupt)
        {
            consumed = total;
        }

        return status;
    }

    private CaptureParseStatus ReadSectionHeader(ReadOnlySpan<byte> body, long offset)
    {
        // Body: byte-order magic (4), major (2), minor (2), section length (8), options (pcapng 4.1).
        ushort major = ReadUInt16(body[4..]);
        if (major != 1)
        {
            return Corrupt($"section header block at offset {offset} has unsupported version {major}.{ReadUInt16(body[6..])}");
        }

        _sectionOpen = true;
        _interfaceCount = 0;
        return CaptureParseStatus.Skipped;
    }

    private CaptureParseStatus ReadInterfaceDescription(ReadOnlySpan<byte> body, long offset)
    {
        // Body: LinkType (2), reserved (2), SnapLen (4), options (pcapng 4.2).
        if (body.Length < 8)
        {
            return Corrupt($"interface description block at offset {offset} is too short ({body.Length} body bytes)");
        }

        if (_interfaceCount == MaxInterfaces)
        {
            return Corrupt($"interface description block at offset {offset}: more than {MaxInterfaces} interfaces in one section");
        }

        var description = new InterfaceDescription
        {
            LinkType = (LinkType)ReadUInt16(body),
            SnapLength = ReadUInt32(body[4..]),
            UnitsPerSecond = 1_000_000,
            OffsetSeconds = 0,
        };

        var options = body[8..];
        while (options.Length >= 4)
        {
            ushort code = ReadUInt16(options);
            int valueLength = ReadUInt16(options[2..]);
            if (code == OptionEndOfOptions)
            {
                break;
            }

            int padded = (valueLength + 3) & ~3;
            if (4 + padded > options.Length)
            {
                return Corrupt($"interface description block at offset {offset}: option {code} runs past the block");
            }

            var value = options.Slice(4, valueLength);
            if (code == OptionIfTsResol && valueLength >= 1)
            {
                if (!TryUnitsPerSecond(value[0], out description.UnitsPerSecond))
                {
                    return Corrupt($"interface description block at offset {offset}: if_tsresol 0x{value[0]:x2} is out of range");
                }
            }
            else if (code == OptionIfTsOffset && valueLength == 8)
            {
                description.OffsetSeconds = ReadInt64(value);
            }

            options = options[(4 + padded)..];
        }

        if (_interfaceCount == _interfaces.Length)
        {
            Array.Resize(ref _interfaces, _interfaces.Length * 2);
        }

        _interfaces[_interfaceCount++] = description;
        return CaptureParseStatus.Skipped;
    }

    private CaptureParseStatus ReadEnhancedPacket(ReadOnlySpan<byte> body, long offset, ref CapturedFrame frame)
    {
        // Body: Interface ID (4), Timestamp upper (4), lower (4), Captured length (4), Original length (4),
        // data padded to 32 bits, options (pcapng 4.3).
        if (body.Length < 20)
        {
            return Corrupt($"enhanced packet block at offset {offset} (frame {_framesRead + 1}) is too short");
        }

        uint interfaceId = ReadUInt32(body);
        uint capturedLength = ReadUInt32(body[12..]);
        if (interfaceId >= (uint)_interfaceCount)
        {
            return Corrupt($"enhanced packet block at offset {offset} (frame {_framesRead + 1}) names interface {interfaceId}, but the section has {_interfaceCount}");
        }

        if (capturedLength > (uint)(body.Length - 20))
        {
            return Corrupt($"enhanced packet block at offset {offset} (frame {_framesRead + 1}): captured length {capturedLength} exceeds the block");
        }

        ulong ticks = ((ulong)ReadUInt32(body[4..]) << 32) | ReadUInt32(body[8..]);
        ref readonly var description = ref _interfaces[interfaceId];
        _framesRead++;
        frame = new CapturedFrame(
            ToNanoseconds(ticks, in description),
            description.LinkType,
            (int)interfaceId,
            ReadUInt32(body[16..]),
            body.Slice(20, (int)capturedLength),
            offset,
            _framesRead);
        return CaptureParseStatus.Frame;
    }

    private CaptureParseStatus ReadSimplePacket(ReadOnlySpan<byte> body, long offset, ref CapturedFrame frame)
    {
        // Body: Original length (4), data (pcapng 4.4). The captured length is the smaller of the original length,
        // the SnapLen of interface 0, and what the block holds. There is no timestamp: it reads as 0.
        if (body.Length < 4 || _interfaceCount == 0)
        {
            return Corrupt($"simple packet block at offset {offset} (frame {_framesRead + 1}) is too short or has no interface 0");
        }

        uint originalLength = ReadUInt32(body);
        ref readonly var description = ref _interfaces[0];
        uint capturedLength = Math.Min(originalLength, (uint)(body.Length - 4));
        if (description.SnapLength != 0)
        {
            capturedLength = Math.Min(capturedLength, description.SnapLength);
        }

        _framesRead++;
        frame = new CapturedFrame(
            0, description.LinkType, 0, originalLength, body.Slice(4, (int)capturedLength), offset, _framesRead);
        return CaptureParseStatus.Frame;
    }

    private CaptureParseStatus ReadObsoletePacket(ReadOnlySpan<byte> body, long offset, ref CapturedFrame frame)
    {
        // Body: Interface ID (2), drops count (2), timestamp upper/lower, captured and original length (pcapng
        // appendix A, the Packet Block that the Enhanced Packet Block replaced).
        if (body.Length < 20)
        {
            return Corrupt($"packet block at offset {offset} (frame {_framesRead + 1}) is too short");
        }

        ushort interfaceId = ReadUInt16(body);
        uint capturedLength = ReadUInt32(body[12..]);
        if (interfaceId >= _interfaceCount || capturedLength > (uint)(body.Length - 20))
        {
            return Corrupt($"packet block at offset {offset} (frame {_framesRead + 1}) has a bad interface or captured length");
        }

        ulong ticks = ((ulong)ReadUInt32(body[4..]) << 32) | ReadUInt32(body[8..]);
        ref readonly var description = ref _interfaces[interfaceId];
        _framesRead++;
        frame = new CapturedFrame(
            ToNanoseconds(ticks, in description),
            description.LinkType,
            interfaceId,
            ReadUInt32(body[16..]),
            body.Slice(20, (int)capturedLength),
            offset,
            _framesRead);
        return CaptureParseStatus.Frame;
    }

    /// <summary>
    /// if_tsresol (pcapng 4.2): the high bit clear means 10^-n seconds per tick, set means 2^-n. Units that do not
    /// fit in 64 bits are rejected.
    /// </summary>
    private static bool TryUnitsPerSecond(byte resolution, out ulong unitsPerSecond)
    {
        int exponent = resolution & 0x7F;
        unitsPerSecond = 1;
        if ((resolution & 0x80) != 0)
        {
            if (exponent > 63)
            {
                return false;
            }

            unitsPerSecond = 1UL << exponent;
            return true;
        }

        if (exponent > 19)
        {
            return false;
        }

        for (int i = 0; i < exponent; i++)
        {
            unitsPerSecond *= 10;
        }

        return true;
    }

    private static long ToNanoseconds(ulong ticks, in InterfaceDescription description)
    {
        ulong units = description.UnitsPerSecond;
        long offsetNanoseconds = unchecked(description.OffsetSeconds * NanosecondsPerSecond);
        if (units == 1_000_000)
        {
            return unchecked((long)(ticks * 1000) + offsetNanoseconds);
        }

        if (units == NanosecondsPerSecond)
        {
            return unchecked((long)ticks + offsetNanoseconds);
        }

        // Whole seconds, then the remainder scaled in 128 bits so that neither step can overflow.
        ulong seconds = ticks / units;
        ulong remainder = ticks % units;
        ulong fraction = (ulong)((UInt128)remainder * NanosecondsPerSecond / units);
        return unchecked((long)(seconds * NanosecondsPerSecond) + (long)fraction + offsetNanoseconds);
    }

    private CaptureParseStatus NeedMore(int count, bool header, out int needed)
    {
        needed = count;
        _lastNeeded = count;
        _lastNeedWasHeader = header;
        return CaptureParseStatus.NeedMoreData;
    }

    private CaptureParseStatus Corrupt(string message)
    {
        LastError = message;
        return CaptureParseStatus.Corrupt;
    }

    private ushort ReadUInt16(ReadOnlySpan<byte> span) =>
        _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);

    private uint ReadUInt32(ReadOnlySpan<byte> span) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);

    private long ReadInt64(ReadOnlySpan<byte> span) =>
        _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(span) : BinaryPrimitives.ReadInt64LittleEndian(span);

    /// <summary>What an IDB says about its interface, kept for the packet blocks that name it.</summary>
    private struct InterfaceDescription
    {
        public LinkType LinkType;
        public uint SnapLength;
        public ulong UnitsPerSecond;
        public long OffsetSeconds;
    }
}
