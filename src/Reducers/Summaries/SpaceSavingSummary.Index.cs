namespace RataDns.Reducers.Summaries;

/// <summary>
/// The key index: open addressing with linear probing over a power-of-two table of at least 2k slots (load
/// &lt;= 1/2). A slot holds counter + 1 (0 = empty). Lookups compare the cached 64-bit seeded hash before the key
/// bytes. Deletion shifts later entries of the run back (Knuth, TAOCP vol. 3, 6.4, algorithm R), so no tombstones
/// accumulate under constant eviction.
/// </summary>
public sealed partial class SpaceSavingSummary
{
    private readonly int[] _table;
    private readonly int _tableMask;

    /// <summary>The counter monitoring <paramref name="key"/>, or -1.</summary>
    private int Find(ReadOnlySpan<byte> key, ulong hash)
    {
        int slot = (int)hash & _tableMask;
        while (true)
        {
            int entry = _table[slot];
            if (entry == 0)
            {
                return -1;
            }

            int counter = entry - 1;
            if (_keyHashes[counter] == hash && KeyOf(counter).SequenceEqual(key))
            {
                return counter;
            }

            slot = (slot + 1) & _tableMask;
        }
    }

    /// <summary>Indexes a counter whose key is stored and not yet indexed.</summary>
    private void InsertIndex(int counter)
    {
        int slot = (int)_keyHashes[counter] & _tableMask;
        while (_table[slot] != 0)
        {
            slot = (slot + 1) & _tableMask;
        }

        _table[slot] = counter + 1;
    }

    /// <summary>Removes an indexed counter.</summary>
    private void RemoveIndex(int counter)
    {
        int hole = (int)_keyHashes[counter] & _tableMask;
        while (_table[hole] != counter + 1)
        {
            hole = (hole + 1) & _tableMask;
        }

        // Move back every later entry of the run whose home slot is not cyclically in (hole, slot].
        int slot = hole;
        while (true)
        {
            slot = (slot + 1) & _tableMask;
            int entry = _table[slot];
            if (entry == 0)
            {
                break;
            }

            int home = (int)_keyHashes[entry - 1] & _tableMask;
            if (((slot - home) & _tableMask) >= ((slot - hole) & _tableMask))
            {
                _table[hole] = entry;
                hole = slot;
            }
        }

        _table[hole] = 0;
    }
}
