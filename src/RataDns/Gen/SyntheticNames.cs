using System.Text;

namespace RataDns.App.Gen;

/// <summary>What a name is, which decides the query types asked for it and the shape of its answers.</summary>
internal enum NameKind : byte
{
    /// <summary>A host with one to three A or AAAA records (includes malformed host names with '_').</summary>
    Address,

    /// <summary>A host with a large A/AAAA RRset (12 to 35 records).</summary>
    LargeAddress,

    /// <summary>A CDN-style alias: a CNAME into a provider's zone and a few A records for the target.</summary>
    Cname,

    /// <summary>A mail domain: MX and TXT (SPF) queries.</summary>
    Mail,

    /// <summary>A service name such as <c>_sip._udp.example</c>: SRV queries.</summary>
    Service,

    /// <summary>A TXT name such as <c>_dmarc.example</c>.</summary>
    Text,

    /// <summary>A name that does not exist: NXDOMAIN with the zone's SOA.</summary>
    NonExistent,
}

/// <summary>One name of the universe: its uncompressed wire form and what the resolver answers for it.</summary>
internal readonly record struct SyntheticName(byte[] Wire, int SuffixOffset, NameKind Kind, ushort Port, int Provider);

/// <summary>
/// The names clients ask for, built from the seed. Index order is popularity rank (index 0 is the most popular);
/// kinds are mixed across ranks so popular names are not all of one kind.
/// </summary>
internal sealed class NameTable
{
    private static readonly string[] Syllables =
    [
        "ka", "lo", "mi", "ne", "ra", "su", "ti", "vo", "ze", "ba", "co", "di", "fa", "go", "hu", "ji",
        "le", "ma", "no", "pe", "qui", "ro", "sa", "to", "ul", "va", "we", "xi", "yo", "zu", "an", "el",
    ];

    private static readonly string[] Tlds = ["com", "net", "org", "cl", "io", "de", "br", "jp", "uk", "test"];

    private static readonly string[] HostPrefixes = ["www", "", "api", "m", "static", "img", "login", "app", "ns1", "mail", "shop", "cdn"];

    private static readonly string[] MalformedHosts = ["my_host", "desktop_01", "printer_lab", "wpad_proxy", "sql_server"];

    private static readonly string[] Services = ["_sip._udp", "_sip._tcp", "_xmpp-server._tcp", "_ldap._tcp", "_imaps._tcp", "_autodiscover._tcp"];

    private static readonly ushort[] ServicePorts = [5060, 5060, 5269, 389, 993, 443];

    private static readonly string[] CdnProviders = ["edgesuite-example.net", "cloudfront-example.net", "fastly-example.net", "akamai-example.net"];

    private readonly SyntheticName[] _names;
    private readonly byte[][] _cdnProviders;

    public NameTable(int count, ref SplitMix64 random)
    {
        int domains = Math.Max(8, count / 5);
        var domainNames = new string[domains];
        for (int d = 0; d < domains; d++)
        {
            domainNames[d] = Syllables[random.Below(Syllables.Length)] + Syllables[random.Below(Syllables.Length)]
                + (d < Syllables.Length ? "" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))
                + "." + Tlds[random.Below(Tlds.Length)];
        }

        _names = new SyntheticName[count];
        for (int i = 0; i < count; i++)
        {
            string domain = domainNames[i % domains];
            int slot = i / domains;
            int roll = random.Below(1000);
            _names[i] = roll switch
            {
                < 540 => Make(HostPrefixes[slot % HostPrefixes.Length], domain, NameKind.Address),
                < 580 => Make(MalformedHosts[random.Below(MalformedHosts.Length)], domain, NameKind.Address),
                < 620 => Make("pool" + slot.ToString(System.Globalization.CultureInfo.InvariantCulture), domain, NameKind.LargeAddress),
                < 740 => Make(slot % 2 == 0 ? "www" : "assets", domain, NameKind.Cname, provider: random.Below(CdnProviders.Length)),
                < 820 => Make("", domain, NameKind.Mail),
                < 870 => MakeService(random.Below(Services.Length), domain),
                < 910 => Make("_dmarc", domain, NameKind.Text),
                _ => Make(RandomLabel(ref random), domain, NameKind.NonExistent),
            };
        }

