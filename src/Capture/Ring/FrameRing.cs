using System.Numerics;
using System.Runtime.InteropServices;

namespace RataDns.Capture.Ring;

/// <summary>
/// A single-producer, single-consumer ring of preallocated frame slots that hands frames from the capture thread to
/// a processing thread without locks and without allocation. Each slot holds a frame's timestamp, link type,
/// original length and sequence number; the frame's bytes (up to <see cref="SlotCapacity"/>) go into a circular
/// byte arena shared by all slots, so many small frames and the occasional large one (a 64 KB coalesced TCP
/// segment) fit in the same memory.
/// </summary>
/// <remarks>
/// <para>
/// The producer (exactly one thread at a time) calls <see cref="TryWrite(in CapturedFrame)"/>; it never blocks: when
/// every slot is taken it returns false and counts the frame in <see cref="Dropped"/>. A frame longer than a slot is
/// cut to <see cref="SlotCapacity"/> bytes (its <see cref="CapturedFrame.OriginalLength"/> still tells the truth) and
/// counted in <see cref="Truncated"/>.
/// </para>
/// <para>
/// The consumer (exactly one thread at a time) calls <see cref="TryRead(out CapturedFrame)"/>, uses the frame, then
/// <see cref="AdvanceRead"/> to give the slot back. The frame's bytes are the slot itself, valid until
/// <see cref="AdvanceRead"/>. Reading again without advancing returns the same frame.
/// </para>
/// <para>
/// Two cursors count frames since the ring was made: the write cursor (frames published) and the read cursor
/// (frames given back). Slot <c>s &amp; (Slots - 1)</c> holds frame <c>s</c>. Each cursor is written by one side only
/// and sits in its own padded block with that side's private state, so the two threads never share a cache line
/// through the cursors. Each side also caches the other side's cursor and rereads it only when the cached value
/// says "full" or "empty" (as Disruptor's single-producer sequencer does), so in steady state a side touches the
/// other's cache line about once per lap rather than once per frame.
/// </para>
/// <para>
/// The sequence number of a frame is its write cursor value, 0-based and without gaps (dropped frames take no
/// number); the consumer sees it as <see cref="CapturedFrame.FrameNumber"/> = sequence + 1. <see cref="CapturedFrame.InterfaceId"/> and <see cref="CapturedFrame.FileOffset"/>
/// are carried through from the frame written (0 for the span overload).
/// </para>
/// </remarks>
public sealed class FrameRing
{
    /// <summary>The interface id that tells a marker slot from a frame (real ids are never negative).</summary>
    private const int MarkerInterfaceId = int.MinValue;

    private readonly byte[] _data;
    private readonly SlotHeader[] _headers;
    private readonly int _mask;
    private readonly int _slotCapacity;
    private readonly long _arenaMask;

    // Written by the producer only (plus the consumer reads ProducerSide.Next and the counters).
    private ProducerSide _producer;

    // Written by the consumer only (plus the producer reads ConsumerSide.Next).
    private ConsumerSide _consumer;

    /// <summary>
    /// Makes a ring of <paramref name="slots"/> slots (a power of two, at least 2) for frames of up to
    /// <paramref name="slotCapacity"/> bytes each, with an arena big enough that the slots, not the bytes, are
    /// always the limit. All memory is allocated here, once.
    /// </summary>
    public FrameRing(int slots, int slotCapacity)
        : this(slots, slotCapacity, 2L * Math.Max(2, slots) * Math.Max(1, slotCapacity))
    {
    }

    /// <summary>
    /// Makes a ring of <paramref name="slots"/> slots (a power of two, at least 2) for frames of up to
    /// <paramref name="slotCapacity"/> bytes, whose bytes share an arena of <paramref name="arenaBytes"/> (rounded up
    /// to a power of two, at least twice the largest frame). A frame is refused when either the slots or the arena
    /// are full. All memory is allocated here, once.
    /// </summary>
    public FrameRing(int slots, int slotCapacity, long arenaBytes)
    {
        if (slots < 2 || !BitOperations.IsPow2(slots))
        {
            throw new ArgumentOutOfRangeException(nameof(slots), slots, "the slot count must be a power of two, at least 2");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotCapacity);
        long arena = (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(arenaBytes, 2L * slotCapacity));
        if (arena > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(arenaBytes), arenaBytes, $"an arena of {arena} bytes ({slots} slots of {slotCapacity} bytes) exceeds the largest array");
        }

