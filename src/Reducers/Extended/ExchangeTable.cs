using System.Numerics;

namespace RataDns.Reducers.Extended;

/// <summary>
/// A fixed-capacity map from a 128-bit exchange fingerprint to a packet time, for <see cref="ResponseLatencyReducer"/>.
/// Entries live in preallocated arrays and are chained oldest to newest in a doubly linked list, so expiry looks
/// only at the oldest; removed entries are reused newest-first (a free list), and untouched ones are handed out in
/// order, so a table that holds few entries at a time keeps touching the same few cache lines. Lookup is open
/// addressing with linear probing and backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, algorithm R), so constant
/// insert/remove churn leaves no tombstones.
/// <para>
/// The index array is allocated once, at twice the capacity rounded up to a power of two, but only a power-of-two
/// prefix of it is in use: at least <see cref="MinIndexSlots"/>, doubled when the load would pass 1/2 and halved when
/// it falls under 1/8 (the prefix is rebuilt from the entry list). Most queries are answered within milliseconds,
/// so a busy server's pending table holds few entries and its index stays in the first level caches instead of
/// costing a cache miss per packet in a 512 KiB array; a flood of unanswered queries grows it to the full size, and
/// it shrinks again once they expire. Nothing is allocated after construction except by <see cref="SortByTime"/>.
/// </para>
/// </summary>
internal sealed class ExchangeTable
{
    public const int None = -1;

    /// <summary>The smallest index prefix in use (or the whole index of a table with fewer slots).</summary>
    public const int MinIndexSlots = 256;

    private readonly int _capacity;
    private readonly ulong[] _hash1;
    private readonly ulong[] _hash2;
    private readonly long[] _times;
    private readonly int[] _older;
    private readonly int[] _newer;

    // Entry + 1 per slot; 0 is an empty slot. Only _index[0.._indexMask] is in use.
    private readonly int[] _index;
    private readonly int _minIndexMask;
    private int _indexMask;

    private int _oldest;
    private int _newest;

    // Removed entries, newest first, chained through _newer; then the never-used entries from _unused on.
    private int _free;
    private int _unused;
    private int _count;

