using System.Text;
using RataDns.DnsWire;

namespace RataDns.Tests.DnsWire;

public class DnsNameTests
{
    /// <summary>
    /// The compression example of RFC 1035 4.1.4: F.ISI.ARPA at offset 20, FOO.F.ISI.ARPA at 40 as "FOO" and a
    /// pointer to 20, ARPA at 64 as a pointer to 26, and the root at 92.
    /// </summary>
    private static byte[] Rfc1035CompressionExample()
    {
        var m = new byte[100];
        byte[] f = [1, (byte)'F', 3, (byte)'I', (byte)'S', (byte)'I', 4, (byte)'A', (byte)'R', (byte)'P', (byte)'A', 0];
        f.CopyTo(m, 20);
        byte[] foo = [3, (byte)'F', (byte)'O', (byte)'O', 0xC0, 20];
        foo.CopyTo(m, 40);
        m[64] = 0xC0;
        m[65] = 26;
        m[92] = 0;
        return m;
    }

    [Theory]
    [InlineData(20, "F.ISI.ARPA.", 12, 12, 3)]
    [InlineData(40, "FOO.F.ISI.ARPA.", 6, 16, 4)]
    [InlineData(64, "ARPA.", 2, 6, 1)]
    [InlineData(92, ".", 1, 1, 0)]
    public void Reads_the_rfc1035_compression_example(int offset, string text, int encoded, int length, int labels)
    {
        var message = Rfc1035CompressionExample();
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(message, offset, out var name));
        Assert.Equal(text, name.ToString());
        Assert.Equal(encoded, name.EncodedLength);
        Assert.Equal(length, name.Length);
        Assert.Equal(labels, name.LabelCount);
    }

    [Fact]
    public void A_pointer_to_itself_is_a_forward_pointer()
    {
        byte[] m = [0xC0, 0x00];
        Assert.Equal(DnsParseStatus.ForwardPointer, DnsName.TryRead(m, 0, out _));
    }

    [Fact]
    public void A_pointer_forward_is_rejected()
    {
        byte[] m = [0xC0, 0x03, 0, 1, (byte)'a', 0];
        Assert.Equal(DnsParseStatus.ForwardPointer, DnsName.TryRead(m, 0, out _));
    }

    [Fact]
    public void A_pointer_back_into_its_own_labels_is_a_loop()
    {
        // "a" then a pointer back to the "a" label: a -> a -> a ...
        byte[] m = [1, (byte)'a', 0xC0, 0x00];
        Assert.Equal(DnsParseStatus.PointerLoop, DnsName.TryRead(m, 0, out _));
    }

    [Fact]
    public void Two_pointers_pointing_at_each_other_are_rejected()
    {
        // offset 2: pointer to 0 (backward, fine); offset 0: pointer to 2, which is forward: the loop is cut there.
        byte[] m = [0xC0, 0x02, 0xC0, 0x00];
        Assert.Equal(DnsParseStatus.ForwardPointer, DnsName.TryRead(m, 2, out _));
    }

    [Fact]
    public void A_long_backward_chain_of_pointers_is_bounded()
    {
        // Each pointer points at the previous one: a chain of 100 hops ending at the root.
        var m = new byte[1 + (2 * 100)];
        m[0] = 0;
        for (int i = 0; i < 100; i++)
        {
            int at = 1 + (2 * i);
            int target = i == 0 ? 0 : at - 2;
            m[at] = (byte)(0xC0 | (target >> 8));
            m[at + 1] = (byte)target;
        }

        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m, 1 + (2 * (DnsName.MaxPointerHops - 1)), out _));
        Assert.Equal(DnsParseStatus.PointerLoop, DnsName.TryRead(m, m.Length - 2, out _));
    }

    [Theory]
    [InlineData(0x40)]
    [InlineData(0x41)]
    [InlineData(0x80)]
    [InlineData(0xBF)]
    public void Reserved_label_types_are_rejected(byte first)
    {
        byte[] m = [first, 0, 0, 0];
        Assert.Equal(DnsParseStatus.BadLabelType, DnsName.TryRead(m, 0, out _));
    }

    [Fact]
    public void A_name_of_exactly_255_bytes_is_accepted_and_256_is_not()
    {
        // 3 labels of 63 + 1 label of 61: 3*64 + 62 + 1 = 255.
        var ok = BuildName(63, 63, 63, 61);
        Assert.Equal(255, ok.Length);
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(ok, 0, out var name));
        Assert.Equal(255, name.Length);

        var tooLong = BuildName(63, 63, 63, 62);
        Assert.Equal(DnsParseStatus.NameTooLong, DnsName.TryRead(tooLong, 0, out _));
    }

    [Fact]
    public void A_name_made_too_long_through_pointers_is_rejected()
    {
        // 200 bytes of labels, then a name of 100 bytes of labels pointing at them.
        var first = BuildName(63, 63, 63, 7);
        var m = new List<byte>(first);
        int second = m.Count;
        m.AddRange(BuildName(63, 30).AsSpan(0, 64 + 31).ToArray());
        m.Add(0xC0);
        m.Add(0);
        Assert.Equal(DnsParseStatus.NameTooLong, DnsName.TryRead(m.ToArray(), second, out _));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 3, (byte)'a', (byte)'b' })]
    [InlineData(new byte[] { 1, (byte)'a' })]
    [InlineData(new byte[] { 0xC0 })]
    public void A_name_cut_short_is_truncated(byte[] m)
    {
        Assert.Equal(DnsParseStatus.Truncated, DnsName.TryRead(m, 0, out _));
    }

    [Fact]
    public void Equality_and_hash_ignore_ascii_case_only()
    {
        var m = new TestMessageBuilderBytes()
            .Add("WWW.Example.COM")
            .Add("www.example.com")
            .Add("www.example.co")
            .Add("www.exampl\u00e9.com");
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m.Bytes, m.Offsets[0], out var a));
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m.Bytes, m.Offsets[1], out var b));
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m.Bytes, m.Offsets[2], out var c));
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m.Bytes, m.Offsets[3], out var d));
        Assert.True(a.Equals(b));
        Assert.Equal(a.GetCaseInsensitiveHash(), b.GetCaseInsensitiveHash());
        Assert.False(a.Equals(c));
        Assert.False(b.Equals(d));
        Assert.True(a.EqualsDotted("www.example.com."u8));
        Assert.True(a.EqualsDotted("WWW.EXAMPLE.COM"u8));
        Assert.False(a.EqualsDotted("www.example"u8));
        Assert.False(a.EqualsDotted("www.example.com.org"u8));
    }

    /// <summary>Escapes as dig prints them (RFC 1035 5.1: \X for specials, \DDD for other bytes).</summary>
    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'.', (byte)'b' }, "a\\.b.")]
    [InlineData(new byte[] { (byte)'a', (byte)' ', (byte)'b' }, "a\\032b.")]
    [InlineData(new byte[] { (byte)'\\' }, "\\\\.")]
    [InlineData(new byte[] { (byte)'"', (byte)'(', (byte)')', (byte)';', (byte)'@', (byte)'$' }, "\\\"\\(\\)\\;\\@\\$.")]
    [InlineData(new byte[] { 0, 127, 255 }, "\\000\\127\\255.")]
    [InlineData(new byte[] { (byte)'_', (byte)'-', (byte)'*' }, "_-*.")]
    public void Presentation_format_escapes_odd_bytes(byte[] label, string expected)
    {
        var m = new List<byte> { (byte)label.Length };
        m.AddRange(label);
        m.Add(0);
        Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(m.ToArray(), 0, out var name));
        Assert.Equal(expected, name.ToString());
    }

    [Fact]
    public void Formatting_into_a_small_buffer_reports_failure()
    {
        var m = BuildName(10);
        DnsName.TryRead(m, 0, out var name);
        Span<byte> small = stackalloc byte[5];
        Assert.False(name.TryFormat(small, out _));
        Span<byte> enough = stackalloc byte[12];
        Assert.True(name.TryFormat(enough, out int n));
        Assert.Equal(11, n);
    }

    [Fact]
    public void The_wire_form_is_written_uncompressed_and_optionally_lowercased()
    {
        var message = Rfc1035CompressionExample();
        DnsName.TryRead(message, 40, out var name);
        var wire = new byte[name.Length];
        name.CopyWireFormTo(wire, lowerCase: true);
        Assert.Equal(Encoding.ASCII.GetBytes("\u0003foo\u0001f\u0003isi\u0004arpa\0"), wire);
    }

    [Fact]
    public void Lowercasing_an_uncompressed_name_changes_only_the_letters_A_to_Z_of_its_labels()
    {
        // Every byte value in labels of every length, uncompressed (copied whole) and the same labels behind a
        // pointer (copied label by label): both give the wire form with exactly A-Z lowered (RFC 4343: ASCII only).
        var random = new Random(4343);
        for (int round = 0; round < 500; round++)
        {
            var labels = new List<byte[]>();
            int total = 1;
            while (true)
            {
                int length = random.Next(1, 64);
                if (total + 1 + length > DnsName.MaxWireLength)
                {
                    break;
                }

                var label = new byte[length];
                random.NextBytes(label);
                labels.Add(label);
                total += 1 + length;
                if (random.Next(4) == 0)
                {
                    break;
                }
            }

            var expected = new List<byte>();
            foreach (var label in labels)
            {
                expected.Add((byte)label.Length);
                expected.AddRange(label.Select(b => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b));
            }

            expected.Add(0);
            var plain = new List<byte>();
            foreach (var label in labels)
            {
                plain.Add((byte)label.Length);
                plain.AddRange(label);
            }

            plain.Add(0);
            byte[] uncompressed = [.. plain];
            byte[] compressed = [.. plain, 0xC0, 0x00];
            Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(uncompressed, 0, out var whole));
            Assert.Equal(DnsParseStatus.Ok, DnsName.TryRead(compressed, plain.Count, out var pointed));
            var first = new byte[whole.Length];
            var second = new byte[pointed.Length];
            Assert.Equal(expected.Count, whole.CopyWireFormTo(first, lowerCase: true));
            Assert.Equal(expected.Count, pointed.CopyWireFormTo(second, lowerCase: true));
            Assert.Equal(expected.ToArray(), first);
            Assert.Equal(expected.ToArray(), second);
            whole.CopyWireFormTo(first);
            Assert.Equal(uncompressed, first);
        }
    }

    private static byte[] BuildName(params int[] labelLengths)
    {
        var m = new List<byte>();
        foreach (int n in labelLengths)
        {
            m.Add((byte)n);
            m.AddRange(Enumerable.Repeat((byte)'x', n));
        }

        m.Add(0);
        return m.ToArray();
    }

    private sealed class TestMessageBuilderBytes
    {
        private readonly List<byte> _bytes = [];

        public List<int> Offsets { get; } = [];

        public byte[] Bytes => _bytes.ToArray();

        public TestMessageBuilderBytes Add(string dotted)
        {
            Offsets.Add(_bytes.Count);
            foreach (var label in dotted.Split('.'))
            {
                var bytes = Encoding.Latin1.GetBytes(label);
                _bytes.Add((byte)bytes.Length);
                _bytes.AddRange(bytes);
            }

            _bytes.Add(0);
            return this;
        }
    }
}
