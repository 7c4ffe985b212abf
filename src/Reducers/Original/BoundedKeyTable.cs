using System.Numerics;
using RataDns.DnsWire;

namespace RataDns.Reducers.Original;

/// <summary>
/// A fixed-capacity set of byte-string keys (composite keys built from names and addresses), each with a signed
/// 64-bit value, for reducer state keyed by attacker-controlled data. Entries are numbered in insertion order;
/// there is no deletion (a window's state is dropped all at once by <see cref="Reset"/>). When the table is full a
/// new key is refused and counted in <see cref="Refused"/>, so memory never grows with traffic.
/// <para>
/// Keys are found through open addressing (linear probing, load &lt;= 1/2) under SipHash-1-3 with a per-instance
/// random key, so a sender choosing names cannot pile them into one probe run. Each index slot holds the entry and
/// the upper 32 bits of its key's hash, so a probe past another key rarely reads that key's bytes. The index is
/// allocated at its full size (twice the capacity, rounded up to a power of two) but only a power-of-two prefix of
/// it is in use: at least 256 slots, doubled (and rebuilt from the entries' stored hashes) when the load would pass
/// 1/2. A window with few keys therefore probes, and <see cref="Reset"/> clears, a few KiB instead of the whole
/// index. All memory is allocated at construction; <see cref="FindOrAdd"/> allocates nothing.
/// </para>
/// </summary>
internal sealed class BoundedKeyTable
{
    /// <summary>Longest key: a wire-form name (255) plus two addresses, ports, id, type and class fit with room.</summary>
    public const int MaxKeyLength = SlotBytes;

    private const int SlotBytes = 320;
    private const ulong Empty = 0;
    private const int MinIndexSlots = 256;

    private readonly int _capacity;
    private readonly ulong _hashKey0;
    private readonly ulong _hashKey1;
    private readonly byte[] _arena;
    private readonly ushort[] _lengths;
    private readonly long[] _values;
    private readonly ulong[] _hashes;

    // Per slot: the upper 32 bits of the key's hash, then entry + 1 in the lower 32; 0 is an empty slot. Only
    // _index[0.._indexMask] is in use.
    private readonly ulong[] _index;
    private readonly int _minIndexMask;
    private int _indexMask;
    private int _count;

    public BoundedKeyTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 20);
        _capacity = capacity;
        _arena = GC.AllocateUninitializedArray<byte>(capacity * SlotBytes); // read only where written: untouched pages cost nothing until used
        _lengths = new ushort[capacity];
        _values = new long[capacity];
        _hashes = new ulong[capacity];
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _index = new ulong[size];
        _minIndexMask = Math.Min(size, MinIndexSlots) - 1;
        _indexMask = _minIndexMask;

        (_hashKey0, _hashKey1) = HashKeys.New();
    }

    public int Capacity => _capacity;

    /// <summary>Keys held, numbered 0 .. Count - 1 in insertion order.</summary>
    public int Count => _count;

    /// <summary>How many times a new key was refused because the table was full (since <see cref="Reset"/>).</summary>
    public long Refused { get; private set; }

    /// <summary>The entry of <paramref name="key"/>, added with value 0 if new; -1 when full (counted) or the key is too long.</summary>
    public int FindOrAdd(ReadOnlySpan<byte> key)
    {
        if (key.Length > MaxKeyLength)
        {
            Refused++;
            return -1;
        }

        ulong hash = SipHash.Hash13(_hashKey0, _hashKey1, key);
        ulong tag = hash & 0xFFFF_FFFF_0000_0000UL;
        int slot = (int)hash & _indexMask;
        while (true)
        {
            ulong stored = _index[slot];
            if (stored == Empty)
            {
                break;
            }

            if ((stored & 0xFFFF_FFFF_0000_0000UL) == tag && KeyAt((int)(uint)stored - 1).SequenceEqual(key))
            {
                return (int)(uint)stored - 1;
            }

            slot = (slot + 1) & _indexMask;
        }

        if (_count == _capacity)
        {
            Refused++;
            return -1;
        }

        int entry = _count++;
        key.CopyTo(_arena.AsSpan(entry * SlotBytes, SlotBytes));
        _lengths[entry] = (ushort)key.Length;
        _values[entry] = 0;
        _hashes[entry] = hash;
        if (2 * _count > _indexMask + 1 && _indexMask + 1 < _index.Length)
        {
            // Past load 1/2: double the prefix in use and place every entry again, this one included.
            Array.Clear(_index, 0, 2 * (_indexMask + 1));
            _indexMask = (2 * (_indexMask + 1)) - 1;
            for (int e = 0; e < _count; e++)
            {
                Place(e);
            }
        }
        else
        {
            _index[slot] = tag | (uint)(entry + 1);
        }

        return entry;
    }

    private void Place(int entry)
    {
        ulong hash = _hashes[entry];
        int slot = (int)hash & _indexMask;
        while (_index[slot] != Empty)
        {
            slot = (slot + 1) & _indexMask;
        }

        _index[slot] = (hash & 0xFFFF_FFFF_0000_0000UL) | (uint)(entry + 1);
    }

    public ReadOnlySpan<byte> KeyAt(int entry) => _arena.AsSpan(entry * SlotBytes, _lengths[entry]);

    public ref long ValueAt(int entry) => ref _values[entry];

    /// <summary>Adds <paramref name="refused"/> to <see cref="Refused"/> (when merging another table's count).</summary>
    public void AddRefused(long refused) => Refused += refused;

    public void Reset()
    {
        Array.Clear(_index, 0, _indexMask + 1);
        _indexMask = _minIndexMask;
        _count = 0;
        Refused = 0;
    }
}
