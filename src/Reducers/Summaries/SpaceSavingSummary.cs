using System.Numerics;

namespace RataDns.Reducers.Summaries;

/// <summary>
/// Heavy hitters over byte-string keys (names in lowercase wire form, client addresses) with the Space-Saving
/// algorithm (Metwally, Agrawal, El Abbadi 2005, "Efficient computation of frequent and top-k elements in data
/// streams"): at most <see cref="Capacity"/> = k keys are monitored; an unmonitored key takes over the counter of
/// the minimum, inheriting its count as its error.
/// <para>
/// Guarantee, for a stream (or merge of streams, see <see cref="Merge"/>) of total weight N =
/// <see cref="TotalWeight"/>: every monitored key has <c>Count - Error &lt;= true weight &lt;= Count</c>, with
/// <c>Error &lt;= MinCount &lt;= N / k</c>; a key not monitored has true weight <c>&lt;= MinCount</c>, so every key
/// with true weight &gt; N / k is monitored. While at most k distinct keys have been seen, counts are exact.
/// </para>
/// <para>
/// Structure: the paper's Stream-Summary (section 3.1) held in preallocated arrays: buckets of counters with equal
/// count, in a doubly linked list sorted by count, so the minimum is the first bucket. An update of weight 1 moves
/// a counter to the next bucket or a new one: O(1). A weight w &gt; 1 walks past the buckets whose count lies
/// between the old and the new count (at most the number of distinct counts, &lt;= k). Keys are found through an
/// open-addressing table (linear probing, load &lt;= 1/2, backward-shift deletion) keyed with SipHash-1-3 under a
/// per-instance random 128-bit key, so a sender choosing names cannot pile them into one probe run.
/// </para>
/// <para>
/// Memory is fixed at construction: each counter owns a 256-byte slot of one key arena, and the counter of an
/// evicted key is reused in place. <see cref="Offer"/> allocates nothing. One instance belongs to one thread.
/// </para>
/// </summary>
public sealed partial class SpaceSavingSummary
{
    /// <summary>Longest key accepted: a name in wire form is at most 255 bytes (RFC 1035 3.1).</summary>
    public const int MaxKeyLength = 255;

    /// <summary>Largest capacity accepted (the key arena is then 256 MiB).</summary>
    public const int MaxCapacity = 1 << 20;

    /// <summary>Each counter owns 2^8 = 256 bytes of the arena (255 key bytes rounded up).</summary>
    private const int SlotShift = 8;

    private readonly int _capacity;

    // Per counter c in [0, _monitored): key bytes at _keyArena[c << SlotShift], its length, its hash, its error.
    private readonly byte[] _keyArena;
    private readonly byte[] _keyLengths;
    private readonly ulong[] _keyHashes;
    private readonly long[] _errors;

    private int _monitored;
    private long _totalWeight;

    /// <summary>Creates a summary monitoring at most <paramref name="capacity"/> keys; all memory is allocated here.</summary>
    public SpaceSavingSummary(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _capacity = capacity;
        _keyArena = GC.AllocateUninitializedArray<byte>(capacity << SlotShift); // read only where written: untouched pages cost nothing until used
        _keyLengths = new byte[capacity];
        _keyHashes = new ulong[capacity];
        _errors = new long[capacity];

        _counterBucket = new int[capacity];
        _nextInBucket = new int[capacity];
        _previousInBucket = new int[capacity];
        _bucketCount = new long[capacity];
        _bucketHead = new int[capacity];
        _bucketNext = new int[capacity];
        _bucketPrevious = new int[capacity];
        ResetBuckets();

        int tableSize = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _table = new int[tableSize];
        _tableMask = tableSize - 1;
    }

    /// <summary>k: the most keys monitored at once.</summary>
    public int Capacity => _capacity;

    /// <summary>How many keys are monitored now (&lt;= <see cref="Capacity"/>).</summary>
    public int MonitoredCount => _monitored;

    /// <summary>N: the total weight offered (and merged in) since construction or <see cref="Reset"/>.</summary>
    public long TotalWeight => _totalWeight;

    /// <summary>
    /// Upper bound on the true weight of any key that is not monitored: the smallest count once all counters are
    /// in use, 0 before (then every key seen is monitored, exactly).
    /// </summary>
    public long MinCount => _monitored == _capacity ? _bucketCount[_minBucket] : 0;

    /// <summary>Size of the key arena in bytes; fixed at construction.</summary>
    public int ArenaBytes => _keyArena.Length;

    /// <summary>
    /// Counts <paramref name="weight"/> occurrences of <paramref name="key"/>. Returns false, counting nothing,
    /// when the key is longer than <see cref="MaxKeyLength"/>. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is less than 1.</exception>
    public bool Offer(ReadOnlySpan<byte> key, long weight = 1) =>
        OfferHashed(key, key.Length > MaxKeyLength ? 0 : HashKey(key), weight);

