using System.Globalization;
using System.Text;
using System.Text.Json;
using RataDns.App.Commands;
using RataDns.Capture;
using RataDns.Transport.Speedy;

namespace RataDns.Tests.Conformance;

/// <summary>
/// Compares what <c>ratadns serialize</c> writes for a capture with tshark's dissection of the same capture, message
/// by message: id, flags (so rcode), the four section counts, and every question's qname, qtype and qclass.
/// tshark's rows come from
/// <c>tshark -r F -Y dns -T fields -E separator=/t -e frame.number -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst
/// -e udp.srcport -e tcp.srcport -e dns.id -e dns.flags -e dns.flags.response -e dns.flags.rcode -e dns.count.queries
/// -e dns.count.answers -e dns.count.auth_rr -e dns.count.add_rr -e dns.qry.name -e dns.qry.type -e dns.qry.class</c>.
/// Names are brought to tshark's display form before comparing (see <see cref="ToTsharkDisplay"/>).
/// </summary>
internal static class TsharkConformance
{
    public const string TsharkFieldArguments =
        "-Y dns -T fields -E separator=/t -e frame.number -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e udp.srcport -e tcp.srcport -e dns.id -e dns.flags -e dns.flags.response -e dns.flags.rcode -e dns.count.queries -e dns.count.answers -e dns.count.auth_rr -e dns.count.add_rr -e dns.qry.name -e dns.qry.type -e dns.qry.class";

    /// <summary>One DNS message as both sides can describe it.</summary>
    public sealed record MessageKey(int Id, int Flags, int Qd, int An, int Ns, int Ar, string Questions)
    {
        public override string ToString() =>
            $"id={Id:x4} flags={Flags:x4} counts={Qd}/{An}/{Ns}/{Ar} q=[{Questions}]";
    }

    public static List<MessageKey> ParseTsharkRows(string tsv) =>
        ParseTsharkMessages(tsv).Select(m => m.ToKey()).ToList();

    /// <summary>
    /// Extra fields, after <see cref="TsharkFieldArguments"/>, that <see cref="ParseTsharkMessages"/> reads when they
    /// are there: the zone count of UPDATE messages (whose zone section tshark lists as dns.qry.*, counted apart from
    /// dns.count.queries) and the upper 8 bits of the extended RCODE of each OPT record (RFC 6891 6.1.3).
    /// </summary>
    public const string TsharkExtraFieldArguments = "-e dns.count.zones -e dns.resp.ext_rcode";

    /// <summary>One question as tshark shows it: display name (non-ASCII runs collapsed), decimal type, class.</summary>
    public sealed record TsharkQuestion(string Name, string Type, int Class);

    /// <summary>
    /// One DNS message of tshark's dump. <see cref="ExtendedRcodeHigh"/> is the upper 8 bits of the extended RCODE from
    /// the message's OPT record (0 without one), or null when the dump has no such column or a frame holding several
    /// messages gives nonzero values that cannot be told apart.
    /// </summary>
    public sealed record TsharkMessage(int Id, int Flags, int Qd, int An, int Ns, int Ar, IReadOnlyList<TsharkQuestion> Questions, int? ExtendedRcodeHigh)
    {
        public bool IsResponse => (Flags & 0x8000) != 0;

        public int Opcode => (Flags >> 11) & 0xF;

        public MessageKey ToKey() => new(
            Id,
            Flags,
            Qd,
            An,
            Ns,
            Ar,
            string.Concat(Questions.Select(q => $"{q.Name}/{q.Type}/{q.Class};")));
    }

