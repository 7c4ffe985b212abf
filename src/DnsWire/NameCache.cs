namespace RataDns.DnsWire;

/// <summary>
/// Remembers the last few names a reader validated: where each started, its uncompressed length and its label
/// count. Records of one RRset usually carry their owner as a pointer to the same earlier name; when a pointer
/// lands exactly on a remembered start, the rest of the name is known to be valid and is not walked again.
/// Only offsets of names validated in the same message are stored, so a hit never skips an unchecked byte.
/// The pointer hops each name took are stored too, so a hit gives the same verdict as walking the name again
/// (the bound on chained pointers counts the whole chain, whether or not part of it was remembered).
/// </summary>
internal struct NameCache
{
    private const int Size = 4;

    // Entries are (offset + 1) so that a zeroed cache holds nothing.
    private int _offset0, _offset1, _offset2, _offset3;
    private short _length0, _length1, _length2, _length3;
    private byte _labels0, _labels1, _labels2, _labels3;
    private byte _hops0, _hops1, _hops2, _hops3;
    private int _next;

    public readonly bool TryGet(int offset, out int length, out int labels, out int hops)
    {
        int key = offset + 1;
        if (key == _offset0)
        {
            (length, labels, hops) = (_length0, _labels0, _hops0);
            return true;
        }

        if (key == _offset1)
        {
            (length, labels, hops) = (_length1, _labels1, _hops1);
            return true;
        }

        if (key == _offset2)
        {
            (length, labels, hops) = (_length2, _labels2, _hops2);
            return true;
        }

        if (key == _offset3)
        {
            (length, labels, hops) = (_length3, _labels3, _hops3);
            return true;
        }

        length = labels = hops = 0;
        return false;
    }

    public void Add(int offset, int length, int labels, int hops)
    {
        int key = offset + 1;
        if (key == _offset0 || key == _offset1 || key == _offset2 || key == _offset3)
        {
            return;
        }

        switch (_next++ & (Size - 1))
        {
            case 0: (_offset0, _length0, _labels0, _hops0) = (key, (short)length, (byte)labels, (byte)hops); break;
            case 1: (_offset1, _length1, _labels1, _hops1) = (key, (short)length, (byte)labels, (byte)hops); break;
            case 2: (_offset2, _length2, _labels2, _hops2) = (key, (short)length, (byte)labels, (byte)hops); break;
            default: (_offset3, _length3, _labels3, _hops3) = (key, (short)length, (byte)labels, (byte)hops); break;
        }
    }
}
