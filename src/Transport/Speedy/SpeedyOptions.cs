namespace RataDns.Transport.Speedy;

/// <summary>Which parts of a DNS packet the Speedy serializer writes (chosen at start, as in Speedy).</summary>
[Flags]
public enum SpeedySections
{
    None = 0,
    Source = 1,
    Destination = 2,
    Queries = 4,
    Answers = 8,
    Authorities = 16,
    Additionals = 32,
    All = Source | Destination | Queries | Answers | Authorities | Additionals,
}

/// <summary>How each message is framed on the output stream.</summary>
public enum SpeedyFraming
{
    /// <summary>Speedy's own framing: the JSON's byte length in decimal, then the JSON, no separator.</summary>
    LengthPrefixed,

    /// <summary>One JSON object per line.</summary>
    NewlineDelimited,
}

public sealed class SpeedyOptions
{
    public SpeedySections Sections { get; init; } = SpeedySections.All;

    public SpeedyFraming Framing { get; init; } = SpeedyFraming.LengthPrefixed;

    /// <summary>Null writes real addresses; otherwise each address becomes its 8-hex-digit keyed hash.</summary>
    public AddressAnonymizer? Anonymizer { get; init; }

    /// <summary>Types and classes as mnemonics ("A", "IN") instead of decimal strings ("1", "1").</summary>
    public bool Mnemonics { get; init; }

    /// <summary>Adds "qdcount", "ancount", "nscount", "arcount": the header's counts (not in Speedy's format).</summary>
    public bool Counts { get; init; }

    /// <summary>Adds "ts": the capture time as seconds.nanoseconds since 1970 (not in Speedy's format).</summary>
    public bool Timestamps { get; init; }
}
