using RataDns.DnsWire;

namespace RataDns.Tests.DnsWire;

public class HashKeysTests
{
    /// <summary>
    /// A version-4 GUID fixes 6 of its 128 bits (RFC 4122 4.4: the version nibble and the variant's two bits), so a
    /// key taken from a single GUID would keep those positions constant. Over 256 keys, a position that is truly
    /// random stays constant with probability 2^-255: every one of the 128 bits must have taken both values.
    /// </summary>
    [Fact]
    public void Every_bit_of_a_key_varies_including_those_a_guid_fixes()
    {
        ulong and0 = ulong.MaxValue, or0 = 0, and1 = ulong.MaxValue, or1 = 0;
        var seen = new HashSet<(ulong, ulong)>();
        for (int i = 0; i < 256; i++)
        {
            var (k0, k1) = HashKeys.New();
            and0 &= k0;
            or0 |= k0;
            and1 &= k1;
            or1 |= k1;
            seen.Add((k0, k1));
        }

        Assert.Equal(0UL, and0);
        Assert.Equal(ulong.MaxValue, or0);
        Assert.Equal(0UL, and1);
        Assert.Equal(ulong.MaxValue, or1);
        Assert.Equal(256, seen.Count);
    }

    /// <summary>The two halves of a key are independent draws, not one value twice.</summary>
    [Fact]
    public void The_two_halves_of_a_key_differ()
    {
        for (int i = 0; i < 64; i++)
        {
            var (k0, k1) = HashKeys.New();
            Assert.NotEqual(k0, k1);
        }
    }
}