    /// <summary>
    /// Reads tshark's rows (<see cref="TsharkFieldArguments"/>, optionally followed by
    /// <see cref="TsharkExtraFieldArguments"/>) into messages: a frame with several DNS messages gives one row with
    /// comma-joined values, split here by the message ids and question counts.
    /// </summary>
    public static List<TsharkMessage> ParseTsharkMessages(string tsv)
    {
        var result = new List<TsharkMessage>();
        foreach (var line in tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.TrimEnd('\r').Split('\t');
            bool hasExtra = f.Length >= 20;
            Array.Resize(ref f, Math.Max(f.Length, 20));
            var ids = Split(f[7]);
            var flags = Split(f[8]);
            var qd = Split(f[11]);
            var an = Split(f[12]);
            var ns = Split(f[13]);
            var ar = Split(f[14]);
            var types = Split(f[16]);
            var classes = Split(f[17]);
            var zones = Split(f[18]);
            var extendedRcodes = Split(f[19]);
            int totalQuestions = qd.Sum(x => int.Parse(x, CultureInfo.InvariantCulture)) + zones.Sum(x => int.Parse(x, CultureInfo.InvariantCulture));

            // Names may contain commas; tshark joins several names with commas too. With one name, take it whole.
            var names = totalQuestions <= 1 && types.Length <= 1 ? (f[15] is { Length: > 0 } one ? [one] : []) : Split(f[15]);
            int? sharedExtended = extendedRcodes.All(x => Hex(x) == 0) ? 0 : null;
            int k = 0;
            int nextQueries = 0;
            int nextZones = 0;
            for (int m = 0; m < ids.Length; m++)
            {
                // Without the zones column, as the stored dumps are: the m-th count belongs to the m-th message.
                // With it, tshark lists dns.count.queries for non-UPDATE messages and dns.count.zones for UPDATE ones.
                int count;
                if (!hasExtra)
                {
                    count = m < qd.Length ? int.Parse(qd[m], CultureInfo.InvariantCulture) : 0;
                }
                else if (((Hex(flags.ElementAtOrDefault(m)) >> 11) & 0xF) == 5)
                {
                    count = nextZones < zones.Length ? int.Parse(zones[nextZones++], CultureInfo.InvariantCulture) : 0;
                }
                else
                {
                    count = nextQueries < qd.Length ? int.Parse(qd[nextQueries++], CultureInfo.InvariantCulture) : 0;
                }

                var questions = new List<TsharkQuestion>();
                for (int j = 0; j < count && k + j < types.Length; j++)
                {
                    string name = k + j < names.Length ? CollapseReplacementCharacters(names[k + j]) : "?";
                    if (IsPlaceholder(name))
                    {
                        break;
                    }

                    questions.Add(new TsharkQuestion(name, types[k + j], Hex(classes.ElementAtOrDefault(k + j))));
                }

                k += count;
                int? extended = !hasExtra ? null
                    : ids.Length == 1 ? (extendedRcodes.Length > 0 ? Hex(extendedRcodes[0]) : 0)
                    : sharedExtended;
                result.Add(new TsharkMessage(
                    Hex(ids[m]),
                    Hex(flags.ElementAtOrDefault(m)),
                    count,
                    Int(an.ElementAtOrDefault(m)),
                    Int(ns.ElementAtOrDefault(m)),
                    Int(ar.ElementAtOrDefault(m)),
                    questions,
                    extended));
            }
        }

        return result;
    }

    /// <summary>Runs the serialize command in-process (NDJSON, plain addresses, counts) and reads its messages.</summary>
    public static (List<MessageKey> Messages, int ExitCode, string Errors) Serialize(string capture, IEnumerable<ushort> ports)
    {
        var settings = new SerializeSettings
        {
            Source = new CaptureSourceSettings { Input = capture },
            Ports = new DnsPortSet(ports),
            Speedy = new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited, Counts = true },
        };
        using var output = new MemoryStream();
        using var errors = new StringWriter();
        int exit = SerializeRunner.Run(settings, null, output, errors);
        var list = new List<MessageKey>();
        foreach (var line in Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            list.Add(FromOurJson(doc.RootElement));
        }

