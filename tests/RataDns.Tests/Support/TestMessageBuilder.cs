using System.Buffers.Binary;
using System.Text;

namespace RataDns.Tests.Support;

/// <summary>
/// A small, independent DNS message writer for tests: header, questions, records, names with optional suffix
/// compression (RFC 1035 4.1.4), and raw bytes for hostile cases. Counts default to what was added.
/// </summary>
internal sealed class TestMessageBuilder
{
    private readonly List<byte> _bytes = new(new byte[12]);
    private readonly Dictionary<string, int> _suffixes = new(StringComparer.OrdinalIgnoreCase);
    private int _questions;
    private int _answers;
    private int _authorities;
    private int _additionals;
    private int _section = 1;

    public bool Compress { get; set; } = true;

    public ushort Id { get; set; }

    public ushort Flags { get; set; }

    public int[]? CountsOverride { get; set; }

    public int Length => _bytes.Count;

    public TestMessageBuilder Question(string name, ushort type, ushort @class = 1)
    {
        Name(name);
        U16(type);
        U16(@class);
        _questions++;
        return this;
    }

    /// <summary>Starts the answer (1), authority (2) or additional (3) section for the next records.</summary>
    public TestMessageBuilder Section(int section)
    {
        _section = section;
        return this;
    }

    public TestMessageBuilder Record(string name, ushort type, ushort @class, uint ttl, Action<TestMessageBuilder> rdata)
    {
        Name(name);
        U16(type);
        U16(@class);
        U32(ttl);
        int lengthAt = _bytes.Count;
        U16(0);
        int start = _bytes.Count;
        rdata(this);
        int length = _bytes.Count - start;
        _bytes[lengthAt] = (byte)(length >> 8);
        _bytes[lengthAt + 1] = (byte)length;
        switch (_section)
        {
            case 1: _answers++; break;
            case 2: _authorities++; break;
            default: _additionals++; break;
        }

        return this;
    }

    public TestMessageBuilder Record(string name, ushort type, uint ttl, byte[] rdata) =>
        Record(name, type, 1, ttl, b => b.Bytes(rdata));

    /// <summary>Writes a name given in dotted form ("." is the root); labels are taken literally (no escapes).</summary>
    public TestMessageBuilder Name(string dotted) => Name(SplitLabels(dotted));

    public TestMessageBuilder Name(IReadOnlyList<byte[]> labels)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            string suffix = SuffixKey(labels, i);
            if (Compress && _suffixes.TryGetValue(suffix, out int target))
            {
                U16((ushort)(0xC000 | target));
                return this;
            }

            if (_bytes.Count < 0x3FFF)
            {
                _suffixes.TryAdd(suffix, _bytes.Count);
            }

            _bytes.Add((byte)labels[i].Length);
            _bytes.AddRange(labels[i]);
        }

        _bytes.Add(0);
        return this;
    }

    public TestMessageBuilder U8(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public TestMessageBuilder U16(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
        return this;
    }

    public TestMessageBuilder U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public TestMessageBuilder Bytes(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public TestMessageBuilder CharacterString(string text) => CharacterString(Encoding.ASCII.GetBytes(text));

    public TestMessageBuilder CharacterString(byte[] text)
    {
        _bytes.Add((byte)text.Length);
        _bytes.AddRange(text);
        return this;
    }

    public void PatchU16(int at, ushort value)
    {
        _bytes[at] = (byte)(value >> 8);
        _bytes[at + 1] = (byte)value;
    }

    public byte[] ToArray()
    {
        var result = _bytes.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(result, Id);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), Flags);
        int[] counts = CountsOverride ?? [_questions, _answers, _authorities, _additionals];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(4 + (2 * i)), (ushort)counts[i]);
        }

        return result;
    }

    public static List<byte[]> SplitLabels(string dotted)
    {
        var trimmed = dotted.TrimEnd('.');
        return trimmed.Length == 0
            ? []
            : trimmed.Split('.').Select(l => Encoding.ASCII.GetBytes(l)).ToList();
    }

    private static string SuffixKey(IReadOnlyList<byte[]> labels, int from)
    {
        var key = new StringBuilder();
        for (int i = from; i < labels.Count; i++)
        {
            key.Append(Convert.ToHexString(labels[i]).ToLowerInvariant()).Append('.');
        }

        return key.ToString();
    }
}
