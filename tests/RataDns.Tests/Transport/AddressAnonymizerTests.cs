using RataDns.Transport;

namespace RataDns.Tests.Transport;

public class AddressAnonymizerTests
{
    private static readonly byte[] ReferenceKey = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();

    /// <summary>Test vectors of the SipHash paper (Aumasson and Bernstein, 2012): key 00..0f, message 00..(n-1).</summary>
    [Theory]
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    public void SipHash24_matches_the_reference_vectors(int length, ulong expected)
    {
        var anonymizer = new AddressAnonymizer(ReferenceKey);
        var message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        Assert.Equal(expected, anonymizer.SipHash24(message));
    }

    [Fact]
    public void Tokens_are_8_uppercase_hex_digits_stable_under_one_key_and_differ_across_keys()
    {
        var a = new AddressAnonymizer(ReferenceKey);
        var b = AddressAnonymizer.FromKeyText("ffeeddccbbaa99887766554433221100"u8, "test");
        byte[] address = [192, 0, 2, 1];
        byte[] other = [192, 0, 2, 2];
        string Token(AddressAnonymizer x, byte[] addr)
        {
            var text = new byte[8];
            x.WriteToken(addr, text);
            return System.Text.Encoding.ASCII.GetString(text);
        }

        Assert.Matches("^[0-9A-F]{8}$", Token(a, address));
        Assert.Equal(Token(a, address), Token(a, address));
        Assert.NotEqual(Token(a, address), Token(a, other));
        Assert.NotEqual(Token(a, address), Token(b, address));
    }

    [Theory]
    [InlineData("0011")]
    [InlineData("zz112233445566778899aabbccddeeff")]
    public void A_bad_key_is_a_clear_error(string key)
    {
        var e = Assert.Throws<FormatException>(() => AddressAnonymizer.FromKeyText(System.Text.Encoding.ASCII.GetBytes(key), "--anon-key"));
        Assert.Contains("32 hex digits", e.Message, StringComparison.Ordinal);
    }
}