        return (list, exit, errors.ToString());
    }

    public static MessageKey FromOurJson(JsonElement m)
    {
        int Get(string key, int fromBase) =>
            m.TryGetProperty(key, out var v) ? Convert.ToInt32(v.GetString(), fromBase) : -1;

        var questions = new StringBuilder();
        bool isUpdate = ((Get("flags", 16) >> 11) & 0xF) == 5;
        if (m.TryGetProperty("queries", out var qs))
        {
            foreach (var q in qs.EnumerateArray())
            {
                // RFC 2136: in UPDATE the question section is the zone section; tshark does not list it as dns.qry.*.
                if (isUpdate)
                {
                    continue;
                }

                questions.Append(ToTsharkDisplay(q.GetProperty("qname").GetString()!)).Append('/')
                    .Append(q.GetProperty("qtype").GetString()).Append('/')
                    .Append(int.Parse(q.GetProperty("qclass").GetString()!, CultureInfo.InvariantCulture)).Append(';');
            }
        }

        // tshark names UPDATE's counts dns.count.zones/prerequisites/updates, so the fields we compare are empty there.
        return new MessageKey(
            Get("id", 16),
            Get("flags", 16),
            isUpdate ? 0 : Get("qdcount", 10),
            isUpdate ? -1 : Get("ancount", 10),
            isUpdate ? -1 : Get("nscount", 10),
            Get("arcount", 10),
            questions.ToString());
    }

    /// <summary>
    /// Turns our presentation-format name (RFC 1035 5.1 escapes, trailing dot) into tshark's display: labels as raw
    /// bytes decoded as UTF-8 (invalid bytes become U+FFFD), control bytes as \ooo, no trailing dot, the root as
    /// &lt;Root&gt;. Dots inside a label cannot be told apart from separators there; that loses nothing for matching.
    /// </summary>
    public static string ToTsharkDisplay(string presentation)
    {
        if (presentation == ".")
        {
            return "<Root>";
        }

        // The presentation form always ends with the separator dot after the last label: drop it.
        var body = presentation.EndsWith('.') ? presentation[..^1] : presentation;
        var raw = new List<byte>();
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '\\' && i + 3 < body.Length && char.IsAsciiDigit(body[i + 1]) && char.IsAsciiDigit(body[i + 2]) && char.IsAsciiDigit(body[i + 3]))
            {
                raw.Add((byte)int.Parse(body.AsSpan(i + 1, 3), CultureInfo.InvariantCulture));
                i += 3;
            }
            else if (c == '\\' && i + 1 < body.Length)
            {
                raw.Add((byte)body[++i]);
            }
            else
            {
                raw.Add((byte)c);
            }
        }

        var text = Encoding.UTF8.GetString(raw.ToArray());
        var display = new StringBuilder();
        foreach (char c in text)
        {
            // GLib's g_strescape, which tshark uses: C escapes where C has one, octal for other control bytes.
            string? escape = c switch
            {
                '\a' => "\\a",
                '\b' => "\\b",
                '\t' => "\\t",
                '\n' => "\\n",
                '\v' => "\\v",
                '\f' => "\\f",
                '\r' => "\\r",
                _ => null,
            };
            if (escape is not null)
            {
                display.Append(escape);
            }
            else if (c < 0x20 || c == 0x7F)
            {
                display.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
            }
            else
            {
                display.Append(c);
            }
        }

        return CollapseReplacementCharacters(display.ToString());
    }

    /// <summary>
    /// GLib and .NET replace invalid UTF-8 with U+FFFD at different granularities (per byte or per maximal bad
    /// sequence): a run of them compares as one.
    /// </summary>
    /// Bytes above 0x7F are shown by tshark as UTF-8 when they form valid sequences and as U+FFFD otherwise, with its
    /// own idea of where a bad sequence ends: every run of non-ASCII characters compares as one '?'.
    public static string CollapseReplacementCharacters(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, "[^\\u0000-\\u007F]+", "?");

    /// <summary>
    /// tshark shows a name it could not read as a placeholder such as &lt;Name too long&gt;; we stop reading the
    /// message there (and say why in "malformed"), so tshark's questions are compared up to that point.
    /// </summary>
    public static bool IsPlaceholder(string name) => name.StartsWith('<') && name.EndsWith('>') && name.Contains(' ', StringComparison.Ordinal);

    /// <summary>What differs between two multisets of messages, for an assertion message.</summary>
    public static string Describe(List<MessageKey> ours, List<MessageKey> theirs, int show = 5)
    {
        var onlyTheirs = MultisetMinus(theirs, ours);
        var onlyOurs = MultisetMinus(ours, theirs);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"ours {ours.Count}, tshark {theirs.Count}; only tshark {onlyTheirs.Count}, only ours {onlyOurs.Count}\n");
        foreach (var m in onlyTheirs.Take(show))
        {
            text.Append("  only tshark: ").Append(m).Append('\n');
        }

        foreach (var m in onlyOurs.Take(show))
        {
            text.Append("  only ours:   ").Append(m).Append('\n');
        }

        return text.ToString();
    }

    public static List<MessageKey> MultisetMinus(List<MessageKey> a, List<MessageKey> b)
    {
        var counts = b.GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        var rest = new List<MessageKey>();
        foreach (var x in a)
        {
            if (counts.TryGetValue(x, out int n) && n > 0)
            {
                counts[x] = n - 1;
            }
            else
            {
                rest.Add(x);
            }
        }

        return rest;
    }

    private static string[] Split(string? field) =>
        string.IsNullOrEmpty(field) ? [] : field.Split(',');

    private static int Hex(string? s) =>
        string.IsNullOrEmpty(s) ? -1 : Convert.ToInt32(s.StartsWith("0x", StringComparison.Ordinal) ? s[2..] : s, 16);

    private static int Int(string? s) => string.IsNullOrEmpty(s) ? -1 : int.Parse(s, CultureInfo.InvariantCulture);
}
