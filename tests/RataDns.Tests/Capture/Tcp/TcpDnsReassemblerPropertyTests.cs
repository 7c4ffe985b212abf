using RataDns.Capture;
using RataDns.Capture.Tcp;
using static RataDns.Tests.Capture.TcpReassembly.TcpTest;

namespace RataDns.Tests.Capture.TcpReassembly;

/// <summary>Seeded random streams: any cut, reordering or duplication delivers the same messages; garbage never throws.</summary>
public sealed class TcpDnsReassemblerPropertyTests
{
    private static List<byte[]> RandomMessages(Random random, int count)
    {
        var messages = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            int labels = random.Next(1, 5);
            string name = string.Join('.', Enumerable.Range(0, labels).Select(_ => new string('a', random.Next(1, 30))));
            int padding = random.Next(4) == 0 ? random.Next(0, 3000) : -1;
            messages.Add(Query((ushort)i, name, padding, response: random.Next(2) == 0));
        }

        return messages;
    }

    /// <summary>Cuts a stream of <paramref name="length"/> bytes into segments of 1 to <paramref name="maxSegment"/> bytes.</summary>
    private static List<(int Offset, int Length)> Cut(Random random, int length, int maxSegment)
    {
        var segments = new List<(int, int)>();
        for (int offset = 0; offset < length;)
        {
            int n = Math.Min(length - offset, random.Next(1, maxSegment + 1));
            segments.Add((offset, n));
            offset += n;
        }

        return segments;
    }

    [Fact]
    public void Every_cut_of_a_random_stream_delivers_the_same_messages()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var messages = RandomMessages(random, random.Next(1, 12));
            byte[] stream = Framed([.. messages]);
            uint isn = (uint)random.NextInt64(0, 1L << 32);
            int maxSegment = seed % 3 == 0 ? 3 : random.Next(1, 1500);

            var r = new TcpDnsReassembler();
            var h = new RecordingHandler();
            Open(r, ref h, isn);
            foreach (var (offset, length) in Cut(random, stream.Length, maxSegment))
            {
                Send(r, ref h, true, isn + 1 + (uint)offset, stream[offset..(offset + length)]);
            }

            Assert.Equal(messages.Count, h.Messages.Count);
            for (int i = 0; i < messages.Count; i++)
            {
                Assert.Equal(messages[i], h.Messages[i].Bytes);
            }

            Assert.Equal(0, r.BufferedBytes);
            Assert.Equal(0, r.Statistics.BytesSkipped);
        }
    }

    [Fact]
    public void Reordered_and_duplicated_segments_deliver_the_same_messages()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var messages = RandomMessages(random, random.Next(1, 10));
            byte[] stream = Framed([.. messages]);
            uint isn = (uint)random.NextInt64(0, 1L << 32);
            var segments = Cut(random, stream.Length, random.Next(1, 400));

            // Swap neighbours (within the hold bound) and repeat some segments, as a lossy path would.
            for (int i = 0; i + 1 < segments.Count; i++)
            {
                if (random.Next(3) == 0)
                {
                    (segments[i], segments[i + 1]) = (segments[i + 1], segments[i]);
                    i++;
                }
            }

            for (int i = segments.Count - 1; i >= 0; i--)
            {
                if (random.Next(5) == 0)
                {
                    segments.Insert(Math.Min(segments.Count, i + random.Next(1, 3)), segments[i]);
                }
            }

            var r = new TcpDnsReassembler();
            var h = new RecordingHandler();
            Open(r, ref h, isn, clientPort: 1234);
            foreach (var (offset, length) in segments)
            {
                Send(r, ref h, true, isn + 1 + (uint)offset, stream[offset..(offset + length)], clientPort: 1234);
            }

            Assert.Equal(messages.Select(m => Convert.ToHexString(m)), h.Messages.Select(m => Convert.ToHexString(m.Bytes)));
            Assert.Equal(0, r.Statistics.Holes);
            Assert.Equal(0, r.BufferedBytes);
        }
    }

    [Fact]
    public void Joining_a_random_stream_at_any_byte_delivers_every_message_that_starts_after_the_join()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var messages = RandomMessages(random, random.Next(2, 8));
            byte[] stream = Framed([.. messages]);
            int join = random.Next(0, stream.Length);
            var r = new TcpDnsReassembler();
            var h = new RecordingHandler();
            foreach (var (offset, length) in Cut(random, stream.Length - join, random.Next(1, 600)))
            {
                Send(r, ref h, true, 7 + (uint)offset, stream[(join + offset)..(join + offset + length)]);
            }

            // The messages that start at or after the join are all delivered, in order; the resync may, rarely, also
            // accept a false start inside the cut message, which would then show up first.
            int firstWhole = 0;
            for (int position = 0; position < join; firstWhole++)
            {
                position += messages[firstWhole].Length + 2;
            }

            var expected = messages.Skip(firstWhole).Select(Convert.ToHexString).ToList();
            var actual = h.Messages.Select(m => Convert.ToHexString(m.Bytes)).ToList();
            Assert.True(actual.Count == expected.Count, $"seed {seed}: {actual.Count} messages, {expected.Count} expected, join {join}: {string.Join(' ', actual)} stream {Convert.ToHexString(stream)}");
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Random_garbage_segments_never_throw_and_never_exceed_the_bounds()
    {
        var options = new TcpReassemblyOptions { MaxConnections = 8, MaxBufferedBytes = 200_000, IdleTimeoutNanoseconds = 50 };
        var r = new TcpDnsReassembler(options);
        var h = new CountingHandler();
        var random = new Random(42);
        byte[] flags = [Syn, Ack, Ack | Psh, Fin | Ack, Rst, Syn | Ack, Ack | Psh, Ack | Psh];
        uint[] bases = [0, 1000, 0xFFFFFF00, 0x80000000];
        for (int i = 0; i < 20_000; i++)
        {
            var payload = new byte[random.Next(4) == 0 ? random.Next(0, 3) : random.Next(0, 1400)];
            random.NextBytes(payload);
            if (payload.Length > 2 && random.Next(2) == 0)
            {
                payload[0] = 0;
                payload[1] = (byte)random.Next(12, 60);
            }

            uint sequence = bases[random.Next(bases.Length)] + (uint)random.Next(0, 4000);
            var frame = Frame(random.Next(2) == 0, sequence, flags[random.Next(flags.Length)], payload, (ushort)random.Next(1, 12), ipv6: random.Next(4) == 0);
            var status = PacketDecoder.Decode(LinkType.Ethernet, frame, DnsPortSet.Default, out var packet);
            Assert.Equal(PacketDecodeStatus.Ok, status);
            r.Add(in packet, i, ref h);
            Assert.True(r.Connections <= 8);
            Assert.True(r.BufferedBytes <= 200_000);
            Assert.True(r.BufferedBytes >= 0);
            if (i % 100 == 0)
            {
                r.ExpireIdle(i);
            }
        }

        r.Flush(0, ref h);
        var s = r.Statistics;
        Assert.Equal(s.ConnectionsOpened, s.ConnectionsClosed + s.ConnectionsTimedOut + s.Evictions + s.ConnectionsFlushed);
        Assert.Equal(0, r.BufferedBytes);
        Assert.Equal(0, r.Connections);
        Assert.Equal(h.Messages, r.Statistics.Messages);
    }

    [Fact]
    public void The_steady_path_allocates_nothing()
    {
        var r = new TcpDnsReassembler();
        var h = new CountingHandler();
        byte[] framed = Framed(Query(1), Query(2));
        var frames = new List<byte[]>();
        uint seq = 1001;
        for (int i = 0; i < 2000; i++)
        {
            frames.Add(Frame(true, seq, Ack | Psh, framed));
            seq += (uint)framed.Length;
        }

        // Partial messages too: the pooled buffer is rented on the first and reused from the pool afterwards.
        byte[] single = Framed(Query(3));
        for (int i = 0; i < 2000; i++)
        {
            frames.Add(Frame(true, seq, Ack | Psh, single[..10]));
            frames.Add(Frame(true, seq + 10, Ack | Psh, single[10..]));
            seq += (uint)single.Length;
        }

        TcpTest.Add(r, Frame(true, 1000, Syn, []), ref h);
        for (int i = 0; i < 100; i++)
        {
            Feed(r, frames[i], ref h);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 100; i < frames.Count; i++)
        {
            Feed(r, frames[i], ref h);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(4000 + 2000, h.Messages);
        // Far fewer bytes than items means nothing per item; the runtime may allocate a few KB once while it
        // recompiles the hot loop (tiered JIT, on-stack replacement).
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated over the measured segments");
    }

    private static void Feed(TcpDnsReassembler r, byte[] frame, ref CountingHandler h)
    {
        PacketDecoder.Decode(LinkType.Ethernet, frame, DnsPortSet.Default, out var packet);
        r.Add(in packet, 0, ref h);
    }
}
