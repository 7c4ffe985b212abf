using System.Buffers.Binary;
using RataDns.Capture;
using RataDns.Capture.Ring;

namespace RataDns.Tests.Capture.Live;

/// <summary>The ring between the capture thread and a worker (src/Capture/Ring), tested beside its producer.</summary>
public sealed class FrameRingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Slot_count_must_be_a_power_of_two_of_at_least_2(int slots)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameRing(slots, 64));
    }

    [Fact]
    public void Slot_capacity_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameRing(4, 0));
    }

    [Fact]
    public void Fills_then_refuses_and_counts_the_drop_then_reads_in_order()
    {
        var ring = new FrameRing(4, 16);

        for (int i = 0; i < 4; i++)
        {
            Assert.True(ring.TryWrite(Frame(i, 10), 1000 + i, LinkType.Ethernet, (uint)(100 + i)));
        }

        Assert.False(ring.TryWrite(Frame(4, 10), 1004, LinkType.Ethernet, 104));
        Assert.Equal(4, ring.Count);
        Assert.Equal(4, ring.Written);
        Assert.Equal(1, ring.Dropped);
        Assert.Equal(0, ring.Truncated);

        for (int i = 0; i < 4; i++)
        {
            Assert.True(ring.TryRead(out var frame));
            Assert.Equal(Frame(i, 10), frame.Data.ToArray());
            Assert.Equal(1000 + i, frame.TimestampNanoseconds);
            Assert.Equal(LinkType.Ethernet, frame.LinkType);
            Assert.Equal((uint)(100 + i), frame.OriginalLength);
            Assert.Equal(i + 1, frame.FrameNumber);
            ring.AdvanceRead();
        }

        Assert.False(ring.TryRead(out var none));
        Assert.True(none.Data.IsEmpty);
        Assert.Equal(0, ring.Count);
        Assert.Equal(4, ring.Consumed);
    }

    [Fact]
    public void A_slot_freed_by_AdvanceRead_takes_the_next_frame()
    {
        var ring = new FrameRing(2, 8);
        Assert.True(ring.TryWrite(Frame(0, 8), 0, LinkType.Raw, 8));
        Assert.True(ring.TryWrite(Frame(1, 8), 1, LinkType.Raw, 8));
        Assert.False(ring.TryWrite(Frame(2, 8), 2, LinkType.Raw, 8));

        Assert.True(ring.TryRead(out _));
        // Read but not given back: still full.
        Assert.False(ring.TryWrite(Frame(2, 8), 2, LinkType.Raw, 8));
        ring.AdvanceRead();
        Assert.True(ring.TryWrite(Frame(3, 8), 3, LinkType.Raw, 8));

        Assert.True(ring.TryRead(out var second));
        Assert.Equal(Frame(1, 8), second.Data.ToArray());
        ring.AdvanceRead();
        Assert.True(ring.TryRead(out var third));
        Assert.Equal(Frame(3, 8), third.Data.ToArray());
        Assert.Equal(3, third.FrameNumber);
        Assert.Equal(2, ring.Dropped);
    }

    [Fact]
    public void TryRead_without_AdvanceRead_returns_the_same_frame()
    {
        var ring = new FrameRing(4, 8);
        ring.TryWrite(Frame(7, 8), 7, LinkType.Raw, 8);
        ring.TryWrite(Frame(8, 8), 8, LinkType.Raw, 8);

        Assert.True(ring.TryRead(out var first));
        Assert.True(ring.TryRead(out var again));

        Assert.Equal(first.TimestampNanoseconds, again.TimestampNanoseconds);
        Assert.Equal(Frame(7, 8), again.Data.ToArray());
    }

    [Fact]
    public void AdvanceRead_without_a_frame_is_misuse()
    {
        var ring = new FrameRing(4, 8);
        Assert.Throws<InvalidOperationException>(ring.AdvanceRead);

        ring.TryWrite(Frame(0, 8), 0, LinkType.Raw, 8);
        Assert.True(ring.TryRead(out _));
        ring.AdvanceRead();
        Assert.Throws<InvalidOperationException>(ring.AdvanceRead);
    }

    [Fact]
    public void Wraps_around_many_times_with_uneven_batches()
    {
        var ring = new FrameRing(8, 40);
        var random = new Random(12345);
        long written = 0;
        long read = 0;
        while (read < 20_000)
        {
            int batch = random.Next(1, 10);
            for (int i = 0; i < batch; i++)
            {
                int length = (int)(written % 33) + 8;
                if (ring.TryWrite(Frame(written, length), written, LinkType.Ethernet, (uint)length))
                {
                    written++;
                }
            }

            int take = random.Next(1, 10);
            for (int i = 0; i < take && ring.TryRead(out var frame); i++)
            {
                Assert.Equal(read, frame.TimestampNanoseconds);
                Assert.Equal(read + 1, frame.FrameNumber);
                Assert.Equal(Frame(read, (int)(read % 33) + 8), frame.Data.ToArray());
                ring.AdvanceRead();
                read++;
            }

            Assert.InRange(ring.Count, 0, 8);
            Assert.Equal(written - read, ring.Count);
        }

        Assert.True(ring.Dropped > 0);
        Assert.Equal(written, ring.Written);
    }

    [Fact]
    public void A_frame_longer_than_a_slot_is_truncated_and_counted_with_its_original_length_kept()
    {
        var ring = new FrameRing(4, 16);
        byte[] big = Frame(42, 100);

        Assert.True(ring.TryWrite(big, 5, LinkType.Ethernet, 1500));
        Assert.True(ring.TryWrite(Frame(43, 16), 6, LinkType.Ethernet, 16));

        Assert.Equal(1, ring.Truncated);
        Assert.True(ring.TryRead(out var frame));
        Assert.Equal(big.AsSpan(0, 16).ToArray(), frame.Data.ToArray());
        Assert.Equal(1500u, frame.OriginalLength);
        ring.AdvanceRead();
        Assert.True(ring.TryRead(out var exact));
        Assert.Equal(16, exact.Data.Length);
    }

    [Fact]
    public void Writing_a_CapturedFrame_keeps_its_metadata()
    {
        var source = new FrameRing(2, 32);
        source.TryWrite(Frame(9, 20), 1_700_000_000_123_456_789, LinkType.LinuxSll, 60);
        Assert.True(source.TryRead(out var frame));

        var ring = new FrameRing(2, 32);
        Assert.True(ring.TryWrite(in frame));
        Assert.True(ring.TryRead(out var copy));

        Assert.Equal(1_700_000_000_123_456_789, copy.TimestampNanoseconds);
        Assert.Equal(LinkType.LinuxSll, copy.LinkType);
        Assert.Equal(60u, copy.OriginalLength);
        Assert.Equal(Frame(9, 20), copy.Data.ToArray());
    }

    [Fact]
    public void Writing_and_reading_allocate_nothing()
    {
        var ring = new FrameRing(64, 128);
        byte[] data = Frame(1, 100);
        for (int i = 0; i < 1000; i++)
        {
            ring.TryWrite(data, i, LinkType.Ethernet, 100);
            ring.TryRead(out _);
            ring.AdvanceRead();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            ring.TryWrite(data, i, LinkType.Ethernet, 100);
            ring.TryWrite(data, i, LinkType.Ethernet, 100);
            while (ring.TryRead(out var frame))
            {
                sum += frame.Data.Length;
                ring.AdvanceRead();
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Fewer bytes than frames means nothing is allocated per frame; the runtime itself may allocate a few KB
        // once while it recompiles the hot loop (tiered JIT, on-stack replacement).
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated for 20,000 frames");
        Assert.Equal(2_000_000, sum);
    }

    [Fact]
    public void Two_threads_pass_every_frame_in_order_with_its_content()
    {
        // The producer writes frames numbered in their first 8 bytes, of varying lengths, the rest derived from the
        // number; the consumer checks order and every byte. Bounded by count, not by time: how many frames pass in
        // a second is a benchmark figure, not asserted here. The joins are hang guards (a lost frame would leave
        // the consumer waiting for ever); a failure or a hang stops both threads.
        const long Count = 1_000_000;
        var ring = new FrameRing(256, 64);
        long consumed = 0;
        string? failure = null;
        bool abandon = false;

        var producer = new Thread(() =>
        {
            Span<byte> buffer = stackalloc byte[64];
            for (long n = 0; n < Count; n++)
            {
                int length = 8 + (int)(n % 57);
                Fill(buffer[..length], n);
                while (!ring.TryWrite(buffer[..length], n, LinkType.Ethernet, (uint)length))
                {
                    if (Volatile.Read(ref abandon))
                    {
                        return;
                    }

                    Thread.SpinWait(8);
                }
            }
        });

        var consumer = new Thread(() =>
        {
            Span<byte> expected = stackalloc byte[64];
            long next = 0;
            while (next < Count && !Volatile.Read(ref abandon))
            {
                if (!ring.TryRead(out var frame))
                {
                    Thread.SpinWait(8);
                    continue;
                }

                int length = 8 + (int)(next % 57);
                Fill(expected[..length], next);
                if (frame.TimestampNanoseconds != next || frame.FrameNumber != next + 1
                    || !frame.Data.SequenceEqual(expected[..length]))
                {
                    failure = $"frame {next}: got timestamp {frame.TimestampNanoseconds}, number {frame.FrameNumber}, " +
                        $"first 8 bytes {BinaryPrimitives.ReadInt64LittleEndian(frame.Data)}";
                    ring.AdvanceRead();
                    Volatile.Write(ref abandon, true);
                    break;
                }

                ring.AdvanceRead();
                next++;
            }

            consumed = next;
        });

        producer.Start();
        consumer.Start();
        bool finished = producer.Join(TimeSpan.FromSeconds(60)) & consumer.Join(TimeSpan.FromSeconds(60));
        Volatile.Write(ref abandon, true);

        Assert.Null(failure);
        Assert.True(finished, $"the threads did not finish: {ring.Written} frames written, {consumed} consumed");
        Assert.Equal(Count, ring.Written);
        Assert.Equal(Count, consumed);
        Assert.Equal(0, ring.Count);
    }

    private static void Fill(Span<byte> buffer, long n)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer, n);
        for (int i = 8; i < buffer.Length; i++)
        {
            buffer[i] = (byte)(n * 31 + i);
        }
    }

    private static byte[] Frame(long n, int length)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(n * 7 + i);
        }

        return bytes;
    }

    [Fact]
    public void Large_and_small_frames_share_the_arena_and_a_full_arena_is_a_counted_drop()
    {
        var ring = new FrameRing(8, 1000, 2048);
        Assert.True(ring.TryWrite(Frame(0, 1000), 0, LinkType.Ethernet, 1000));
        Assert.True(ring.TryWrite(Frame(1, 1000), 1, LinkType.Ethernet, 1000));

        // A third large frame would wrap past what the consumer still holds: refused although slots are free.
        Assert.False(ring.TryWrite(Frame(2, 1000), 2, LinkType.Ethernet, 1000));
        Assert.Equal(1, ring.Dropped);

        Assert.True(ring.TryRead(out var first));
        Assert.Equal(Frame(0, 1000), first.Data.ToArray());
        ring.AdvanceRead();

        // The first frame's bytes are free again: the next large frame goes to the start of the next lap.
        Assert.True(ring.TryWrite(Frame(3, 1000), 3, LinkType.Ethernet, 1000));
        Assert.True(ring.TryRead(out var second));
        Assert.Equal(Frame(1, 1000), second.Data.ToArray());
        ring.AdvanceRead();
        Assert.True(ring.TryRead(out var third));
        Assert.Equal(Frame(3, 1000), third.Data.ToArray());
        ring.AdvanceRead();

        // Small frames: as many as there are slots, whatever their bytes.
        for (int i = 0; i < 8; i++)
        {
            Assert.True(ring.TryWrite(Frame(10 + i, 20), 10 + i, LinkType.Ethernet, 20));
        }

        Assert.False(ring.TryWrite(Frame(99, 20), 99, LinkType.Ethernet, 20));
        for (int i = 0; i < 8; i++)
        {
            Assert.True(ring.TryRead(out var small));
            Assert.Equal(Frame(10 + i, 20), small.Data.ToArray());
            ring.AdvanceRead();
        }
    }
}
