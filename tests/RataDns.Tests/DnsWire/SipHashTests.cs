using RataDns.DnsWire;

namespace RataDns.Tests.DnsWire;

public class SipHashTests
{
    /// <summary>The SipHash paper's appendix A: key 00..0f, message 00..0e.</summary>
    [Fact]
    public void SipHash24_matches_the_paper_vector()
    {
        byte[] message = [.. Enumerable.Range(0, 15).Select(i => (byte)i)];
        Assert.Equal(0xa129ca6149be45e5UL, SipHash.Hash24(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
    }

    /// <summary>
    /// CPython 3.11+ hashes bytes with SipHash-1-3; with PYTHONHASHSEED=0 its key is zero, so
    /// <c>PYTHONHASHSEED=0 python3 -c "print(hash(b'abc'))"</c> gives these values (as signed 64-bit integers).
    /// </summary>
    [Theory]
    [InlineData("a", 4644417185603328019L)]
    [InlineData("abc", -4594863902769663758L)]
    [InlineData("example.com", 9080438458399421836L)]
    public void SipHash13_matches_cpython(string text, long expected)
    {
        Assert.Equal(expected, (long)SipHash.Hash13(0, 0, System.Text.Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void SipHash13_matches_cpython_on_whole_and_partial_words()
    {
        byte[] fifteen = [.. Enumerable.Range(0, 15).Select(i => (byte)i)];
        byte[] sixtyFour = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];
        Assert.Equal(-932606700130547222L, (long)SipHash.Hash13(0, 0, fifteen));
        Assert.Equal(8493894268803903686L, (long)SipHash.Hash13(0, 0, sixtyFour));
    }
}
