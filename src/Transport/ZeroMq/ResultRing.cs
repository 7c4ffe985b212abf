using System.Buffers;
using RataDns.Transport.Publishing;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// The bounded queue between the merger thread and a publisher's socket thread: a power-of-two ring of preallocated
/// slots, one producer side that never waits (a full or stopped ring is a counted drop) and one consumer side that
/// sleeps while the ring is empty.
/// </summary>
/// <remarks>
/// Consumer loop: <c>while (ring.WaitForWork()) { while (ring.TryPeek(out var slot)) { send(slot); ring.ReleaseHead(); } }</c>.
/// </remarks>
internal sealed class ResultRing : IDisposable
{
    private readonly ResultSlot[] _slots;
    private readonly int _mask;
    private readonly ChannelStatistics _statistics;
    private readonly Lock _produce = new();
    private readonly ManualResetEventSlim _wake = new(false);

    // _tail is written by the producer (under _produce), _head by the socket thread. Each side publishes its index
    // after the slot work is done (release) and reads the other's with Volatile.Read (acquire),
    // so a slot is never read before it is filled nor refilled before it is sent.
    private long _tail;
    private long _head;
    private bool _stopping;

    // 1 while the socket thread is about to sleep or sleeping: only then does a producer set _wake, so in a burst
    // (socket thread busy) a producer touches no lock but its own. Dekker pattern: each side writes its flag with a
    // full fence (Interlocked) before reading the other's, so either the producer sees 1 and wakes the thread or
    // the thread sees the new tail and does not sleep.
    private int _sleeping;

    /// <param name="capacity">A power of two (checked by the publisher's options validation).</param>
    /// <param name="statistics">Where refused results are counted.</param>
    public ResultRing(int capacity, ChannelStatistics statistics)
    {
        _slots = new ResultSlot[capacity];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new ResultSlot();
        }

        _mask = capacity - 1;
        _statistics = statistics;
    }

    /// <summary>Producer side: copies one result into a free slot; false (and counted) when the ring is full or stopped.</summary>
    /// <remarks>Never waits for the consumer. Meant for one producer (the merger thread); a lock keeps others safe.</remarks>
    public bool TryEnqueue(in ResultEnvelope result)
    {
        lock (_produce)
        {
            long tail = _tail;
            if (_stopping || tail - Volatile.Read(ref _head) >= _slots.Length)
            {
                _statistics.CountDropped();
                return false;
            }

            _slots[tail & _mask].Fill(result.Type, result.ServerId, result.Json, result.State);
            Interlocked.Exchange(ref _tail, tail + 1); // release the slot, and a full fence before reading _sleeping
        }

        if (Volatile.Read(ref _sleeping) != 0)
        {
            _wake.Set();
        }

        return true;
    }

    /// <summary>Refuses further results and wakes the consumer, which drains what is queued; false when already stopped.</summary>
    public bool Stop()
    {
        lock (_produce)
        {
            if (_stopping)
            {
                return false;
            }

            _stopping = true;
        }

        _wake.Set();
        return true;
    }

    /// <summary>Consumer side: the oldest queued result, if any; it stays queued until <see cref="ReleaseHead"/>.</summary>
    public bool TryPeek(out ResultSlot slot)
    {
        long head = _head; // written only by this (consumer) thread
        if (head < Volatile.Read(ref _tail))
        {
            slot = _slots[head & _mask];
            return true;
        }

        slot = null!;
        return false;
    }

    /// <summary>Consumer side: hands the slot returned by <see cref="TryPeek"/> back to the producer.</summary>
    public void ReleaseHead()
    {
        long head = _head;
        _slots[head & _mask].Release();
        Volatile.Write(ref _head, head + 1);
    }

    /// <summary>Consumer side: sleeps until a result is queued (true) or the ring is stopped and empty (false).</summary>
    public bool WaitForWork()
    {
        while (true)
        {
            long head = _head;
            if (head < Volatile.Read(ref _tail))
            {
                return true;
            }

            if (Volatile.Read(ref _stopping) && head == Volatile.Read(ref _tail))
            {
                return false;
            }

            // Reset, announce the sleep, then look once more: a result published after this look sees
            // _sleeping == 1 and sets the event, so the wait cannot miss it.
            _wake.Reset();
            Interlocked.Exchange(ref _sleeping, 1);
            if (head == Volatile.Read(ref _tail) && !Volatile.Read(ref _stopping))
            {
                _wake.Wait();
            }

            Interlocked.Exchange(ref _sleeping, 0);
        }
    }

    /// <summary>After the consumer has ended.</summary>
    public void Dispose() => _wake.Dispose();
}

/// <summary>
/// One queued result: the topic (<c>&lt;type&gt;/&lt;serverId&gt;</c>, UTF-8), the JSON envelope and the state container
/// (empty when there is none; always rented, since states are larger than views). The inline buffer
/// covers most envelopes; a larger one is rented from <see cref="ArrayPool{T}.Shared"/> by the producer and returned by
/// the socket thread once sent, so the ring holds at most <c>QueueCapacity × InlineBytes</c> between bursts of large
/// results.
/// </summary>
internal sealed class ResultSlot
{
    private const int InlineBytes = 2048;

    private readonly byte[] _inline = new byte[InlineBytes];

    public byte[] Topic { get; private set; } = new byte[128];

    public int TopicLength { get; private set; }

    public byte[] Json { get; private set; }

    public int JsonLength { get; private set; }

    public byte[] State { get; private set; } = [];

    public int StateLength { get; private set; }

    public ResultSlot()
    {
        Json = _inline;
    }

    /// <summary>Producer side, while the slot is free.</summary>
    public void Fill(string type, string serverId, ReadOnlySpan<byte> json, ReadOnlySpan<byte> state)
    {
        int topicLength = System.Text.Encoding.UTF8.GetByteCount(type) + 1 + System.Text.Encoding.UTF8.GetByteCount(serverId);
        if (Topic.Length < topicLength)
        {
            Topic = new byte[topicLength];
        }

        int n = System.Text.Encoding.UTF8.GetBytes(type, Topic);
        Topic[n++] = (byte)'/';
        n += System.Text.Encoding.UTF8.GetBytes(serverId, Topic.AsSpan(n));
        TopicLength = n;

        Json = json.Length <= InlineBytes ? _inline : ArrayPool<byte>.Shared.Rent(json.Length);
        json.CopyTo(Json);
        JsonLength = json.Length;
        State = state.IsEmpty ? [] : ArrayPool<byte>.Shared.Rent(state.Length);
        state.CopyTo(State);
        StateLength = state.Length;
    }

    /// <summary>Socket-thread side, after the send and before the slot is handed back to the producer.</summary>
    public void Release()
    {
        if (!ReferenceEquals(Json, _inline))
        {
            ArrayPool<byte>.Shared.Return(Json);
            Json = _inline;
        }

        if (State.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(State);
            State = [];
            StateLength = 0;
        }
    }
}
