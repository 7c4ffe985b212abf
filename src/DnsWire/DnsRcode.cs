using System.Globalization;

namespace RataDns.DnsWire;

/// <summary>DNS RCODE mnemonics (IANA "DNS RCODEs", RFC 6895 2.3).</summary>
public static class DnsRcode
{
    /// <summary>"NOERROR", "NXDOMAIN", ... for the assigned codes used in messages; the decimal value otherwise.</summary>
    public static string Name(int rcode) => rcode switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        23 => "BADCOOKIE",
        _ => rcode.ToString(CultureInfo.InvariantCulture),
    };
}
