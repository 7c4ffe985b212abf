using System.Numerics;

namespace RataDns.Transport.Redis;

/// <summary>
/// Results waiting for the sender thread: a power-of-two ring of preallocated slots with one producer (the thread
/// that calls <see cref="RedisPublisher.Publish"/>, the engine's merger thread) and one consumer (the sender thread).
/// A slot keeps its payload buffer from result to result, so once the buffers have grown to the results' size
/// nothing is allocated. <see cref="TryAdd"/> never waits: a full ring returns false.
/// </summary>
internal sealed class PendingResultQueue
{
    private const int MinimumPayloadBuffer = 256;

    private readonly Slot[] _slots;
    private readonly long _mask;

    // Slots [_read, _written) hold results. _written is written only by the producer, _read only by the consumer;
    // results are rare (a few per window), so the cursors are not padded against false sharing.
    private long _written;
    private long _read;

    public PendingResultQueue(int capacity)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        _slots = new Slot[size];
        _mask = size - 1;
        Capacity = capacity;
        for (int i = 0; i < size; i++)
        {
            _slots[i].Payload = [];
            _slots[i].Channel = string.Empty;
        }
    }

    /// <summary>The bound given at construction (the ring itself may be larger, a power of two).</summary>
    public int Capacity { get; }

    /// <summary>Producer: copies one result into the next free slot; false when <see cref="Capacity"/> results wait.</summary>
    public bool TryAdd(string channel, ReadOnlySpan<byte> payload)
    {
        long written = _written;
        // Acquire: the consumer has finished reading a slot before it advances _read past it.
        if (written - Volatile.Read(ref _read) >= Capacity)
        {
            return false;
        }

        ref var slot = ref _slots[written & _mask];
        if (slot.Payload.Length < payload.Length)
        {
            slot.Payload = new byte[payload.Length <= 1 << 30
                ? (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(payload.Length, MinimumPayloadBuffer))
                : payload.Length];
        }

        payload.CopyTo(slot.Payload);
        slot.Length = payload.Length;
        slot.Channel = channel;
        // Release: the slot's contents are visible to the consumer before the cursor that hands it over.
        Volatile.Write(ref _written, written + 1);
        return true;
    }

    /// <summary>Consumer: how many results wait.</summary>
    public int Count => (int)(Volatile.Read(ref _written) - _read);

    /// <summary>Consumer: the <paramref name="index"/>-th waiting result (index &lt; <see cref="Count"/>).</summary>
    public ref readonly Slot Peek(int index) => ref _slots[(_read + index) & _mask];

    /// <summary>Consumer: frees the first <paramref name="count"/> waiting results (their bytes were copied or dropped).</summary>
    public void Release(int count) => Volatile.Write(ref _read, _read + count);

    /// <summary>One waiting result: <c>Payload[..Length]</c> to publish on <c>Channel</c>.</summary>
    internal struct Slot
    {
        public byte[] Payload;
        public int Length;
        public string Channel;
    }
}
