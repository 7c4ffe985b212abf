using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

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
    public ulong SipHash24(ReadOnlySpan<byte> data)
    {
        ulong v0 = 0x736f6d6570736575UL ^ _k0;
        ulong v1 = 0x646f72616e646f6dUL ^ _k1;
        ulong v2 = 0x6c7967656e657261UL ^ _k0;
        ulong v3 = 0x7465646279746573UL ^ _k1;

        int whole = data.Length & ~7;
        for (int i = 0; i < whole; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        // Last block: the remaining bytes little-endian, with the message length (mod 256) in the top byte.
        ulong last = (ulong)(data.Length & 0xFF) << 56;
        for (int i = data.Length - 1; i >= whole; i--)
        {
            last |= (ulong)data[i] << (8 * (i - whole));
        }

        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;

        v2 ^= 0xFF;
        for (int i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }

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