    public ExchangeTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 22);
        _capacity = capacity;
        // Entries are written before they are read (never-used ones are taken from _unused on): pages nobody touched
        // yet cost nothing, so a table that a quiet server never fills stays small in memory and quick to make.
        _hash1 = GC.AllocateUninitializedArray<ulong>(capacity);
        _hash2 = GC.AllocateUninitializedArray<ulong>(capacity);
        _times = GC.AllocateUninitializedArray<long>(capacity);
        _older = GC.AllocateUninitializedArray<int>(capacity);
        _newer = GC.AllocateUninitializedArray<int>(capacity);
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _index = new int[size];
        _minIndexMask = Math.Min(size, MinIndexSlots) - 1;
        _indexMask = size - 1;
        Clear();
    }

    public int Capacity => _capacity;

    public int Count => _count;

    /// <summary>Slots of the lookup index in use now (a power of two, at most <see cref="MaxIndexSlots"/>).</summary>
    public int IndexSlots => _indexMask + 1;

    /// <summary>Slots of the whole lookup index, allocated at construction: the capacity times two, rounded up to a power of two.</summary>
    public int MaxIndexSlots => _index.Length;

    public bool IsFull => _count == _capacity;

    /// <summary>The oldest entry (first added, or first after <see cref="SortByTime"/>), or <see cref="None"/>.</summary>
    public int Oldest => _oldest;

    public int NewerThan(int entry) => _newer[entry];

    public long TimeAt(int entry) => _times[entry];

    public ulong Hash1At(int entry) => _hash1[entry];

    public ulong Hash2At(int entry) => _hash2[entry];

    /// <summary>The entry holding the fingerprint, or <see cref="None"/>.</summary>
    public int Find(ulong hash1, ulong hash2)
    {
        int slot = (int)hash1 & _indexMask;
        while (true)
        {
            int stored = _index[slot];
            if (stored == 0)
            {
                return None;
            }

            int entry = stored - 1;
            if (_hash1[entry] == hash1 && _hash2[entry] == hash2)
            {
                return entry;
            }

            slot = (slot + 1) & _indexMask;
        }
    }

    /// <summary>Adds a fingerprint that is not present as the newest entry; <see cref="None"/> when full.</summary>
    public int Add(ulong hash1, ulong hash2, long time)
    {
        if (_count == _capacity)
        {
            return None;
        }

        if (2 * (_count + 1) > _indexMask + 1 && _indexMask + 1 < _index.Length)
        {
            Reindex(2 * (_indexMask + 1));
        }

        int entry;
        if (_free != None)
        {
            entry = _free;
            _free = _newer[entry];
        }
        else
        {
            entry = _unused++;
        }

        _hash1[entry] = hash1;
        _hash2[entry] = hash2;
        _times[entry] = time;
        LinkNewest(entry);
        Place(entry);
        _count++;
        return entry;
    }

    /// <summary>Lowers an entry's time (its place in the age order is fixed by <see cref="SortByTime"/>).</summary>
    public void SetTime(int entry, long time) => _times[entry] = time;

    public void Remove(int entry)
    {
        int hole = (int)_hash1[entry] & _indexMask;
        while (_index[hole] != entry + 1)
        {
            hole = (hole + 1) & _indexMask;
        }

        // Move back every later entry of the run whose home slot is not cyclically in (hole, slot].
        int slot = hole;
        while (true)
        {
            slot = (slot + 1) & _indexMask;
            int stored = _index[slot];
            if (stored == 0)
            {
                break;
            }

            int home = (int)_hash1[stored - 1] & _indexMask;
            if (((slot - home) & _indexMask) >= ((slot - hole) & _indexMask))
            {
                _index[hole] = stored;
                hole = slot;
            }
        }

        _index[hole] = 0;
        Unlink(entry);
        _newer[entry] = _free;
        _free = entry;
        _count--;
        if (8 * _count < _indexMask + 1 && _indexMask > _minIndexMask)
        {
            Reindex((_indexMask + 1) / 2);
        }
    }

    /// <summary>Re-chains the entries by time ascending (ties keep their order). Allocates scratch; for merges.</summary>
    public void SortByTime()
    {
        var order = new int[_count];
        var position = new int[_capacity];
        int n = 0;
        for (int entry = _oldest; entry != None; entry = _newer[entry])
        {
            position[entry] = n;
            order[n++] = entry;
        }

        Array.Sort(order, (a, b) =>
        {
            int byTime = _times[a].CompareTo(_times[b]);
            return byTime != 0 ? byTime : position[a].CompareTo(position[b]);
        });

        _oldest = None;
        _newest = None;
        foreach (int entry in order)
        {
            LinkNewest(entry);
        }
    }

    public void Clear()
    {
        Array.Clear(_index, 0, _indexMask + 1);
        _indexMask = _minIndexMask;
        _oldest = None;
        _newest = None;
        _count = 0;
        _free = None;
        _unused = 0;
    }

    /// <summary>Puts an entry in the index at the first empty slot from its home slot.</summary>
    private void Place(int entry)
    {
        int slot = (int)_hash1[entry] & _indexMask;
        while (_index[slot] != 0)
        {
            slot = (slot + 1) & _indexMask;
        }

        _index[slot] = entry + 1;
    }

    /// <summary>Rebuilds the index over its first <paramref name="slots"/> (a power of two) from the entry list.</summary>
    private void Reindex(int slots)
    {
        // Slots beyond the new prefix are never read; a later growth clears them before use.
        Array.Clear(_index, 0, slots);
        _indexMask = slots - 1;
        for (int entry = _oldest; entry != None; entry = _newer[entry])
        {
            Place(entry);
        }
    }

    private void LinkNewest(int entry)
    {
        _older[entry] = _newest;
        _newer[entry] = None;
        if (_newest == None)
        {
            _oldest = entry;
        }
        else
        {
            _newer[_newest] = entry;
        }

        _newest = entry;
    }

    private void Unlink(int entry)
    {
        int older = _older[entry];
        int newer = _newer[entry];
        if (older == None)
        {
            _oldest = newer;
        }
        else
        {
            _newer[older] = newer;
        }

        if (newer == None)
        {
            _newest = older;
        }
        else
        {
            _older[newer] = older;
        }
    }
}
