using System.Buffers.Binary;
using System.Security.Cryptography;
using RataDns.DnsWire;

namespace RataDns.Transport;

/// <summary>
/// Replaces an IP address with 8 uppercase hex digits, as Speedy did: a keyed hash, so the same address maps to
/// the same token under one key and nobody without the key can test a guess. The hash is SipHash-2-4
/// (Aumasson and Bernstein, 2012), a keyed pseudo-random function built for short inputs; its 64-bit output is
/// folded to 32 bits.
/// </summary>
public sealed class AddressAnonymizer
{
    public const int KeyLength = 16;

    private readonly ulong _k0;
    private readonly ulong _k1;

    public AddressAnonymizer(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"The anonymization key must be {KeyLength} bytes, not {key.Length}.", nameof(key));
        }

        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(key);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(key[8..]);
    }

    /// <summary>An anonymizer with a fresh random key (tokens are stable within one run only).</summary>
    public static AddressAnonymizer WithRandomKey()
    {
        Span<byte> key = stackalloc byte[KeyLength];
        RandomNumberGenerator.Fill(key);
        return new AddressAnonymizer(key);
    }

    /// <summary>
    /// Reads a key: 32 hex digits (surrounding white space ignored), or exactly 16 raw bytes.
    /// </summary>
    public static AddressAnonymizer FromKeyText(ReadOnlySpan<byte> content, string origin)
    {
        if (content.Length == KeyLength && !IsHexText(content))
        {
            return new AddressAnonymizer(content);
        }

        var text = System.Text.Encoding.ASCII.GetString(content).Trim();
        if (text.Length != 2 * KeyLength || !IsHexText(System.Text.Encoding.ASCII.GetBytes(text)))
        {
            throw new FormatException($"{origin}: an anonymization key is 32 hex digits (or a 16-byte binary file).");
        }

        return new AddressAnonymizer(Convert.FromHexString(text));
    }

    /// <summary>Writes the 8-character token of <paramref name="address"/> (4 or 16 bytes) into <paramref name="utf8Destination"/>.</summary>
    public void WriteToken(ReadOnlySpan<byte> address, Span<byte> utf8Destination)
    {
        ulong h = SipHash24(address);
        uint folded = (uint)(h ^ (h >> 32));
        ReadOnlySpan<byte> digits = "0123456789ABCDEF"u8;
        for (int i = 7; i >= 0; i--)
        {
            utf8Destination[i] = digits[(int)(folded & 0xF)];
            folded >>= 4;
        }
    }

    /// <summary>SipHash-2-4 of <paramref name="data"/> under this anonymizer's key.</summary>
    public ulong SipHash24(ReadOnlySpan<byte> data) => SipHash.Hash24(_k0, _k1, data);

    private static bool IsHexText(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (!char.IsAsciiHexDigit((char)b))
            {
                return false;
            }
        }

        return true;
    }
}