    /// <summary>
    /// As <see cref="Offer(ReadOnlySpan{byte}, long)"/> for a key whose <see cref="KeyHash.Of"/> is already known
    /// (<see cref="SharedQuestion.NameHash"/>): the hash is not computed again.
    /// </summary>
    public bool OfferHashed(ReadOnlySpan<byte> key, ulong keyHash, long weight = 1)
    {
        if (weight < 1)
        {
            ThrowWeightOutOfRange(weight);
        }

        if (key.Length > MaxKeyLength)
        {
            return false;
        }

        _totalWeight += weight;
        ulong hash = keyHash;
        int counter = Find(key, hash);
        if (counter >= 0)
        {
            Increment(counter, weight);
            return true;
        }

        if (_monitored < _capacity)
        {
            counter = _monitored++;
            StoreKey(counter, key, hash);
            _errors[counter] = 0;
            InsertIndex(counter);
            PlaceCounter(counter, weight, searchFrom: NoBucket);
            return true;
        }

        // Space-Saving's replacement step (paper, figure 1): the new key takes over a counter of the minimum
        // bucket; the old count becomes its error, and the count grows by the weight.
        int bucket = _minBucket;
        counter = _bucketHead[bucket];
        RemoveIndex(counter);
        StoreKey(counter, key, hash);
        _errors[counter] = _bucketCount[bucket];
        InsertIndex(counter);
        Increment(counter, weight);
        return true;
    }

    /// <summary>
    /// Looks up a monitored key. For a key that is not monitored, returns false with count = <see cref="MinCount"/>
    /// (its upper bound) and error = <see cref="MinCount"/>.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> key, out long count, out long error)
    {
        int counter = key.Length <= MaxKeyLength ? Find(key, HashKey(key)) : -1;
        if (counter < 0)
        {
            count = MinCount;
            error = count;
            return false;
        }

        count = _bucketCount[_counterBucket[counter]];
        error = _errors[counter];
        return true;
    }

