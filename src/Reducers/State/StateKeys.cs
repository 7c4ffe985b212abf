using RataDns.DnsWire;

namespace RataDns.Reducers.State;

/// <summary>Whether a key read from a state has the shape its reducer builds (so writing the view cannot fail on it).</summary>
internal delegate bool StateKeyCheck(ReadOnlySpan<byte> key);

/// <summary>
/// Checks of the key formats the built-in reducers store: a name in uncompressed wire form, an address of 4 or 16
/// bytes (0 to 16 accepted: the capture layer hands up what it saw), and composite keys made of them. A key from a
/// state is checked before it is stored, so a hostile state cannot make <see cref="Reducer.WriteData"/> fail later.
/// </summary>
internal static class StateKeys
{
    /// <summary>The longest address a key holds (IPv6).</summary>
    public const int MaxAddressLength = 16;

    /// <summary>
    /// True when <paramref name="key"/> is exactly one name in uncompressed wire form (labels of at most 63 bytes,
    /// the root byte last, at most 255 bytes, no compression pointer).
    /// </summary>
    public static bool IsWireName(ReadOnlySpan<byte> key) =>
        key.Length is >= 1 and <= DnsName.MaxWireLength
        && DnsName.TryRead(key, 0, out DnsName name) == DnsParseStatus.Ok
        && name.EncodedLength == key.Length
        && name.Length == key.Length;

    /// <summary>True for a bare address key (TopClients): at most 16 bytes.</summary>
    public static bool IsAddress(ReadOnlySpan<byte> key) => key.Length <= MaxAddressLength;

    /// <summary>
    /// Skips a length-prefixed address (<c>[length][bytes]</c>, as reducer keys hold one) at the start of
    /// <paramref name="rest"/>; false when it does not fit or is longer than 16 bytes.
    /// </summary>
    public static bool SkipAddress(ref ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty || rest[0] > MaxAddressLength || rest.Length < 1 + rest[0])
        {
            return false;
        }

        rest = rest[(1 + rest[0])..];
        return true;
    }

    /// <summary>Skips <paramref name="count"/> bytes (fixed-size fields); false when fewer remain.</summary>
    public static bool Skip(ref ReadOnlySpan<byte> rest, int count)
    {
        if (rest.Length < count)
        {
            return false;
        }

        rest = rest[count..];
        return true;
    }
}
