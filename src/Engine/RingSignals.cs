using System.Runtime.InteropServices;
using RataDns.Capture.Ring;

namespace RataDns.Engine;

/// <summary>
/// How the two ends of one worker's ring sleep and wake each other: the capture thread when the ring is full (reading
/// a file, which is faster than any worker), the worker when it is empty (a quiet live source). A side that sleeps
/// raises its flag and waits on an event; the other side reads the flag after each frame it moves (a read of a cache
/// line nobody writes while both run, so it costs nothing while they do) and sets the event.
/// </summary>
/// <remarks>
/// The flag is raised with a full fence and the ring looked at again before sleeping, but the waking side reads the
/// flag right after its own release store without a fence (one per frame would cost more than it saves): a wake
/// can be missed in the instant both sides cross. Every wait is therefore bounded, and a missed wake costs at most
/// that bound once.
/// </remarks>
public sealed class RingSignals : IDisposable
{
    /// <summary>The longest a worker sleeps on an empty ring before it looks again (and at the stop flag).</summary>
    private static readonly TimeSpan FramesTimeout = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest the capture thread sleeps on a full ring before it looks again.</summary>
    private static readonly TimeSpan RoomTimeout = TimeSpan.FromMilliseconds(10);

    /// <summary>Frames waiting in the ring that are worth waking a sleeping worker for.</summary>
    private const int WakeBatch = 256;

    private readonly ManualResetEventSlim _frames = new(false, spinCount: 1);
    private readonly ManualResetEventSlim _room = new(false, spinCount: 1);
    private Flags _flags;

    /// <summary>The ring has room again when at most this many frames are left in it (set by the sleeping producer).</summary>
    private int _resumeAt;

    /// <summary>
    /// Capture thread, after publishing frames: wakes the worker if it sleeps and a batch of frames waits for it (one
    /// frame at a time would cost a wake-up per frame on both threads; a lone frame waits for the worker's bound).
    /// </summary>
    public void WakeConsumer(FrameRing ring)
    {
        if (Volatile.Read(ref _flags.ConsumerWaiting) != 0 && ring.Count >= WakeBatch)
        {
            WakeConsumer();
        }
    }

    /// <summary>Capture thread, after publishing a marker: wakes the worker if it sleeps.</summary>
    public void WakeConsumer()
    {
        if (Volatile.Read(ref _flags.ConsumerWaiting) != 0)
        {
            Volatile.Write(ref _flags.ConsumerWaiting, 0);
            _frames.Set();
        }
    }

    /// <summary>Worker, after giving a slot back: wakes the capture thread if it sleeps and enough room is free.</summary>
    public void WakeProducer(FrameRing ring)
    {
        if (Volatile.Read(ref _flags.ProducerWaiting) != 0 && ring.Count <= Volatile.Read(ref _resumeAt))
        {
            Volatile.Write(ref _flags.ProducerWaiting, 0);
            _room.Set();
        }
    }

    /// <summary>Worker: sleeps until a frame arrives (or a short bound passes).</summary>
    public void WaitForFrames(FrameRing ring)
    {
        _frames.Reset();
        Interlocked.Exchange(ref _flags.ConsumerWaiting, 1);
        if (ring.Count == 0)
        {
            _frames.Wait(FramesTimeout);
        }

        Volatile.Write(ref _flags.ConsumerWaiting, 0);
    }

    /// <summary>Capture thread: sleeps until at most <paramref name="resumeAt"/> frames are left in the ring (or a bound passes).</summary>
    public void WaitForRoom(FrameRing ring, int resumeAt)
    {
        _room.Reset();
        Volatile.Write(ref _resumeAt, resumeAt);
        Interlocked.Exchange(ref _flags.ProducerWaiting, 1);
        if (ring.Count > resumeAt)
        {
            _room.Wait(RoomTimeout);
        }

        Volatile.Write(ref _flags.ProducerWaiting, 0);
    }

    public void Dispose()
    {
        _frames.Dispose();
        _room.Dispose();
    }

    /// <summary>Each flag alone on its cache line (each is written by one side and read by the other).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Flags
    {
        [FieldOffset(64)]
        public int ConsumerWaiting;

        [FieldOffset(128)]
        public int ProducerWaiting;
    }
}
