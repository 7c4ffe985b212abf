using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace RataDns.DnsWire;

/// <summary>
/// SipHash (Aumasson and Bernstein 2012, "SipHash: a fast short-input PRF") over a byte span under a 128-bit
/// secret key. The summaries hash attacker-controlled keys (names, client addresses) with it: without the key a
/// sender cannot predict where a key lands, so cannot fill one hash bucket or steer a HyperLogLog register.
/// <see cref="Hash13"/> (1 compression, 3 finalisation rounds) is the variant Rust and CPython use for their
/// tables; <see cref="Hash24"/> is the paper's reference variant (its appendix vector checks the shared rounds).
/// Allocates nothing.
/// </summary>
public static class SipHash
{
    /// <summary>SipHash-1-3 of <paramref name="data"/> under the key (<paramref name="k0"/>, <paramref name="k1"/>).</summary>
    public static ulong Hash13(ulong k0, ulong k1, ReadOnlySpan<byte> data) => Hash(k0, k1, data, compressionRounds: 1, finalisationRounds: 3);

    /// <summary>SipHash-2-4 of <paramref name="data"/> under the key (<paramref name="k0"/>, <paramref name="k1"/>).</summary>
    public static ulong Hash24(ulong k0, ulong k1, ReadOnlySpan<byte> data) => Hash(k0, k1, data, compressionRounds: 2, finalisationRounds: 4);

    /// <summary>
    /// SipHash-1-3 with a 128-bit output (the reference implementation's 16-byte mode: one pass over the data, two
    /// finalisations): <paramref name="low"/> is the first 8 output bytes, <paramref name="high"/> the last 8, each
    /// read little-endian. About half the cost of two 64-bit hashes under two keys, for a 128-bit fingerprint.
    /// </summary>
    public static void Hash13x128(ulong k0, ulong k1, ReadOnlySpan<byte> data, out ulong low, out ulong high) =>
        Hash128(k0, k1, data, compressionRounds: 1, finalisationRounds: 3, out low, out high);

    /// <summary>SipHash-2-4 with a 128-bit output (see <see cref="Hash13x128"/>; the reference's vectors check it).</summary>
    public static void Hash24x128(ulong k0, ulong k1, ReadOnlySpan<byte> data, out ulong low, out ulong high) =>
        Hash128(k0, k1, data, compressionRounds: 2, finalisationRounds: 4, out low, out high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ulong k0, ulong k1, ReadOnlySpan<byte> data, int compressionRounds, int finalisationRounds)
    {
        Absorb(k0, k1, v1Tweak: 0, data, compressionRounds, out ulong v0, out ulong v1, out ulong v2, out ulong v3);
        v2 ^= 0xFF;
        return Finalise(ref v0, ref v1, ref v2, ref v3, finalisationRounds);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Hash128(ulong k0, ulong k1, ReadOnlySpan<byte> data, int compressionRounds, int finalisationRounds, out ulong low, out ulong high)
    {
        // The 128-bit mode differs in three constants: 0xee into v1 at the start and into v2 before the first
        // finalisation, 0xdd into v1 before the second.
        Absorb(k0, k1, v1Tweak: 0xEE, data, compressionRounds, out ulong v0, out ulong v1, out ulong v2, out ulong v3);
        v2 ^= 0xEE;
        low = Finalise(ref v0, ref v1, ref v2, ref v3, finalisationRounds);
        v1 ^= 0xDD;
        high = Finalise(ref v0, ref v1, ref v2, ref v3, finalisationRounds);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Finalise(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        return v0 ^ v1 ^ v2 ^ v3;
    }

    /// <summary>Initialisation (paper 2.1: the key XORed with "somepseudorandomlygeneratedbytes") and compression.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Absorb(
        ulong k0, ulong k1, ulong v1Tweak, ReadOnlySpan<byte> data, int compressionRounds, out ulong v0, out ulong v1, out ulong v2, out ulong v3)
    {
        v0 = k0 ^ 0x736f6d6570736575UL;
        v1 = k1 ^ 0x646f72616e646f6dUL ^ v1Tweak;
        v2 = k0 ^ 0x6c7967656e657261UL;
        v3 = k1 ^ 0x7465646279746573UL;

        // Compression: the message as little-endian 64-bit words.
        int whole = data.Length & ~7;
        for (int i = 0; i < whole; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8));
            Compress(ref v0, ref v1, ref v2, ref v3, m, compressionRounds);
        }

        // The last word holds the 0..7 remaining bytes (little-endian) and the length mod 256 in its top byte.
        ulong last = (ulong)(byte)data.Length << 56;
        ReadOnlySpan<byte> tail = data[whole..];
        for (int i = 0; i < tail.Length; i++)
        {
            last |= (ulong)tail[i] << (8 * i);
        }

        Compress(ref v0, ref v1, ref v2, ref v3, last, compressionRounds);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compress(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, ulong m, int rounds)
    {
        v3 ^= m;
        for (int r = 0; r < rounds; r++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        v0 ^= m;
    }

    /// <summary>SipRound (paper 2.1, figure 2.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
}
