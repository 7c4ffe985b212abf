namespace RataDns.DnsWire;

/// <summary>CLASS values (RFC 1035 3.2.4, RFC 2136 for NONE) and their mnemonics.</summary>
public static class DnsClass
{
    public const ushort IN = 1;
    public const ushort CH = 3;
    public const ushort HS = 4;
    public const ushort NONE = 254;
    public const ushort ANY = 255;

    /// <summary>The mnemonic, or CLASSnnn (RFC 3597 5) for classes without one.</summary>
    public static bool TryFormat(ushort @class, Span<byte> utf8Destination, out int bytesWritten)
    {
        var writer = new Utf8SpanWriter(utf8Destination);
        var mnemonic = @class switch
        {
            IN => "IN"u8,
            CH => "CH"u8,
            HS => "HS"u8,
            NONE => "NONE"u8,
            ANY => "ANY"u8,
            _ => default,
        };
        if (mnemonic.IsEmpty)
        {
            writer.Write("CLASS"u8);
            writer.WriteDecimal(@class);
        }
        else
        {
            writer.Write(mnemonic);
        }

        bytesWritten = writer.Position;
        return !writer.Overflowed;
    }
}
