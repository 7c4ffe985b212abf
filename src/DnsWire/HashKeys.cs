using System.Buffers.Binary;

namespace RataDns.DnsWire;

/// <summary>
/// Secret 128-bit keys for the keyed hashes of this process's tables (<see cref="SipHash"/>: names, addresses, flows),
/// so that a sender cannot choose keys that collide (hash flooding). Drawn from the operating system's secure random
/// source through <see cref="Guid.NewGuid"/>, which on Linux reads it directly (getrandom), instead of
/// <c>RandomNumberGenerator</c>, whose first use loads and initialises OpenSSL: about 8 ms of every command's
/// start-up, for 16 bytes (bench/README.md, "Start-up").
/// </summary>
public static class HashKeys
{
    /// <summary>A new random key.</summary>
    /// <remarks>
    /// A version-4 GUID holds 122 random bits: the version's 4 bits (the top of its first 8 bytes read little-endian)
    /// and the variant's 2 bits (bits 6 and 7 of its last 8 bytes) are fixed. Each half of the key XORs the first 8
    /// bytes of one GUID with the last 8 of another: the fixed bits of the two never share a position, so every bit of
    /// the result is uniformly random.
    /// </remarks>
    public static (ulong K0, ulong K1) New()
    {
        Span<byte> first = stackalloc byte[16];
        Span<byte> second = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(first);
        Guid.NewGuid().TryWriteBytes(second);
        ulong k0 = BinaryPrimitives.ReadUInt64LittleEndian(first) ^ BinaryPrimitives.ReadUInt64LittleEndian(second[8..]);
        ulong k1 = BinaryPrimitives.ReadUInt64LittleEndian(first[8..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(second);
        return (k0, k1);
    }
}
