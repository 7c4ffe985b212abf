using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RataDns.DnsWire;

/// <summary>
/// A domain name inside a message: a validated view (message + offset), never a copy. Compression pointers are
/// followed on demand. Comparison and hashing are ASCII case-insensitive (RFC 4343) and allocate nothing.
/// </summary>
public readonly ref struct DnsName
{
    /// <summary>Names are at most 255 bytes in wire form (RFC 1035 3.1).</summary>
    public const int MaxWireLength = 255;

    /// <summary>
    /// Bound on chained pointers. Each pointer must point before the run that led to it, so chains end anyway;
    /// the bound keeps the worst case small (no real encoder chains more than a few).
    /// </summary>
    public const int MaxPointerHops = 64;

    /// <summary>Longest presentation form: 255 wire bytes where every byte is written as \DDD, plus dots.</summary>
    public const int MaxPresentationLength = 4 * MaxWireLength + 1;

    private readonly ReadOnlySpan<byte> _message;

    private DnsName(ReadOnlySpan<byte> message, int offset, int wireLength, int length, int labelCount)
    {
        _message = message;
        Offset = offset;
        EncodedLength = wireLength;
        Length = length;
        LabelCount = labelCount;
    }

    /// <summary>Where the name starts in the message.</summary>
    public int Offset { get; }

    /// <summary>How many bytes the name occupies at <see cref="Offset"/> (up to and including its first pointer).</summary>
    public int EncodedLength { get; }

    /// <summary>The uncompressed wire length: the sum of (label length + 1) plus the root byte; 1 for the root.</summary>
    public int Length { get; }

    public int LabelCount { get; }

    public bool IsRoot => LabelCount == 0;

    /// <summary>
    /// Reads and validates a name at <paramref name="offset"/>. Pointers must point strictly before the start of
    /// the run of labels that led to them (so every hop goes backwards and loops are impossible), at most
    /// <see cref="MaxPointerHops"/> of them; labels of type 01 and 10 are rejected; the name must fit in 255 bytes.
    /// </summary>
    public static DnsParseStatus TryRead(ReadOnlySpan<byte> message, int offset, out DnsName name)
    {
        var noCache = default(NameCache);
        return TryRead(message, offset, ref noCache, out name);
    }

    /// <summary>
    /// As <see cref="TryRead(ReadOnlySpan{byte}, int, out DnsName)"/>, but a pointer that lands on the start of a
    /// name in <paramref name="cache"/> (validated earlier in the same message) ends the walk; a name read in full
    /// is added to the cache.
    /// </summary>
    internal static DnsParseStatus TryRead(ReadOnlySpan<byte> message, int offset, scoped ref NameCache cache, out DnsName name)
    {
        name = default;
        int pos = offset;
        int runStart = offset;
        int encodedLength = -1;
        int length = 0;
        int labels = 0;
        int hops = 0;
        while (true)
        {
            if ((uint)pos >= (uint)message.Length)
            {
                return DnsParseStatus.Truncated;
            }

            byte b = message[pos];
            switch (b & 0xC0)
            {
                case 0x00:
                    if (b == 0)
                    {
                        length += 1;
                        if (encodedLength < 0)
                        {
                            encodedLength = pos + 1 - offset;
                        }

                        name = new DnsName(message, offset, encodedLength, length, labels);
                        cache.Add(offset, length, labels, hops);
                        return DnsParseStatus.Ok;
                    }

                    if (pos + 1 + b > message.Length)
                    {
                        return DnsParseStatus.Truncated;
                    }

                    length += b + 1;
                    if (length + 1 > MaxWireLength)
                    {
                        return DnsParseStatus.NameTooLong;
                    }

                    labels++;
                    pos += 1 + b;
                    break;

                case 0xC0:
                    if (pos + 1 >= message.Length)
                    {
                        return DnsParseStatus.Truncated;
                    }

                    int target = ((b & 0x3F) << 8) | message[pos + 1];
                    if (encodedLength < 0)
                    {
                        encodedLength = pos + 2 - offset;
                    }

                    if (target >= pos)
                    {
                        return DnsParseStatus.ForwardPointer;
                    }

                    if (target >= runStart || ++hops > MaxPointerHops)
                    {
                        return DnsParseStatus.PointerLoop;
                    }

                    if (cache.TryGet(target, out int knownLength, out int knownLabels, out int knownHops))
                    {
                        length += knownLength;
                        if (length > MaxWireLength)
                        {
                            return DnsParseStatus.NameTooLong;
                        }

                        if (hops + knownHops > MaxPointerHops)
                        {
                            return DnsParseStatus.PointerLoop;
                        }

                        name = new DnsName(message, offset, encodedLength, length, labels + knownLabels);
                        return DnsParseStatus.Ok;
                    }

                    runStart = target;
                    pos = target;
                    break;

                default:
                    // 0x40: extended label type (RFC 6891 5, none in use); 0x80: reserved (RFC 1035 4.1.4).
                    return DnsParseStatus.BadLabelType;
            }
        }
    }

    /// <summary>The labels, first to last, each as a slice of the message (pointers followed).</summary>
    public LabelEnumerator EnumerateLabels() => new(_message, Offset);

    /// <summary>ASCII case-insensitive comparison of two names, label by label (RFC 4343).</summary>
    public bool Equals(DnsName other)
    {
        if (Length != other.Length || LabelCount != other.LabelCount)
        {
            return false;
        }

        var a = EnumerateLabels();
        var b = other.EnumerateLabels();
        while (a.MoveNext())
        {
            b.MoveNext();
            if (!AsciiEqualsIgnoreCase(a.Current, b.Current))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Compares with a dotted ASCII name such as "www.example.com" (trailing dot optional, "." or "" is the root).
    /// Meant for configuration and tests: escapes are not interpreted.
    /// </summary>
    public bool EqualsDotted(ReadOnlySpan<byte> dotted)
    {
        if (dotted.Length > 0 && dotted[^1] == (byte)'.')
        {
            dotted = dotted[..^1];
        }

        var labels = EnumerateLabels();
        while (labels.MoveNext())
        {
            if (dotted.IsEmpty)
            {
                return false;
            }

            int dot = dotted.IndexOf((byte)'.');
            var part = dot < 0 ? dotted : dotted[..dot];
            if (!AsciiEqualsIgnoreCase(labels.Current, part))
            {
                return false;
            }

            dotted = dot < 0 ? default : dotted[(dot + 1)..];
        }

        return dotted.IsEmpty;
    }

    /// <summary>
    /// A case-insensitive hash of the name, seeded per process by <see cref="HashCode"/> (so traffic cannot aim at
    /// collisions in tables keyed by names).
    /// </summary>
    public int GetCaseInsensitiveHash()
    {
        Span<byte> lowered = stackalloc byte[MaxWireLength];
        int n = CopyWireFormTo(lowered, lowerCase: true);
        var hash = default(HashCode);
        hash.AddBytes(lowered[..n]);
        return hash.ToHashCode();
    }

    /// <summary>
    /// Writes the uncompressed wire form (length-prefixed labels and the root byte) into <paramref name="destination"/>,
    /// which must hold <see cref="Length"/> bytes. Returns the number of bytes written.
    /// </summary>
    public int CopyWireFormTo(Span<byte> destination, bool lowerCase = false)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException("The destination is shorter than the name.", nameof(destination));
        }

        if (EncodedLength == Length)
        {
            // No compression pointer: the wire form lies in the message as it is. Its length bytes (0..63) are never
            // letters, so lowercasing every byte of it lowercases the labels only.
            var wire = _message.Slice(Offset, Length);
            if (lowerCase)
            {
                CopyAsciiLowercase(wire, destination);
            }
            else
            {
                wire.CopyTo(destination);
            }

            return Length;
        }

        int n = 0;
        var labels = EnumerateLabels();
        while (labels.MoveNext())
        {
            var label = labels.Current;
            destination[n++] = (byte)label.Length;
            if (lowerCase)
            {
                for (int i = 0; i < label.Length; i++)
                {
                    destination[n + i] = AsciiToLower(label[i]);
                }
            }
            else
            {
                label.CopyTo(destination[n..]);
            }

            n += label.Length;
        }

        destination[n++] = 0;
        return n;
    }

    /// <summary>
    /// Writes the name in presentation format (RFC 1035 5.1) as UTF-8: labels joined by dots with a trailing dot,
    /// "." for the root. Bytes outside 0x21..0x7E are written as \DDD and the specials <c>. \ " ( ) ; @ $</c> are
    /// escaped with a backslash, as dig and zone files do. Returns false when the destination is too small.
    /// </summary>
    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten)
    {
        var writer = new Utf8SpanWriter(utf8Destination);
        WriteTo(ref writer);
        bytesWritten = writer.Position;
        return !writer.Overflowed;
    }

    internal void WriteTo(ref Utf8SpanWriter writer)
    {
        if (LabelCount == 0)
        {
            writer.Write((byte)'.');
            return;
        }

        var labels = EnumerateLabels();
        while (labels.MoveNext())
        {
            PresentationText.WriteLabel(ref writer, labels.Current);
            writer.Write((byte)'.');
        }
    }

    /// <summary>The presentation form as a string; allocates (for tests, logs and configuration only).</summary>
    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[MaxPresentationLength];
        TryFormat(buffer, out int n);
        return System.Text.Encoding.UTF8.GetString(buffer[..n]);
    }

    /// <summary>Copies <paramref name="source"/> with ASCII A-Z lowercased (other bytes unchanged), 16 bytes at a time.</summary>
    private static void CopyAsciiLowercase(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var upperA = Vector128.Create((byte)'A');
            var letters = Vector128.Create((byte)('Z' - 'A'));
            var caseBit = Vector128.Create((byte)0x20);
            for (; i + Vector128<byte>.Count <= source.Length; i += Vector128<byte>.Count)
            {
                var bytes = Vector128.Create(source.Slice(i, Vector128<byte>.Count));
                // (b - 'A') <= 25, unsigned: the upper-case letters.
                var upper = Vector128.LessThanOrEqual(bytes - upperA, letters);
                (bytes | (upper & caseBit)).CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = AsciiToLower(source[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte AsciiToLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    internal static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && AsciiToLower(a[i]) != AsciiToLower(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Walks the labels of a name already validated by <see cref="TryRead(ReadOnlySpan{byte}, int, out DnsName)"/>.</summary>
    public ref struct LabelEnumerator
    {
        private readonly ReadOnlySpan<byte> _message;
        private int _pos;
        private int _hops;
        private ReadOnlySpan<byte> _current;

        internal LabelEnumerator(ReadOnlySpan<byte> message, int offset)
        {
            _message = message;
            _pos = offset;
            _hops = 0;
            _current = default;
        }

        public readonly ReadOnlySpan<byte> Current => _current;

        public bool MoveNext()
        {
            // Re-checks bounds defensively: a default(DnsName) or a name from another message must not fault.
            while ((uint)_pos < (uint)_message.Length)
            {
                byte b = _message[_pos];
                if (b == 0)
                {
                    return false;
                }

                if ((b & 0xC0) == 0xC0)
                {
                    if (_pos + 1 >= _message.Length || ++_hops > MaxPointerHops)
                    {
                        return false;
                    }

                    _pos = ((b & 0x3F) << 8) | _message[_pos + 1];
                    continue;
                }

                if ((b & 0xC0) != 0 || _pos + 1 + b > _message.Length)
                {
                    return false;
                }

                _current = _message.Slice(_pos + 1, b);
                _pos += 1 + b;
                return true;
            }

            return false;
        }
    }
}
