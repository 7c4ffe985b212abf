using System.Buffers;
using System.Numerics;

namespace RataDns.Capture.Fragments;

/// <summary>
/// Puts IPv4 (RFC 791 3.2) and IPv6 (RFC 8200 4.5) fragments back together. One owner thread; no allocation per
/// fragment once the slot table has grown to the traffic (datagram buffers come from <see cref="ArrayPool{T}.Shared"/>
/// and go back on completion, expiry or eviction).
/// <para>
/// Each incomplete datagram has one pooled buffer laid out as the data (at its offsets) followed by a coverage
/// bitmap, one bit per 8-byte block (fragment offsets count 8-byte units, so every fragment but the last covers
/// whole blocks): the idea of RFC 815's hole list, kept as bits so that overlaps are found without a list walk.
/// </para>
/// <para>
/// Policies. Exact duplicates (every byte already held, with the same value) are counted and ignored. Other
/// overlaps: IPv4 keeps the bytes that arrived first and takes only the missing ones from the new fragment (so a
/// later fragment can never rewrite a DNS header already seen); IPv6 discards the whole datagram and remembers its
/// key until the timeout, so that its remaining fragments are discarded too (RFC 5722 4). A last fragment that
/// disagrees with an earlier one, or a fragment reaching past the end the last fragment fixed, discards the
/// datagram. Incomplete datagrams are kept in arrival order of their first fragment: expiry and eviction take the
/// oldest first.
/// </para>
/// </summary>
public sealed class IpFragmentReassembler
{
    /// <summary>RFC 791 3.1: Total Length is 16 bits and the header at least 20 bytes.</summary>
    private const int Ipv4MaxPayload = 65535 - 20;

    /// <summary>RFC 8200 4.5: the reassembled Payload Length must not exceed 65,535 (jumbograms are never fragmented).</summary>
    private const int Ipv6MaxPayload = 65535;

    private const int BlockSize = 8;
    private const int NoSlot = -1;
    private const int InitialSlots = 16;

    private readonly long _timeoutNanoseconds;
    private readonly long _maxBufferedBytes;
    private readonly int _maxDatagrams;
    private readonly FragmentKeySeed _seed = FragmentKeySeed.Random();

    /// <summary>Heads of the hash chains (slot indexes), a power of two long.</summary>
    private readonly int[] _buckets;

    private DatagramSlot[] _slots = new DatagramSlot[InitialSlots];

    /// <summary>Slots ever used; those below it that are free are chained from <see cref="_freeSlot"/>.</summary>
    private int _slotsUsed;
    private int _freeSlot = NoSlot;

    /// <summary>Both ends of the age list (first fragment's arrival order).</summary>
    private int _oldest = NoSlot;
    private int _newest = NoSlot;

    /// <summary>The buffer of the datagram handed out by the last call, returned to the pool by the next one.</summary>
    private byte[]? _handedOut;

    public IpFragmentReassembler(FragmentReassemblyOptions? options = null)
    {
        options ??= new FragmentReassemblyOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TimeoutNanoseconds, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBufferedBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxDatagrams, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxDatagrams, FragmentReassemblyOptions.MaxDatagramsLimit, nameof(options));
        _timeoutNanoseconds = options.TimeoutNanoseconds;
        _maxBufferedBytes = options.MaxBufferedBytes;
        _maxDatagrams = options.MaxDatagrams;

