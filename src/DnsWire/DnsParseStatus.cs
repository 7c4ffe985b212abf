namespace RataDns.DnsWire;

/// <summary>
/// The outcome of reading a DNS message. Malformed input is ordinary traffic for a monitor, so every fault is a
/// value here and never an exception. The first fault found wins; what was read before it stays available.
/// </summary>
public enum DnsParseStatus : byte
{
    /// <summary>The message (or the part read so far) is well formed.</summary>
    Ok = 0,

    /// <summary>The bytes end inside a header, a name, a question or a record header.</summary>
    Truncated,

    /// <summary>The header announces more questions or records than the message holds (it ends on a boundary).</summary>
    CountExceedsPayload,

    /// <summary>A label length byte uses the reserved types 01 (extended, RFC 6891) or 10 (RFC 1035 4.1.4).</summary>
    BadLabelType,

    /// <summary>A name is longer than 255 bytes in wire form (RFC 1035 3.1).</summary>
    NameTooLong,

    /// <summary>A compression pointer points at itself or forward.</summary>
    ForwardPointer,

    /// <summary>A compression pointer points back into a run already read, or too many pointers are chained.</summary>
    PointerLoop,

    /// <summary>A record's RDLENGTH runs past the end of the message.</summary>
    RdataOverrun,

    /// <summary>A record's RDATA does not match its type's layout (the message framing is intact).</summary>
    BadRdata,
}

/// <summary>The part of a message where a fault was found, or where reading currently is.</summary>
public enum DnsSection : byte
{
    Header = 0,
    Question,
    Answer,
    Authority,
    Additional,
    End,
}

/// <summary>Stable, lowercase, dash-free names for statuses and sections (used in JSON output and counters).</summary>
public static class DnsParseStatusNames
{
    public static string Name(DnsParseStatus status) => status switch
    {
        DnsParseStatus.Ok => "ok",
        DnsParseStatus.Truncated => "truncated",
        DnsParseStatus.CountExceedsPayload => "count_exceeds_payload",
        DnsParseStatus.BadLabelType => "bad_label_type",
        DnsParseStatus.NameTooLong => "name_too_long",
        DnsParseStatus.ForwardPointer => "forward_pointer",
        DnsParseStatus.PointerLoop => "pointer_loop",
        DnsParseStatus.RdataOverrun => "rdata_overrun",
        DnsParseStatus.BadRdata => "bad_rdata",
        _ => "unknown",
    };

    public static string Name(DnsSection section) => section switch
    {
        DnsSection.Header => "header",
        DnsSection.Question => "question",
        DnsSection.Answer => "answer",
        DnsSection.Authority => "authority",
        DnsSection.Additional => "additional",
        _ => "end",
    };
}
