namespace RataDns.DnsWire;

/// <summary>MX (RFC 1035 3.3.9).</summary>
public readonly ref struct MxRdata(ushort preference, DnsName exchange)
{
    public ushort Preference { get; } = preference;
    public DnsName Exchange { get; } = exchange;
}

/// <summary>SOA (RFC 1035 3.3.13).</summary>
public readonly ref struct SoaRdata(DnsName primary, DnsName mailbox, uint serial, uint refresh, uint retry, uint expire, uint minimum)
{
    public DnsName PrimaryNameServer { get; } = primary;
    public DnsName ResponsibleMailbox { get; } = mailbox;
    public uint Serial { get; } = serial;
    public uint Refresh { get; } = refresh;
    public uint Retry { get; } = retry;
    public uint Expire { get; } = expire;
    public uint Minimum { get; } = minimum;
}

/// <summary>SRV (RFC 2782).</summary>
public readonly ref struct SrvRdata(ushort priority, ushort weight, ushort port, DnsName target)
{
    public ushort Priority { get; } = priority;
    public ushort Weight { get; } = weight;
    public ushort Port { get; } = port;
    public DnsName Target { get; } = target;
}

/// <summary>NAPTR (RFC 3403 4.1). Flags, services and regexp are character-string contents (no length byte).</summary>
public readonly ref struct NaptrRdata(ushort order, ushort preference, ReadOnlySpan<byte> flags, ReadOnlySpan<byte> services, ReadOnlySpan<byte> regexp, DnsName replacement)
{
    public ushort Order { get; } = order;
    public ushort Preference { get; } = preference;
    public ReadOnlySpan<byte> Flags { get; } = flags;
    public ReadOnlySpan<byte> Services { get; } = services;
    public ReadOnlySpan<byte> Regexp { get; } = regexp;
    public DnsName Replacement { get; } = replacement;
}

/// <summary>DS and CDS (RFC 4034 5.1, RFC 7344).</summary>
public readonly ref struct DsRdata(ushort keyTag, byte algorithm, byte digestType, ReadOnlySpan<byte> digest)
{
    public ushort KeyTag { get; } = keyTag;
    public byte Algorithm { get; } = algorithm;
    public byte DigestType { get; } = digestType;
    public ReadOnlySpan<byte> Digest { get; } = digest;
}

/// <summary>DNSKEY and CDNSKEY (RFC 4034 2.1).</summary>
public readonly ref struct DnskeyRdata(ushort flags, byte protocol, byte algorithm, ReadOnlySpan<byte> publicKey)
{
    public ushort Flags { get; } = flags;
    public byte Protocol { get; } = protocol;
    public byte Algorithm { get; } = algorithm;
    public ReadOnlySpan<byte> PublicKey { get; } = publicKey;
    public bool IsZoneKey => (Flags & 0x0100) != 0;
    public bool IsSecureEntryPoint => (Flags & 0x0001) != 0;
}

/// <summary>RRSIG (RFC 4034 3.1). Times are seconds since 1970 in serial number arithmetic.</summary>
public readonly ref struct RrsigRdata(ushort typeCovered, byte algorithm, byte labels, uint originalTtl, uint expiration, uint inception, ushort keyTag, DnsName signer, ReadOnlySpan<byte> signature)
{
    public ushort TypeCovered { get; } = typeCovered;
    public byte Algorithm { get; } = algorithm;
    public byte Labels { get; } = labels;
    public uint OriginalTtl { get; } = originalTtl;
    public uint Expiration { get; } = expiration;
    public uint Inception { get; } = inception;
    public ushort KeyTag { get; } = keyTag;
    public DnsName SignerName { get; } = signer;
    public ReadOnlySpan<byte> Signature { get; } = signature;
}

/// <summary>NSEC (RFC 4034 4.1).</summary>
public readonly ref struct NsecRdata(DnsName next, ReadOnlySpan<byte> typeBitmaps)
{
    public DnsName NextDomainName { get; } = next;
    public ReadOnlySpan<byte> TypeBitmaps { get; } = typeBitmaps;
    public TypeBitmapEnumerator EnumerateTypes() => new(TypeBitmaps);
}

/// <summary>NSEC3 (RFC 5155 3.2).</summary>
public readonly ref struct Nsec3Rdata(byte hashAlgorithm, byte flags, ushort iterations, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nextHashedOwner, ReadOnlySpan<byte> typeBitmaps)
{
    public byte HashAlgorithm { get; } = hashAlgorithm;
    public byte Flags { get; } = flags;
    public ushort Iterations { get; } = iterations;
    public ReadOnlySpan<byte> Salt { get; } = salt;
    public ReadOnlySpan<byte> NextHashedOwner { get; } = nextHashedOwner;
    public ReadOnlySpan<byte> TypeBitmaps { get; } = typeBitmaps;
    public bool OptOut => (Flags & 1) != 0;
    public TypeBitmapEnumerator EnumerateTypes() => new(TypeBitmaps);
}

/// <summary>CAA (RFC 8659 4.1).</summary>
public readonly ref struct CaaRdata(byte flags, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> value)
{
    public byte Flags { get; } = flags;
    public ReadOnlySpan<byte> Tag { get; } = tag;
    public ReadOnlySpan<byte> Value { get; } = value;
    public bool IsCritical => (Flags & 0x80) != 0;
}

/// <summary>SVCB and HTTPS (RFC 9460 2.2). Priority 0 is AliasMode.</summary>
public readonly ref struct SvcbRdata(ushort priority, DnsName target, ReadOnlySpan<byte> parameters)
{
    public ushort Priority { get; } = priority;
    public DnsName Target { get; } = target;
    public ReadOnlySpan<byte> Parameters { get; } = parameters;
    public bool IsAliasMode => Priority == 0;
    public SvcParamEnumerator EnumerateParameters() => new(Parameters);
}