        // At most one datagram per bucket on average when full.
        _buckets = new int[Math.Max(InitialSlots, (int)BitOperations.RoundUpToPowerOf2((uint)options.MaxDatagrams))];
        _buckets.AsSpan().Fill(NoSlot);
    }

    public FragmentStatistics Statistics { get; } = new();

    /// <summary>Incomplete datagrams held, including IPv6 datagrams discarded for an overlap and remembered until their timeout.</summary>
    public int PendingDatagrams { get; private set; }

    /// <summary>The rented lengths of the buffers of incomplete datagrams.</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>
    /// Takes a packet for which <see cref="PacketDecoder"/> returned <see cref="PacketDecodeStatus.IpFragment"/>, seen
    /// at <paramref name="timestampNanoseconds"/>. On <see cref="FragmentResult.Reassembled"/>, <paramref name="payload"/>
    /// is the whole IP payload (transport header and data), valid until the next call on this reassembler; decode it
    /// with <see cref="PacketDecoder.DecodeReassembled"/>. Datagrams older than the timeout are expired first.
    /// </summary>
    public FragmentResult Add(scoped in DecodedPacket fragment, long timestampNanoseconds, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        ReturnHandedOut();
        Statistics.Fragments++;

        var data = fragment.IpPayload;
        int offset = fragment.FragmentOffset;
        bool more = fragment.MoreFragments;
        if (!FragmentKey.TryCreate(in fragment, out var key))
        {
            return Refuse();
        }

        int maxPayload = key.IsIpv6 ? Ipv6MaxPayload : Ipv4MaxPayload;

        // Not a fragment at all (offset 0 and no more fragments); an empty fragment; a non-last fragment that does
        // not end on an 8-byte boundary (RFC 8200 4.5; RFC 791's offsets imply it); beyond the largest datagram.
        if ((offset == 0 && !more)
            || data.IsEmpty
            || (more && (data.Length % BlockSize) != 0)
            || offset < 0
            || (offset % BlockSize) != 0
            || offset > maxPayload
            || data.Length > maxPayload - offset)
        {
            return Refuse();
        }

        int end = offset + data.Length;
        ExpireOlderThan(timestampNanoseconds);

        ulong hash = key.Hash(in _seed);
        int index = Find(in key, hash);
        if (index == NoSlot)
        {
            index = Insert(in key, hash, timestampNanoseconds);
        }
        else if (_slots[index].Discarded)
        {
            // RFC 5722 4: the rest of a datagram discarded for an overlap is discarded too.
            return Refuse();
        }

        ref var datagram = ref _slots[index];

        // The last fragment fixes the length (RFC 791 3.2, RFC 8200 4.5); nothing may disagree with it.
        if (!more)
        {
            if ((datagram.TotalLength >= 0 && datagram.TotalLength != end) || end < datagram.HighestEnd)
            {
                Release(index);
                return Refuse();
            }

            datagram.TotalLength = end;
        }
        else if (datagram.TotalLength >= 0 && end > datagram.TotalLength)
        {
            Release(index);
            return Refuse();
        }

        if (!EnsureCapacity(index, end))
        {
            Statistics.Dropped++;
            return FragmentResult.Dropped;
        }

        datagram = ref _slots[index];
        var result = Store(ref datagram, offset, data, key.IsIpv6);
        if (result == StoreResult.Ipv6Overlap)
        {
            // RFC 5722 4: discard the datagram, and remember it until its timeout.
            ReturnBuffer(ref datagram);
            datagram.Discarded = true;
            Statistics.Invalid++;
            return FragmentResult.Invalid;
        }

        datagram.HighestEnd = Math.Max(datagram.HighestEnd, end);
        if (datagram.TotalLength < 0 || datagram.CoveredBlocks != BlocksIn(datagram.TotalLength))
        {
            return FragmentResult.Held;
        }

        // Every block up to the last fragment's end is covered, and none beyond it can be (checked above).
        int total = datagram.TotalLength;
        _handedOut = datagram.Buffer;
        BufferedBytes -= _handedOut!.Length;
        datagram.Buffer = null;
        Release(index);
        Statistics.Reassembled++;
        payload = _handedOut.AsSpan(0, total);
        return FragmentResult.Reassembled;
    }

    /// <summary>Drops the incomplete datagrams whose first fragment arrived at least the timeout before <paramref name="nowNanoseconds"/>.</summary>
    public void ExpireOld(long nowNanoseconds)
    {
        ReturnHandedOut();
        ExpireOlderThan(nowNanoseconds);
    }

    /// <summary>Drops every incomplete datagram (not counted) and returns all buffers to the pool.</summary>
    public void Clear()
    {
        ReturnHandedOut();
        while (_oldest != NoSlot)
        {
            Release(_oldest);
        }
    }

    private FragmentResult Refuse()
    {
        Statistics.Invalid++;
        return FragmentResult.Invalid;
    }

    private void ReturnHandedOut()
    {
        if (_handedOut is not null)
        {
            ArrayPool<byte>.Shared.Return(_handedOut);
            _handedOut = null;
        }
    }

    private void ExpireOlderThan(long nowNanoseconds)
    {
        while (_oldest != NoSlot && nowNanoseconds - _slots[_oldest].FirstSeenNanoseconds >= _timeoutNanoseconds)
        {
            // A discarded IPv6 datagram was counted in Overlaps; its end of quarantine is not an expiry.
            if (!_slots[_oldest].Discarded)
            {
                Statistics.Expired++;
            }

            Release(_oldest);
        }
    }

    private int Find(in FragmentKey key, ulong hash)
    {
        for (int i = _buckets[BucketOf(hash)]; i != NoSlot; i = _slots[i].NextInBucket)
        {
            if (_slots[i].Hash == hash && _slots[i].Key.Equals(key))
            {
                return i;
            }
        }

        return NoSlot;
    }

    private int BucketOf(ulong hash) => (int)(hash & (ulong)(_buckets.Length - 1));

    /// <summary>A new, empty datagram at the young end of the age list; the oldest is evicted when the table is full.</summary>
    private int Insert(in FragmentKey key, ulong hash, long timestampNanoseconds)
    {
        if (PendingDatagrams >= _maxDatagrams)
        {
            Statistics.Evicted++;
            Release(_oldest);
        }

        int index;
        if (_freeSlot != NoSlot)
        {
            index = _freeSlot;
            _freeSlot = _slots[index].NextInBucket;
        }
        else
        {
            if (_slotsUsed == _slots.Length)
            {
                // Grows with the traffic, up to MaxDatagrams slots; never on the steady path.
                Array.Resize(ref _slots, Math.Min(_slots.Length * 2, _maxDatagrams));
            }

            index = _slotsUsed++;
        }

        int bucket = BucketOf(hash);
        _slots[index] = new DatagramSlot
        {
            Key = key,
            Hash = hash,
            NextInBucket = _buckets[bucket],
            Older = _newest,
            Newer = NoSlot,
            FirstSeenNanoseconds = timestampNanoseconds,
            TotalLength = -1,
        };
        _buckets[bucket] = index;
        if (_newest != NoSlot)
        {
            _slots[_newest].Newer = index;
        }
        else
        {
            _oldest = index;
        }

        _newest = index;
        PendingDatagrams++;
        return index;
    }

    /// <summary>Unlinks a datagram from its hash chain and the age list, returns its buffer, and frees its slot.</summary>
    private void Release(int index)
    {
        ref var datagram = ref _slots[index];
        ReturnBuffer(ref datagram);

        int bucket = BucketOf(datagram.Hash);
        if (_buckets[bucket] == index)
        {
            _buckets[bucket] = datagram.NextInBucket;
        }
        else
        {
            int previous = _buckets[bucket];
            while (_slots[previous].NextInBucket != index)
            {
                previous = _slots[previous].NextInBucket;
            }

            _slots[previous].NextInBucket = datagram.NextInBucket;
        }

        if (datagram.Older != NoSlot)
        {
            _slots[datagram.Older].Newer = datagram.Newer;
        }
        else
        {
            _oldest = datagram.Newer;
        }

        if (datagram.Newer != NoSlot)
        {
            _slots[datagram.Newer].Older = datagram.Older;
        }
        else
        {
            _newest = datagram.Older;
        }

        datagram = default;
        datagram.NextInBucket = _freeSlot;
        _freeSlot = index;
        PendingDatagrams--;
    }

    private void ReturnBuffer(ref DatagramSlot datagram)
    {
        if (datagram.Buffer is not null)
        {
            BufferedBytes -= datagram.Buffer.Length;
            ArrayPool<byte>.Shared.Return(datagram.Buffer);
            datagram.Buffer = null;
            datagram.Capacity = 0;
        }
    }

    /// <summary>
    /// Makes the datagram's buffer hold <paramref name="end"/> bytes: at once the whole datagram when its length is
    /// known, else at least twice the old size. Older datagrams are evicted to stay within
    /// <see cref="FragmentReassemblyOptions.MaxBufferedBytes"/>; when that is not enough the datagram itself is
    /// dropped and false returned.
    /// </summary>
    private bool EnsureCapacity(int index, int end)
    {
        ref var datagram = ref _slots[index];
        if (end <= datagram.Capacity)
        {
            return true;
        }

        int wanted = datagram.TotalLength >= 0
            ? datagram.TotalLength
            : Math.Max(end, Math.Min(datagram.Capacity * 2, Ipv6MaxPayload));
        wanted = BlocksIn(wanted) * BlockSize;
        int oldLength = datagram.Buffer?.Length ?? 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(RentLengthFor(wanted));

        // The new buffer replaces the old one; the pool may round the length up, so the cap counts what was rented.
        while (BufferedBytes + buffer.Length - oldLength > _maxBufferedBytes)
        {
            int victim = _oldest == index ? _slots[index].Newer : _oldest;
            Statistics.Evicted++;
            if (victim == NoSlot)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                Release(index);
                return false;
            }

            Release(victim);
        }

        datagram = ref _slots[index];
        int capacity = CapacityOf(buffer.Length);
        var bitmap = buffer.AsSpan(capacity, BitmapBytes(capacity));
        bitmap.Clear();
        if (datagram.Buffer is not null)
        {
            // Data up to the highest byte held, and the old bitmap (no longer than the new one) at the new bitmap's start.
            datagram.Buffer.AsSpan(0, datagram.HighestEnd).CopyTo(buffer);
            datagram.Buffer.AsSpan(datagram.Capacity, BitmapBytes(datagram.Capacity)).CopyTo(bitmap);
            BufferedBytes -= datagram.Buffer.Length;
            ArrayPool<byte>.Shared.Return(datagram.Buffer);
        }

        datagram.Buffer = buffer;
        datagram.Capacity = capacity;
        BufferedBytes += buffer.Length;
        return true;
    }

    /// <summary>Copies a fragment into its datagram, by the overlap policy of the class summary.</summary>
    private StoreResult Store(ref DatagramSlot datagram, int offset, ReadOnlySpan<byte> data, bool ipv6)
    {
        byte[] buffer = datagram.Buffer!;
        var bitmap = buffer.AsSpan(datagram.Capacity, BitmapBytes(datagram.Capacity));
        int first = offset / BlockSize;
        int last = first + BlocksIn(data.Length); // exclusive
        int held = 0;
        for (int block = first; block < last; block++)
        {
            if (IsCovered(bitmap, block))
            {
                held++;
            }
        }

        if (held == 0)
        {
            data.CopyTo(buffer.AsSpan(offset));
            for (int block = first; block < last; block++)
            {
                Cover(bitmap, block);
            }

            datagram.CoveredBlocks += last - first;
            return StoreResult.Stored;
        }

        if (held == last - first && data.SequenceEqual(buffer.AsSpan(offset, data.Length)))
        {
            Statistics.Duplicates++;
            return StoreResult.Duplicate;
        }

        Statistics.Overlaps++;
        if (ipv6)
        {
            return StoreResult.Ipv6Overlap;
        }

        // IPv4: the first data wins; only the missing blocks are taken.
        for (int block = first; block < last; block++)
        {
            if (!IsCovered(bitmap, block))
            {
                int start = block * BlockSize;
                int length = Math.Min(BlockSize, offset + data.Length - start);
                data.Slice(start - offset, length).CopyTo(buffer.AsSpan(start));
                Cover(bitmap, block);
                datagram.CoveredBlocks++;
            }
        }

        return StoreResult.Stored;
    }

    private static bool IsCovered(Span<byte> bitmap, int block) => (bitmap[block >> 3] & (1 << (block & 7))) != 0;

    private static void Cover(Span<byte> bitmap, int block) => bitmap[block >> 3] |= (byte)(1 << (block & 7));

    private static int BlocksIn(int bytes) => (bytes + BlockSize - 1) / BlockSize;

    private static int BitmapBytes(int capacity) => (BlocksIn(capacity) + 7) / 8;

    /// <summary>
    /// The length to rent for <paramref name="capacity"/> data bytes (a multiple of 8): the data, its bitmap, and one
    /// byte of slack that makes <see cref="CapacityOf"/> give back at least <paramref name="capacity"/>.
    /// </summary>
    private static int RentLengthFor(int capacity) => capacity + BitmapBytes(capacity) + 1;

    /// <summary>
    /// The data bytes a rented buffer of <paramref name="length"/> holds: the largest multiple of 8, C, with
    /// C + C/64 at most length - 1, so that C plus its bitmap (C/64 rounded up) fits.
    /// </summary>
    private static int CapacityOf(int length) => (int)(((long)(length - 1) * 64 / 65) & ~7L);

    private enum StoreResult : byte
    {
        Stored,
        Duplicate,
        Ipv6Overlap,
    }

    /// <summary>One incomplete datagram, or a free slot (then <see cref="NextInBucket"/> chains the free list).</summary>
    private struct DatagramSlot
    {
        public FragmentKey Key;
        public ulong Hash;
        public int NextInBucket;
        public int Older;
        public int Newer;
        public long FirstSeenNanoseconds;

        /// <summary>Data then coverage bitmap; null before the first fragment is stored and once discarded.</summary>
        public byte[]? Buffer;

        /// <summary>The data bytes <see cref="Buffer"/> holds before its bitmap.</summary>
        public int Capacity;

        /// <summary>The end fixed by the last fragment, or -1 before it arrived.</summary>
        public int TotalLength;

        /// <summary>The highest fragment end stored.</summary>
        public int HighestEnd;

        public int CoveredBlocks;

        /// <summary>An IPv6 datagram discarded for an overlap, remembered until its timeout (RFC 5722 4).</summary>
        public bool Discarded;
    }
}