    /// <summary>The key of counter <paramref name="counter"/> (0 to <see cref="MonitoredCount"/> - 1, in no order).</summary>
    public ReadOnlySpan<byte> KeyAt(int counter)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)counter, (uint)_monitored, nameof(counter));
        return KeyOf(counter);
    }

    /// <summary>The count of counter <paramref name="counter"/> (see <see cref="KeyAt"/>).</summary>
    public long CountAt(int counter)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)counter, (uint)_monitored, nameof(counter));
        return _bucketCount[_counterBucket[counter]];
    }

    /// <summary>The error bound of counter <paramref name="counter"/> (see <see cref="KeyAt"/>).</summary>
    public long ErrorAt(int counter)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)counter, (uint)_monitored, nameof(counter));
        return _errors[counter];
    }

    /// <summary>
    /// The <paramref name="n"/> (or fewer, if fewer are monitored) keys with the largest counts, sorted by count
    /// descending, then by key bytes ascending. Allocates the result; meant for the end of a window.
    /// </summary>
    public HeavyHitter[] Top(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int[] order = SortedCounters();
        int length = Math.Min(n, order.Length);
        var result = new HeavyHitter[length];
        for (int i = 0; i < length; i++)
        {
            int counter = order[i];
            result[i] = new HeavyHitter(KeyOf(counter).ToArray(), _bucketCount[_counterBucket[counter]], _errors[counter]);
        }

        return result;
    }

    /// <summary>
    /// Folds <paramref name="other"/> into this summary, as if this one had seen both streams (Agarwal, Cormode,
    /// Huang, Phillips, Wei, Yi 2012, "Mergeable summaries", section 3, in Space-Saving form): a key monitored by
    /// both gets the sum of counts and errors; a key monitored by one side only gets the other side's
    /// <see cref="MinCount"/> added to its count and its error (the most it can have had there); then the k keys
    /// with the largest counts are kept. The guarantees of the type hold for the combined stream: writing
    /// m = mA + mB, every candidate count is &gt;= m and the candidates' excess over m sums to at most N - k·m, so the
    /// k-th largest count is &lt;= N / k. Allocates scratch of the size of both summaries; <paramref name="other"/>
    /// is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The capacities differ.</exception>
    public void Merge(SpaceSavingSummary other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._capacity != _capacity)
        {
            throw new ArgumentException($"Cannot merge a summary of capacity {other._capacity} into one of capacity {_capacity}.", nameof(other));
        }

        long thisMin = MinCount;
        long otherMin = other.MinCount;
        int most = _monitored + other._monitored;

        // Scratch space for the candidates, kept per thread and reused: merging every window (the engine's merger
        // thread) allocates nothing once it has grown to the largest merge.
        var scratch = MergeScratch.For(most);
        byte[] keys = scratch.Keys;
        byte[] lengths = scratch.Lengths;
        long[] counts = scratch.Counts;
        long[] errors = scratch.Errors;
        int[] order = scratch.Order;
        int candidates = 0;

        for (int c = 0; c < _monitored; c++)
        {
            ReadOnlySpan<byte> key = KeyOf(c);
            long count = _bucketCount[_counterBucket[c]];
            long error = _errors[c];
            int theirs = other.Find(key, HashKey(key));
            if (theirs >= 0)
            {
                count += other._bucketCount[other._counterBucket[theirs]];
                error += other._errors[theirs];
            }
            else
            {
                count += otherMin;
                error += otherMin;
            }

            AddCandidate(key, count, error);
        }

        for (int c = 0; c < other._monitored; c++)
        {
            ReadOnlySpan<byte> key = other.KeyOf(c);
            if (Find(key, HashKey(key)) < 0)
            {
                AddCandidate(key, other._bucketCount[other._counterBucket[c]] + thisMin, other._errors[c] + thisMin);
            }
        }

        for (int i = 0; i < candidates; i++)
        {
            order[i] = i;
        }

        bool allKept = candidates <= _capacity;
        if (allKept)
        {
            // Every candidate stays: only the order of insertion matters (smallest count first), and the counts alone
            // give it; which of equal counts goes first changes nothing a reader can see (results rank by count,
            // then key). A sort of plain numbers, not of keys compared byte by byte: most of a window's counts tie.
            var byCount = scratch.SortCounts.AsSpan(0, candidates);
            counts.AsSpan(0, candidates).CopyTo(byCount);
            byCount.Sort(order.AsSpan(0, candidates));
        }
        else
        {
            // Keep the k largest counts (ties broken by key, so the result does not depend on slot order).
            order.AsSpan(0, candidates).Sort(new CandidateOrder(keys, lengths, counts));
        }

        long totalWeight = _totalWeight + other._totalWeight;
        Reset();
        _totalWeight = totalWeight;
        int kept = Math.Min(candidates, _capacity);

        // Smallest first, so each counter joins the largest bucket or a new one after it: O(1) each.
        for (int k = 0; k < kept; k++)
        {
            int candidate = order[allKept ? k : kept - 1 - k];
            ReadOnlySpan<byte> key = keys.AsSpan(candidate << SlotShift, lengths[candidate]);
            int counter = _monitored++;
            StoreKey(counter, key, HashKey(key));
            _errors[counter] = errors[candidate];
            InsertIndex(counter);
            PlaceCounter(counter, counts[candidate], searchFrom: _maxBucket);
        }

        void AddCandidate(ReadOnlySpan<byte> key, long count, long error)
        {
            key.CopyTo(keys.AsSpan(candidates << SlotShift));
            lengths[candidates] = (byte)key.Length;
            counts[candidates] = count;
            errors[candidates] = error;
            candidates++;
        }
    }

    /// <summary>Count descending, then key bytes ascending.</summary>
    private readonly struct CandidateOrder(byte[] keys, byte[] lengths, long[] counts) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            int byCount = counts[b].CompareTo(counts[a]);
            return byCount != 0
                ? byCount
                : keys.AsSpan(a << SlotShift, lengths[a]).SequenceCompareTo(keys.AsSpan(b << SlotShift, lengths[b]));
        }
    }

    /// <summary>The candidate arrays of <see cref="Merge"/>, one set per thread, grown to the largest merge seen.</summary>
    private sealed class MergeScratch
    {
        [ThreadStatic]
        private static MergeScratch? t_current;

        private MergeScratch(int size)
        {
            Keys = new byte[size << SlotShift];
            Lengths = new byte[size];
            Counts = new long[size];
            Errors = new long[size];
            Order = new int[size];
            SortCounts = new long[size];
        }

        public byte[] Keys { get; }

        public byte[] Lengths { get; }

        public long[] Counts { get; }

        public long[] Errors { get; }

        public int[] Order { get; }

        /// <summary>A copy of the counts to sort <see cref="Order"/> by.</summary>
        public long[] SortCounts { get; }

        public static MergeScratch For(int size)
        {
            var current = t_current;
            if (current is null || current.Lengths.Length < size)
            {
                current = new MergeScratch(Math.Max(size, 16));
                t_current = current;
            }

            return current;
        }
    }

    /// <summary>
    /// The monitored counters by count ascending, then key descending: the order <see cref="Load"/> takes them in,
    /// so a summary written out this way and loaded back has the same counts, errors, <see cref="MinCount"/> and
    /// <see cref="TotalWeight"/>. Allocates the result (meant for writing a window's state).
    /// </summary>
    public int[] CountersInLoadOrder()
    {
        int[] order = SortedCounters();
        Array.Reverse(order);
        return order;
    }

    /// <summary>
    /// Monitors <paramref name="key"/> with <paramref name="count"/> and <paramref name="error"/> as read from a
    /// stored summary (a window's state), into a summary that was just <see cref="Reset"/>: keys come in ascending
    /// count order (<see cref="CountersInLoadOrder"/>), so each joins the largest bucket or a new one after it, O(1).
    /// <see cref="TotalWeight"/> is set afterwards with <see cref="LoadTotalWeight"/>. Not the packet path: a
    /// failed check throws and leaves the summary to be reset by the caller.
    /// </summary>
    /// <exception cref="ArgumentException">The key is longer than <see cref="MaxKeyLength"/> or already monitored,
    /// the summary is full, the count is below 1 or below the last one loaded, or the error is outside 0..count.</exception>
    public void Load(ReadOnlySpan<byte> key, long count, long error)
    {
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"A key of {key.Length} bytes; at most {MaxKeyLength}.", nameof(key));
        }

        if (_monitored == _capacity)
        {
            throw new ArgumentException($"The summary already monitors its {_capacity} keys.", nameof(key));
        }

        if (count < 1 || (_maxBucket != NoBucket && count < _bucketCount[_maxBucket]))
        {
            throw new ArgumentException($"A count of {count}: counts are at least 1 and loaded in ascending order.", nameof(count));
        }

        if (error < 0 || error > count)
        {
            throw new ArgumentException($"An error of {error} for a count of {count}: errors lie in 0..count.", nameof(error));
        }

        ulong hash = HashKey(key);
        if (Find(key, hash) >= 0)
        {
            throw new ArgumentException("The key is already monitored.", nameof(key));
        }

        int counter = _monitored++;
        StoreKey(counter, key, hash);
        _errors[counter] = error;
        InsertIndex(counter);
        PlaceCounter(counter, count, searchFrom: _maxBucket);
    }

    /// <summary>
    /// Sets <see cref="TotalWeight"/> after the keys were <see cref="Load"/>ed. The total bounds the guaranteed
    /// counts (count - error, each at most the key's true weight) of the monitored keys from above.
    /// </summary>
    /// <exception cref="ArgumentException">The total is below the sum of the guaranteed counts.</exception>
    public void LoadTotalWeight(long totalWeight)
    {
        long guaranteed = 0;
        for (int c = 0; c < _monitored && totalWeight >= 0; c++)
        {
            long term = _bucketCount[_counterBucket[c]] - _errors[c];
            if (term > totalWeight - guaranteed)
            {
                guaranteed = -1;
                break;
            }

            guaranteed += term;
        }

        if (totalWeight < 0 || guaranteed < 0)
        {
            throw new ArgumentException($"A total weight of {totalWeight} below the guaranteed counts of the monitored keys.", nameof(totalWeight));
        }

        _totalWeight = totalWeight;
    }

    /// <summary>Forgets every key and the total weight; keeps all memory (and the hash key).</summary>
    public void Reset()
    {
        Array.Clear(_table);
        ResetBuckets();
        _monitored = 0;
        _totalWeight = 0;
    }

    private static ulong HashKey(ReadOnlySpan<byte> key) => KeyHash.Of(key);


    private ReadOnlySpan<byte> KeyOf(int counter) => _keyArena.AsSpan(counter << SlotShift, _keyLengths[counter]);

    private void StoreKey(int counter, ReadOnlySpan<byte> key, ulong hash)
    {
        key.CopyTo(_keyArena.AsSpan(counter << SlotShift, MaxKeyLength + 1));
        _keyLengths[counter] = (byte)key.Length;
        _keyHashes[counter] = hash;
    }

    /// <summary>Monitored counters by count descending, then key ascending.</summary>
    private int[] SortedCounters()
    {
        var order = new int[_monitored];
        int n = 0;

        // Buckets from the largest count down; within a bucket (equal counts) sort by key.
        for (int bucket = _maxBucket; bucket != NoBucket; bucket = _bucketPrevious[bucket])
        {
            int start = n;
            for (int counter = _bucketHead[bucket]; counter != NoCounter; counter = _nextInBucket[counter])
            {
                order[n++] = counter;
            }

            order.AsSpan(start, n - start).Sort((a, b) => KeyOf(a).SequenceCompareTo(KeyOf(b)));
        }

        return order;
    }

    private static void ThrowWeightOutOfRange(long weight) =>
        throw new ArgumentOutOfRangeException(nameof(weight), weight, "The weight must be at least 1.");
}