        _data = GC.AllocateUninitializedArray<byte>((int)arena);
        _arenaMask = arena - 1;
        _headers = new SlotHeader[slots];
        _mask = slots - 1;
        _slotCapacity = slotCapacity;
    }

    /// <summary>The number of slots (a power of two).</summary>
    public int Slots => _mask + 1;

    /// <summary>The most bytes of one frame a slot keeps; longer frames are truncated.</summary>
    public int SlotCapacity => _slotCapacity;

    /// <summary>Frames accepted by the ring since it was made (the write cursor). Any thread may read it.</summary>
    // Acquire is not needed for a counter; Volatile gives an untorn, fresh value on any thread.
    public long Written => Volatile.Read(ref _producer.Next);

    /// <summary>Frames refused because the ring was full. Any thread may read it.</summary>
    // No ordering needed: a monotonic counter, Volatile only for an untorn, fresh value.
    public long Dropped => Volatile.Read(ref _producer.Dropped);

    /// <summary>Frames accepted but cut to <see cref="SlotCapacity"/> bytes. Any thread may read it.</summary>
    // No ordering needed: a monotonic counter, Volatile only for an untorn, fresh value.
    public long Truncated => Volatile.Read(ref _producer.Truncated);

    /// <summary>Frames given back by the consumer (the read cursor). Any thread may read it.</summary>
    // No ordering needed: a counter for monitoring.
    public long Consumed => Volatile.Read(ref _consumer.Next);

    /// <summary>
    /// Frames written and not yet given back: exact on the producer or consumer thread between calls, a snapshot
    /// in [0, <see cref="Slots"/>] on any other thread.
    /// </summary>
    public int Count
    {
        get
        {
            // Read the read cursor first: the write cursor can only have moved further by the time it is read, so
            // the difference is never negative. Neither read orders anything else.
            long read = Volatile.Read(ref _consumer.Next);
            long written = Volatile.Read(ref _producer.Next);
            return (int)Math.Clamp(written - read, 0, Slots);
        }
    }

    /// <summary>
    /// Copies <paramref name="frame"/> (bytes, timestamp, link type, original length, interface id, file offset)
    /// into the next free slot and publishes it. Producer thread only. Returns false, and counts a drop, when the
    /// ring is full; never blocks, never throws, never allocates.
    /// </summary>
    public bool TryWrite(in CapturedFrame frame) =>
        TryWriteCore(frame.Data, frame.TimestampNanoseconds, frame.LinkType, frame.OriginalLength, frame.InterfaceId, frame.FileOffset, default);

    /// <summary>
    /// As <see cref="TryWrite(in CapturedFrame)"/>, but a full ring is not counted as a drop: for a producer that
    /// waits and tries again (reading a file, where nothing may be lost).
    /// </summary>
    public bool TryWriteOrRetry(in CapturedFrame frame) =>
        TryWriteCore(frame.Data, frame.TimestampNanoseconds, frame.LinkType, frame.OriginalLength, frame.InterfaceId, frame.FileOffset, default, countDrop: false);

    /// <summary>
    /// As <see cref="TryWrite(in CapturedFrame)"/> with what decoding the frame found, which the consumer gets back
    /// from <see cref="TryRead(out CapturedFrame, out FrameDecodeHint)"/> (dropped when the frame is cut to a slot).
    /// </summary>
    public bool TryWrite(in CapturedFrame frame, in FrameDecodeHint hint) =>
        TryWriteCore(frame.Data, frame.TimestampNanoseconds, frame.LinkType, frame.OriginalLength, frame.InterfaceId, frame.FileOffset, hint);

    /// <summary>As <see cref="TryWriteOrRetry(in CapturedFrame)"/> with the frame's decode hint.</summary>
    public bool TryWriteOrRetry(in CapturedFrame frame, in FrameDecodeHint hint) =>
        TryWriteCore(frame.Data, frame.TimestampNanoseconds, frame.LinkType, frame.OriginalLength, frame.InterfaceId, frame.FileOffset, hint, countDrop: false);

    /// <summary>
    /// Copies one frame's bytes and metadata into the next free slot and publishes it. Producer thread only.
    /// Returns false, and counts a drop, when the ring is full; never blocks, never throws, never allocates.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> data, long timestampNanoseconds, LinkType linkType, uint originalLength) =>
        TryWriteCore(data, timestampNanoseconds, linkType, originalLength, 0, 0, default);

    /// <summary>
    /// Gets the oldest published frame without giving its slot back: its <see cref="CapturedFrame.Data"/> is the slot
    /// and stays valid until <see cref="AdvanceRead"/>. Consumer thread only. Returns false (and a default frame)
    /// when the ring is empty; never blocks, never allocates.
    /// </summary>
    public bool TryRead(out CapturedFrame frame) => TryRead(out frame, out _);

    /// <summary>As <see cref="TryRead(out CapturedFrame)"/>, with the decode hint the producer wrote with the frame (empty if none).</summary>
    public bool TryRead(out CapturedFrame frame, out FrameDecodeHint hint)
    {
        long next = _consumer.Next;
        if (next >= _consumer.CachedWritten)
        {
            // Acquire: pairs with the release in TryWriteCore, so the slot's bytes and header written before the
            // producer published this cursor value are visible to the reads below.
            _consumer.CachedWritten = Volatile.Read(ref _producer.Next);
            if (next >= _consumer.CachedWritten)
            {
                frame = default;
                hint = default;
                return false;
            }
        }

        int slot = (int)next & _mask;
        ref readonly SlotHeader header = ref _headers[slot];
        hint = header.Hint;
        frame = new CapturedFrame(
            header.TimestampNanoseconds,
            header.LinkType,
            header.InterfaceId,
            header.OriginalLength,
            new ReadOnlySpan<byte>(_data, (int)(header.DataStart & _arenaMask), header.Length),
            header.FileOffset,
            next + 1);
        return true;
    }

    /// <summary>
    /// Gives back the slot of the frame returned by the last successful <see cref="TryRead(out CapturedFrame)"/>, so the producer may
    /// reuse it; that frame's bytes must not be used afterwards. Consumer thread only. Throws
    /// <see cref="InvalidOperationException"/> (API misuse) when there is no frame to give back.
    /// </summary>
    public void AdvanceRead()
    {
        long next = _consumer.Next;
        if (next >= _consumer.CachedWritten)
        {
            ThrowNothingToAdvance();
        }

        // Release: every read of the frame's bytes happens before the producer can see them as free and overwrite
        // them (the producer's acquire of this position pairs with this store).
        ref readonly SlotHeader header = ref _headers[(int)next & _mask];
        Volatile.Write(ref _consumer.DataReleased, header.DataStart + header.Length);

        // Release: every read of the slot above happens before the producer can see the slot as free and overwrite
        // it (the producer's acquire of this cursor pairs with this store).
        Volatile.Write(ref _consumer.Next, next + 1);
    }

    /// <summary>
    /// Publishes a control marker (no bytes) in frame order: the consumer sees it as a frame for which
    /// <see cref="IsMarker(in CapturedFrame, out int, out long)"/> is true. Producer thread only. Returns false, and
    /// counts nothing, when every slot is taken: a marker must not be lost, so the caller retries it.
    /// </summary>
    public bool TryWriteMarker(int kind, long value)
    {
        long next = _producer.Next;
        if (next - _producer.CachedRead > _mask)
        {
            // Acquire: as in TryWriteCore.
            _producer.CachedRead = Volatile.Read(ref _consumer.Next);
            if (next - _producer.CachedRead > _mask)
            {
                return false;
            }
        }

        ref SlotHeader header = ref _headers[(int)next & _mask];
        header.DataStart = _producer.DataNext;
        header.TimestampNanoseconds = 0;
        header.FileOffset = value;
        header.OriginalLength = (uint)kind;
        header.Length = 0;
        header.InterfaceId = MarkerInterfaceId;
        header.LinkType = default;
        header.Hint = default;

        // Release: the header is visible before the cursor that publishes it (as in TryWriteCore).
        Volatile.Write(ref _producer.Next, next + 1);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="frame"/> (from <see cref="TryRead(out CapturedFrame)"/>) is a marker written by
    /// <see cref="TryWriteMarker"/>, and if so its kind and value.
    /// </summary>
    public static bool IsMarker(in CapturedFrame frame, out int kind, out long value)
    {
        if (frame.InterfaceId == MarkerInterfaceId)
        {
            kind = (int)frame.OriginalLength;
            value = frame.FileOffset;
            return true;
        }

        kind = 0;
        value = 0;
        return false;
    }

    private bool TryWriteCore(
        ReadOnlySpan<byte> data, long timestampNanoseconds, LinkType linkType, uint originalLength, int interfaceId, long fileOffset, in FrameDecodeHint hint, bool countDrop = true)
    {
        long next = _producer.Next;
        if (next - _producer.CachedRead > _mask)
        {
            // Acquire: pairs with the release in AdvanceRead, so the consumer's reads of the slot we are about to
            // overwrite have completed before our writes to it.
            _producer.CachedRead = Volatile.Read(ref _consumer.Next);
            if (next - _producer.CachedRead > _mask)
            {
                CountDrop(countDrop);
                return false;
            }
        }

        int length = data.Length;
        if (length > _slotCapacity)
        {
            length = _slotCapacity;
            // No ordering needed: a counter only the producer writes; Volatile for an untorn value to readers.
            Volatile.Write(ref _producer.Truncated, _producer.Truncated + 1);
        }

        // Place the bytes at the arena's write position, or at the start of the next lap when they would run past
        // the end (the bytes skipped count as used until the consumer passes them).
        long start = _producer.DataNext;
        long offset = start & _arenaMask;
        if (offset + length > _arenaMask + 1)
        {
            start += _arenaMask + 1 - offset;
            offset = 0;
        }

        long end = start + length;
        if (end - _producer.CachedDataReleased > _arenaMask + 1)
        {
            // Acquire: pairs with the release in AdvanceRead, so the consumer's reads of the bytes we are about to
            // overwrite have completed before our writes to them.
            _producer.CachedDataReleased = Volatile.Read(ref _consumer.DataReleased);
            if (end - _producer.CachedDataReleased > _arenaMask + 1)
            {
                CountDrop(countDrop);
                return false;
            }
        }

        int slot = (int)next & _mask;
        data[..length].CopyTo(_data.AsSpan((int)offset, length));
        _producer.DataNext = end;
        ref SlotHeader header = ref _headers[slot];
        header.DataStart = start;
        header.TimestampNanoseconds = timestampNanoseconds;
        header.FileOffset = fileOffset;
        header.OriginalLength = originalLength;
        header.Length = length;
        header.InterfaceId = interfaceId;
        header.LinkType = linkType;
        header.Hint = length == data.Length ? hint : default;

        // Release: the slot's bytes and header above are visible to the consumer before it can see this cursor
        // value (its acquire in TryRead pairs with this store). This store is also the frame's publication.
        Volatile.Write(ref _producer.Next, next + 1);
        return true;
    }

    private void CountDrop(bool count)
    {
        if (count)
        {
            // No ordering needed: a counter only the producer writes; Volatile for an untorn value to readers.
            Volatile.Write(ref _producer.Dropped, _producer.Dropped + 1);
        }
    }

    private static void ThrowNothingToAdvance() =>
        throw new InvalidOperationException("AdvanceRead called without a frame from a successful TryRead");

    private struct SlotHeader
    {
        /// <summary>Where the frame's bytes start, as a position in the arena counted since the ring was made.</summary>
        public long DataStart;
        public long TimestampNanoseconds;
        public long FileOffset;
        public uint OriginalLength;
        public int Length;
        public int InterfaceId;
        public LinkType LinkType;

        /// <summary>What the producer's decode of the frame found (see <see cref="FrameDecodeHint"/>); empty if nothing.</summary>
        public FrameDecodeHint Hint;
    }

    /// <summary>
    /// The producer's state, alone on its cache lines: 64 bytes of padding before the fields and 96 after, so no
    /// field of the other side (or of anything the runtime lays out next to the ring) shares a 64-byte line with it.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct ProducerSide
    {
        /// <summary>The write cursor: the sequence of the next frame to write, published with release.</summary>
        [FieldOffset(64)]
        public long Next;

        /// <summary>The producer's last view of the read cursor (private to the producer).</summary>
        [FieldOffset(72)]
        public long CachedRead;

        [FieldOffset(80)]
        public long Dropped;

        [FieldOffset(88)]
        public long Truncated;

        /// <summary>The arena position where the next frame's bytes go (private to the producer).</summary>
        [FieldOffset(96)]
        public long DataNext;

        /// <summary>The producer's last view of <see cref="ConsumerSide.DataReleased"/> (private to the producer).</summary>
        [FieldOffset(104)]
        public long CachedDataReleased;
    }

    /// <summary>The consumer's state, alone on its cache lines (see <see cref="ProducerSide"/>).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct ConsumerSide
    {
        /// <summary>The read cursor: the sequence of the next frame to read, given back with release.</summary>
        [FieldOffset(64)]
        public long Next;

        /// <summary>The consumer's last view of the write cursor (private to the consumer).</summary>
        [FieldOffset(72)]
        public long CachedWritten;

        /// <summary>The arena position up to which the consumer has finished with the bytes, given back with release.</summary>
        [FieldOffset(80)]
        public long DataReleased;
    }
}