        // Mix kinds over popularity ranks (Fisher-Yates).
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Below(i + 1);
            (_names[i], _names[j]) = (_names[j], _names[i]);
        }

        _cdnProviders = [.. CdnProviders.Select(p => Encode(p, out _, 0))];
    }

    public int Count => _names.Length;

    public SyntheticName this[int index] => _names[index];

    /// <summary>The uncompressed wire form of a CDN provider's zone (ends with the root label).</summary>
    public ReadOnlySpan<byte> CdnProvider(int index) => _cdnProviders[index];

    private static SyntheticName Make(string prefix, string domain, NameKind kind, int provider = 0) =>
        new(Encode(prefix.Length == 0 ? domain : prefix + "." + domain, out int suffix, CountLabels(domain)), suffix, kind, 0, provider);

    private static SyntheticName MakeService(int service, string domain) =>
        new(Encode(Services[service] + "." + domain, out int suffix, CountLabels(domain)), suffix, NameKind.Service, ServicePorts[service], 0);

    private static string RandomLabel(ref SplitMix64 random)
    {
        // Typos and random-subdomain lookups: 6 to 12 letters and digits.
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        int length = 6 + random.Below(7);
        var label = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            label.Append(Alphabet[random.Below(Alphabet.Length)]);
        }

        return label.ToString();
    }

    private static int CountLabels(string dotted) => dotted.Count(c => c == '.') + 1;

    /// <summary>
    /// Encodes a dotted ASCII name to wire form; <paramref name="suffixOffset"/> is where its last
    /// <paramref name="suffixLabels"/> labels begin (the registered domain, the target of compression pointers).
    /// </summary>
    private static byte[] Encode(string dotted, out int suffixOffset, int suffixLabels)
    {
        string[] labels = dotted.Split('.');
        var wire = new byte[dotted.Length + 2];
        int p = 0;
        suffixOffset = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (i == labels.Length - suffixLabels)
            {
                suffixOffset = p;
            }

            wire[p++] = (byte)labels[i].Length;
            p += Encoding.ASCII.GetBytes(labels[i], wire.AsSpan(p));
        }

        wire[p] = 0;
        return wire;
    }
}

/// <summary>Client addresses: mostly IPv4 from private ranges, about 15% IPv6 from 2001:db8::/32.</summary>
internal sealed class ClientTable
{
    private readonly byte[][] _addresses;

    public ClientTable(int count, ref SplitMix64 random)
    {
        _addresses = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            ulong bits = random.Next();
            if (bits % 100 < 15)
            {
                var v6 = new byte[16];
                v6[0] = 0x20;
                v6[1] = 0x01;
                v6[2] = 0x0d;
                v6[3] = 0xb8;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(v6.AsSpan(8), random.Next());
                v6[5] = (byte)(bits >> 8);
                _addresses[i] = v6;
            }
            else
            {
                byte[] v4 = ((bits >> 8) % 3) switch
                {
                    0 => [10, (byte)(bits >> 16), (byte)(bits >> 24), (byte)(1 + ((bits >> 32) % 254))],
                    1 => [172, (byte)(16 + ((bits >> 16) % 16)), (byte)(bits >> 24), (byte)(1 + ((bits >> 32) % 254))],
                    _ => [192, 168, (byte)(bits >> 24), (byte)(1 + ((bits >> 32) % 254))],
                };
                _addresses[i] = v4;
            }
        }
    }

    public int Count => _addresses.Length;

    public ReadOnlySpan<byte> this[int index] => _addresses[index];
}

/// <summary>
/// The names of a random-subdomain flood: <c>&lt;label&gt;.zone.</c>, a new label for every pair, never repeated.
/// The label is the pair's sequence number passed through a 64-bit bijection (the SplitMix64 finaliser: xor-shifts
/// and multiplications by odd constants are invertible) and written as 13 base-36 digits (36^13 &gt; 2^64), so labels
/// look random but two pairs never share one. One wire buffer is rewritten in place: no allocation per name.
/// </summary>
internal sealed class FloodNames
{
    /// <summary>Base-36 digits of a 64-bit value, zero-padded: every label has this length.</summary>
    public const int LabelLength = 13;

    private const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";

    private readonly byte[] _wire;
    private ulong _sequence;

    /// <param name="zone">Dotted zone the names are under (no trailing dot).</param>
    /// <param name="start">Where the sequence starts (from the seed), so different seeds give different names.</param>
    public FloodNames(string zone, ulong start)
    {
        var zoneLabels = zone.Split('.');
        _wire = new byte[1 + LabelLength + zoneLabels.Sum(l => 1 + l.Length) + 1];
        _wire[0] = LabelLength;
        int p = 1 + LabelLength;
        foreach (var label in zoneLabels)
        {
            _wire[p++] = (byte)label.Length;
            p += Encoding.ASCII.GetBytes(label, _wire.AsSpan(p));
        }

        _wire[p] = 0;
        _sequence = start;
        Current = new SyntheticName(_wire, 1 + LabelLength, NameKind.NonExistent, 0, 0);
    }

    /// <summary>The current name (its wire array is rewritten by <see cref="Advance"/>).</summary>
    public SyntheticName Current { get; }

    /// <summary>Moves to the next, never-seen name.</summary>
    public void Advance()
    {
        ulong z = _sequence++;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        for (int i = LabelLength; i >= 1; i--)
        {
            _wire[i] = (byte)Digits[(int)(z % 36)];
            z /= 36;
        }
    }
}
