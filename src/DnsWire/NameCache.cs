namespace RataDns.DnsWire;

/// <summary>
/// Remembers the last few names a reader validated: where each started, its uncompressed length and its label
/// count. Records of one RRset usually carry their owner as a pointer to the same earlier name; when a pointer
/// lands exactly on a remembered start, the rest of the name is known to be valid and is not walked again.
/// Only offsets of names validated in the same message are stored, so a hit never skips an unchecked byte.
/// </summary>
internal struct NameCache
{
    private const int Size = 4;

    // Entries are (offset + 1) so that a zeroed cache holds nothing.
    private int _offset0, _offset1, _offset2, _offset3;
    private short _length0, _length1, _length2, _length3;
    private byte _labels0, _labels1, _labels2, _labels3;
    private int _next;

    public readonly bool TryGet(int offset, out int length, out int labels)
    {
        int key = offset + 1;
        if (key == _offset0)
        {
            (length, labels) = (_length0, _labels0);
            return true;
        }

        if (key == _offset1)
        {
            (length, labels) = (_length1, _labels1);
            return true;
        }

        if (key == _offset2)
        {
            (length, labels) = (_length2, _labels2);
            return true;
        }

        if (key == _offset3)
        {
            (length, labels) = (_length3, _labels3);
            return true;
        }

        length = labels = 0;
        return false;
    }

    public void Add(int offset, int length, int labels)
    {
        int key = offset + 1;
        if (key == _offset0 || key == _offset1 || key == _offset2 || key == _offset3)
        {
            return;
        }

        switch (_next++ & (Size - 1))
        {
            case 0: (_offset0, _length0, _labels0) = (key, (short)length, (byte)labels); break;
            case 1: (_offset1, _length1, _labels1) = (key, (short)length, (byte)labels); break;
            case 2: (_offset2, _length2, _labels2) = (key, (short)length, (byte)labels); break;
            default: (_offset3, _length3, _labels3) = (key, (short)length, (byte)labels); break;
        }
    }
}
