using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>
/// Reads a whole DNS message from a span, forward only: the header at construction, then the questions with
/// <see cref="TryReadQuestion"/> and the answer, authority and additional records with <see cref="TryReadRecord"/>.
/// Nothing is copied or allocated. A fault stops framing-level reading and is kept in <see cref="Status"/>,
/// <see cref="FaultSection"/> and <see cref="FaultOffset"/>; everything read before it was already handed out.
/// A record whose RDATA does not match its type is still returned (its length is known, so the framing holds):
/// it sets <see cref="DnsRecord.RdataStatus"/> and, if nothing worse came first, <see cref="Status"/>.
/// </summary>
public ref struct DnsMessageReader
{
    /// <summary>Fixed part of a record after its name: TYPE, CLASS, TTL, RDLENGTH (RFC 1035 4.1.3).</summary>
    private const int RecordFixedSize = 10;

    private readonly ReadOnlySpan<byte> _message;
    private int _position;
    private DnsSection _section;
    private int _leftInSection;
    private bool _stopped;
    private NameCache _names;

    public DnsMessageReader(ReadOnlySpan<byte> message)
    {
        _message = message;
        Status = DnsParseStatus.Ok;
        FaultSection = DnsSection.End;
        FaultOffset = -1;
        _stopped = false;
        _names = default;
        if (message.Length < DnsHeader.Size)
        {
            Header = DnsHeader.ReadPartial(message);
            HeaderBytes = message.Length;
            _position = message.Length;
            _section = DnsSection.Header;
            _leftInSection = 0;
            Fail(DnsParseStatus.Truncated, DnsSection.Header, message.Length);
            return;
        }

        Header = DnsHeader.Read(message);
        HeaderBytes = DnsHeader.Size;
        _position = DnsHeader.Size;
        _section = DnsSection.Question;
        _leftInSection = Header.QuestionCount;
    }

    public DnsHeader Header { get; }

    /// <summary>12, or fewer when the message is shorter than a header (only the fields inside them are real).</summary>
    public int HeaderBytes { get; }

    /// <summary>The first fault found so far, or <see cref="DnsParseStatus.Ok"/>.</summary>
    public DnsParseStatus Status { get; private set; }

    /// <summary>The section where the first fault was found, or <see cref="DnsSection.End"/> when there is none.</summary>
    public DnsSection FaultSection { get; private set; }

    /// <summary>The message offset of the item that faulted, or -1.</summary>
    public int FaultOffset { get; private set; }

    /// <summary>The section the next item comes from (<see cref="DnsSection.End"/> once all are read).</summary>
    public readonly DnsSection CurrentSection => _section;

    /// <summary>Bytes consumed so far: after a complete read, the message length less any trailing bytes.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes after the last record (padding, junk, or a second message); meaningful once reading has ended.</summary>
    public readonly int TrailingBytes => _stopped || _section == DnsSection.End ? _message.Length - _position : 0;

    /// <summary>
    /// Reads the next question. Returns false when the question section is done or a fault stopped reading.
    /// </summary>
    public bool TryReadQuestion(out DnsQuestion question)
    {
        question = default;
        if (_stopped || _section != DnsSection.Question || _leftInSection == 0 || !HasMoreInSection())
        {
            return false;
        }

        int start = _position;
        var status = DnsName.TryRead(_message, start, ref _names, out var name);
        if (status != DnsParseStatus.Ok)
        {
            return Stop(status, start);
        }

        int fixedAt = start + name.EncodedLength;
        if (fixedAt + 4 > _message.Length)
        {
            return Stop(DnsParseStatus.Truncated, start);
        }

        question = new DnsQuestion(
            name,
            BinaryPrimitives.ReadUInt16BigEndian(_message[fixedAt..]),
            BinaryPrimitives.ReadUInt16BigEndian(_message[(fixedAt + 2)..]));
        _position = fixedAt + 4;
        _leftInSection--;
        return true;
    }

    /// <summary>
    /// Reads the next answer, authority or additional record (skipping any questions not yet read). Returns false
    /// when all records are read or a fault stopped reading.
    /// </summary>
    public bool TryReadRecord(out DnsRecord record)
    {
        record = default;
        while (_section == DnsSection.Question && TryReadQuestion(out _))
        {
        }

        if (_stopped || !HasMoreInSection())
        {
            return false;
        }

        int start = _position;
        var status = DnsName.TryRead(_message, start, ref _names, out var name);
        if (status != DnsParseStatus.Ok)
        {
            return Stop(status, start);
        }

        int fixedAt = start + name.EncodedLength;
        if (fixedAt + RecordFixedSize > _message.Length)
        {
            return Stop(DnsParseStatus.Truncated, start);
        }

        var fixedPart = _message.Slice(fixedAt, RecordFixedSize);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(fixedPart);
        ushort @class = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[2..]);
        uint ttl = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[4..]);
        int rdLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[8..]);
        int rdataOffset = fixedAt + RecordFixedSize;
        if (rdLength > _message.Length - rdataOffset)
        {
            return Stop(DnsParseStatus.RdataOverrun, start);
        }

        // RFC 2136 2.4 and 2.5: UPDATE prerequisites and deletions carry class ANY or NONE with no RDATA at all,
        // whatever the type; that is their meaning, not a malformed record.
        var rdataStatus = rdLength == 0 && @class is DnsClass.ANY or DnsClass.NONE
            ? DnsParseStatus.Ok
            : DnsRdata.Validate(_message, type, rdataOffset, rdLength);
        if (rdataStatus != DnsParseStatus.Ok && Status == DnsParseStatus.Ok)
        {
            Status = rdataStatus;
            FaultSection = _section;
            FaultOffset = start;
        }

        record = new DnsRecord(_message, _section, name, type, @class, ttl, rdataOffset, rdLength, rdataStatus);
        _position = rdataOffset + rdLength;
        _leftInSection--;
        return true;
    }

    /// <summary>Reads (and validates) whatever is left; returns the final status.</summary>
    public DnsParseStatus ReadToEnd()
    {
        while (TryReadRecord(out _))
        {
        }

        return Status;
    }

    /// <summary>
    /// Moves to the next non-empty section when the current one is exhausted. Records the fault when the message
    /// ends exactly where another item should begin (the header counted more than was sent).
    /// </summary>
    private bool HasMoreInSection()
    {
        while (_leftInSection == 0)
        {
            switch (_section)
            {
                case DnsSection.Question:
                    _section = DnsSection.Answer;
                    _leftInSection = Header.AnswerCount;
                    break;
                case DnsSection.Answer:
                    _section = DnsSection.Authority;
                    _leftInSection = Header.AuthorityCount;
                    break;
                case DnsSection.Authority:
                    _section = DnsSection.Additional;
                    _leftInSection = Header.AdditionalCount;
                    break;
                default:
                    _section = DnsSection.End;
                    return false;
            }
        }

        if (_position >= _message.Length)
        {
            Stop(DnsParseStatus.CountExceedsPayload, _position);
            return false;
        }

        return true;
    }

    private bool Stop(DnsParseStatus status, int offset)
    {
        Fail(status, _section, offset);
        _stopped = true;
        return false;
    }

    private void Fail(DnsParseStatus status, DnsSection section, int offset)
    {
        // A framing fault overrides an earlier BadRdata: it is the more severe finding.
        if (Status == DnsParseStatus.Ok || Status == DnsParseStatus.BadRdata)
        {
            Status = status;
            FaultSection = section;
            FaultOffset = offset;
        }
    }
}
