using RataDns.DnsWire;
using RataDns.Capture;
using RataDns.Capture.Fragments;
using static RataDns.Tests.Capture.Fragments.FragmentTestSupport;
using static RataDns.Tests.Capture.PacketBuilder;

namespace RataDns.Tests.Capture.Fragments;

public sealed class IpFragmentReassemblerTests
{
    private const long Second = 1_000_000_000;

    private static (byte[] Dns, byte[] Udp) UdpDatagram(int dnsLength = 3000, ushort id = 0x1234, ushort sourcePort = 53, ushort destinationPort = 40000)
    {
        byte[] dns = DnsMessage(id, dnsLength, id);
        return (dns, PacketBuilder.Udp(sourcePort, destinationPort, dns));
    }

    private static List<byte[]> Fragments(int version, byte[] ipPayload, int size, uint identification, byte sourceHost = 1, byte protocol = ProtocolUdp) =>
        version == 4
            ? Ipv4Fragments(protocol, ipPayload, size, (ushort)identification, sourceHost)
            : Ipv6Fragments(protocol, ipPayload, size, identification, sourceHost);

    private static void AssertOnlyLastCompletes(List<FeedOutcome> outcomes)
    {
        Assert.All(outcomes, o => Assert.Equal(PacketDecodeStatus.IpFragment, o.FragmentStatus));
        Assert.All(outcomes.SkipLast(1), o => Assert.Equal(FragmentResult.Held, o.Result));
        Assert.Equal(FragmentResult.Reassembled, outcomes[^1].Result);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void In_order_fragments_give_back_the_udp_dns_message_with_its_addresses(int version)
    {
        var (dns, udp) = UdpDatagram();
        var reassembler = new IpFragmentReassembler();

        var outcomes = FeedAll(reassembler, Fragments(version, udp, 1232, 0xBEEF));

        AssertOnlyLastCompletes(outcomes);
        var last = outcomes[^1];
        Assert.Equal(udp, last.Payload);
        Assert.Equal(PacketDecodeStatus.Ok, last.Decoded);
        var packet = last.Packet!;
        Assert.Equal(version, packet.IpVersion);
        Assert.Equal(version == 4 ? Ipv4Source : Ipv6Source, packet.Source);
        Assert.Equal(version == 4 ? Ipv4Destination : Ipv6Destination, packet.Destination);
        Assert.Equal(TransportProtocol.Udp, packet.Transport);
        Assert.Equal(53, packet.SourcePort);
        Assert.Equal(40000, packet.DestinationPort);
        Assert.Equal(dns, packet.Payload);
        Assert.Equal(1, packet.IpHeaderCount);

        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(outcomes.Count, reassembler.Statistics.Fragments);
        Assert.Equal(1, reassembler.Statistics.Reassembled);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void Reverse_order_fragments_reassemble(int version)
    {
        var (_, udp) = UdpDatagram(5000);
        var reassembler = new IpFragmentReassembler();
        var frames = Fragments(version, udp, 1000, 77);
        frames.Reverse();

        var outcomes = FeedAll(reassembler, frames);

        AssertOnlyLastCompletes(outcomes);
        Assert.Equal(udp, outcomes[^1].Payload);
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(6, 2)]
    public void Every_shuffle_of_the_fragments_reassembles_once_and_exactly(int version, int seed)
    {
        var random = new Random(seed);
        var reassembler = new IpFragmentReassembler();
        for (int round = 0; round < 300; round++)
        {
            // Lengths and fragment sizes vary, so the last fragment is sometimes not a multiple of 8.
            var (_, udp) = UdpDatagram(random.Next(100, 9000), (ushort)round);
            int size = 8 * random.Next(1, 200);
            var frames = Shuffled(Fragments(version, udp, size, (uint)round), random);

            var outcomes = FeedAll(reassembler, frames);

            if (frames.Count == 1)
            {
                // One fragment holding everything is not a fragment: the decoder reads it whole.
                Assert.Equal(PacketDecodeStatus.Ok, outcomes[0].FragmentStatus);
                continue;
            }

            AssertOnlyLastCompletes(outcomes);
            Assert.Equal(udp, outcomes[^1].Payload);
        }

        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(0, reassembler.Statistics.Overlaps + reassembler.Statistics.Invalid + reassembler.Statistics.Duplicates);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void Duplicates_are_counted_and_ignored(int version)
    {
        var (_, udp) = UdpDatagram(3000);
        var frames = Fragments(version, udp, 1000, 9);
        var reassembler = new IpFragmentReassembler();

        // 0, 0, 1, 0, 1, 2, 3 (the last completes).
        var outcomes = FeedAll(reassembler, [frames[0], frames[0], frames[1], frames[0], frames[1], frames[2], frames[3]]);

        Assert.All(outcomes.SkipLast(1), o => Assert.Equal(FragmentResult.Held, o.Result));
        Assert.Equal(FragmentResult.Reassembled, outcomes[^1].Result);
        Assert.Equal(udp, outcomes[^1].Payload);
        Assert.Equal(3, reassembler.Statistics.Duplicates);
        Assert.Equal(0, reassembler.Statistics.Overlaps);
    }

    [Fact]
    public void Ipv4_overlap_keeps_the_bytes_that_arrived_first()
    {
        byte[] a = [.. Enumerable.Repeat((byte)0xAA, 16)];
        byte[] b = [.. Enumerable.Repeat((byte)0xBB, 16)];
        byte[] c = [.. Enumerable.Repeat((byte)0xCC, 5)];
        var reassembler = new IpFragmentReassembler();

        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, a, 0, true, 1)).Result);

        // 8..24 overlaps 8..16 with other bytes: 16..24 are taken, 8..16 stay 0xAA.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, b, 8, true, 1)).Result);
        var last = Feed(reassembler, Ipv4Fragment(ProtocolUdp, c, 24, false, 1));

        Assert.Equal(FragmentResult.Reassembled, last.Result);
        Assert.Equal([.. a, .. b.AsSpan(0, 8).ToArray(), .. c], last.Payload!);
        Assert.Equal(1, reassembler.Statistics.Overlaps);
        Assert.Equal(0, reassembler.Statistics.Duplicates);
    }

    [Fact]
    public void Ipv4_conflicting_resend_of_a_partial_last_fragment_keeps_the_first_bytes()
    {
        var reassembler = new IpFragmentReassembler();
        byte[] head = [.. Enumerable.Range(0, 8).Select(i => (byte)i)];

        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, [1, 2, 3, 4, 5], 8, false, 2)).Result);
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, [9, 9, 9, 9, 9], 8, false, 2)).Result);
        var outcome = Feed(reassembler, Ipv4Fragment(ProtocolUdp, head, 0, true, 2));

        Assert.Equal(FragmentResult.Reassembled, outcome.Result);
        Assert.Equal([.. head, 1, 2, 3, 4, 5], outcome.Payload);
        Assert.Equal(1, reassembler.Statistics.Overlaps);
    }

    [Fact]
    public void Ipv6_overlap_discards_the_datagram_and_its_later_fragments()
    {
        var (_, udp) = UdpDatagram(3000);
        var frames = Ipv6Fragments(ProtocolUdp, udp, 1000, 0xCAFE);
        var reassembler = new IpFragmentReassembler();

        Assert.Equal(FragmentResult.Held, Feed(reassembler, frames[0], 0).Result);
        byte[] overlapping = Ipv6FragmentPacket(ProtocolUdp, udp.AsSpan(496, 1000).ToArray().Select(x => (byte)~x).ToArray(), 496, true, 0xCAFE);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, overlapping, 1).Result);

        // RFC 5722 4: the fragments not yet received are discarded too, until the timeout.
        Assert.All(frames.Skip(1), f => Assert.Equal(FragmentResult.Invalid, Feed(reassembler, f, 2).Result));
        Assert.Equal(1, reassembler.Statistics.Overlaps);
        Assert.Equal(0, reassembler.Statistics.Reassembled);
        Assert.Equal(1, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);

        reassembler.ExpireOld(30 * Second);
        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.Statistics.Expired);

        // After the quarantine, the same datagram sent again is reassembled.
        var outcomes = FeedAll(reassembler, frames, 31 * Second);
        Assert.Equal(udp, outcomes[^1].Payload);
    }

    [Fact]
    public void Ipv6_overlap_with_identical_bytes_but_other_bounds_is_still_an_overlap()
    {
        var (_, udp) = UdpDatagram(3000);
        var reassembler = new IpFragmentReassembler();

        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv6FragmentPacket(ProtocolUdp, udp[..1000], 0, true, 5)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Ipv6FragmentPacket(ProtocolUdp, udp[992..2000], 992, true, 5)).Result);
        Assert.Equal(1, reassembler.Statistics.Overlaps);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void Empty_tiny_and_misaligned_fragments_are_invalid(int version)
    {
        var reassembler = new IpFragmentReassembler();
        byte[] Frame(int length, int offset, bool more) => version == 4
            ? Ipv4Fragment(ProtocolUdp, new byte[length], offset, more, 3)
            : Ipv6FragmentPacket(ProtocolUdp, new byte[length], offset, more, 3);

        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Frame(0, 0, true)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Frame(0, 8, false)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Frame(1, 0, true)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Frame(7, 8, true)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Frame(1001, 16, true)).Result);
        Assert.Equal(5, reassembler.Statistics.Invalid);
        Assert.Equal(0, reassembler.PendingDatagrams);

        // A 1-byte last fragment is fine.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Frame(1, 8, false)).Result);
        Assert.Equal(FragmentResult.Reassembled, Feed(reassembler, Frame(8, 0, true)).Result);
    }

    [Fact]
    public void A_default_packet_or_an_unfragmented_one_is_invalid()
    {
        var reassembler = new IpFragmentReassembler();
        Assert.Equal(FragmentResult.Invalid, reassembler.Add(default, 0, out var payload));
        Assert.True(payload.IsEmpty);

        PacketDecoder.Decode(LinkType.Raw, Ipv4(ProtocolUdp, PacketBuilder.Udp(53, 53, [1, 2, 3])), DnsPortSet.Default, out var whole);
        Assert.Equal(FragmentResult.Invalid, reassembler.Add(in whole, 0, out _));
        Assert.Equal(2, reassembler.Statistics.Invalid);
    }

    [Theory]
    [InlineData(4, 65515, true)]
    [InlineData(4, 65516, false)]
    [InlineData(6, 65535, true)]
    [InlineData(6, 65536, false)]
    public void The_largest_datagram_reassembles_and_one_byte_more_is_invalid(int version, int length, bool fits)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        var reassembler = new IpFragmentReassembler();

        // The last fragment is built by hand: a single IPv4 packet cannot hold 65516 payload bytes, nor one of its
        // fragments, so the frames stay under 65535 by splitting at 32768.
        int split = 32768;
        var head = Feed(reassembler, version == 4 ? Ipv4Fragment(ProtocolUdp, data[..split], 0, true, 4) : Ipv6FragmentPacket(ProtocolUdp, data[..split], 0, true, 4));
        var tail = Feed(reassembler, version == 4 ? Ipv4Fragment(ProtocolUdp, data[split..], split, false, 4) : Ipv6FragmentPacket(ProtocolUdp, data[split..], split, false, 4));

        Assert.Equal(FragmentResult.Held, head.Result);
        Assert.Equal(fits ? FragmentResult.Reassembled : FragmentResult.Invalid, tail.Result);
        if (fits)
        {
            Assert.Equal(data, tail.Payload);
        }
    }

    [Fact]
    public void Fragments_that_disagree_with_the_last_fragment_discard_the_datagram()
    {
        var reassembler = new IpFragmentReassembler();
        byte[] eight = new byte[8];

        // Two last fragments with different ends.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, eight, 16, false, 6)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Ipv4Fragment(ProtocolUdp, eight, 24, false, 6)).Result);
        Assert.Equal(0, reassembler.PendingDatagrams);

        // A fragment past the end the last fragment fixed.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, eight, 16, false, 7)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Ipv4Fragment(ProtocolUdp, new byte[16], 16, true, 7)).Result);

        // A last fragment ending before data already held.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv6FragmentPacket(ProtocolUdp, new byte[32], 32, true, 8)).Result);
        Assert.Equal(FragmentResult.Invalid, Feed(reassembler, Ipv6FragmentPacket(ProtocolUdp, eight, 16, false, 8)).Result);

        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(3, reassembler.Statistics.Invalid);
    }

    [Fact]
    public void Incomplete_datagrams_expire_after_the_timeout()
    {
        var (_, udp) = UdpDatagram(3000);
        var frames = Ipv4Fragments(ProtocolUdp, udp, 1000, 11);
        var reassembler = new IpFragmentReassembler(new FragmentReassemblyOptions { TimeoutNanoseconds = 30 * Second });

        Feed(reassembler, frames[0], 100 * Second);
        reassembler.ExpireOld((130 * Second) - 1);
        Assert.Equal(1, reassembler.PendingDatagrams);
        Assert.True(reassembler.BufferedBytes > 0);

        reassembler.ExpireOld(130 * Second);
        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(1, reassembler.Statistics.Expired);

        // The rest alone never completes; adding a later fragment also expires what is too old.
        FeedAll(reassembler, frames.Skip(1), 131 * Second);
        Assert.Equal(1, reassembler.PendingDatagrams);
        Feed(reassembler, Ipv4Fragment(ProtocolUdp, new byte[8], 0, true, 12), 200 * Second);
        Assert.Equal(2, reassembler.Statistics.Expired);
        Assert.Equal(1, reassembler.PendingDatagrams);
    }

    [Fact]
    public void Datagram_cap_evicts_the_oldest()
    {
        var reassembler = new IpFragmentReassembler(new FragmentReassemblyOptions { MaxDatagrams = 4 });
        var datagrams = Enumerable.Range(0, 6).Select(i => Ipv4Fragments(ProtocolUdp, UdpDatagram(2000, (ushort)i).Udp, 1000, (ushort)i)).ToList();

        foreach (var frames in datagrams)
        {
            Assert.Equal(FragmentResult.Held, Feed(reassembler, frames[0]).Result);
        }

        Assert.Equal(4, reassembler.PendingDatagrams);
        Assert.Equal(2, reassembler.Statistics.Evicted);

        // Datagrams 0 and 1 were evicted: their remaining fragments start over and do not complete.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, datagrams[0][1]).Result);
        Assert.Equal(FragmentResult.Held, Feed(reassembler, datagrams[0][2]).Result);
        Assert.Equal(3, reassembler.Statistics.Evicted);

        // 5 is among the newest four.
        Assert.Equal(FragmentResult.Held, Feed(reassembler, datagrams[5][1]).Result);
        Assert.Equal(FragmentResult.Reassembled, Feed(reassembler, datagrams[5][2]).Result);
    }

    [Fact]
    public void Byte_cap_evicts_the_oldest_and_drops_what_cannot_fit_alone()
    {
        var reassembler = new IpFragmentReassembler(new FragmentReassemblyOptions { MaxBufferedBytes = 20_000 });
        var datagrams = Enumerable.Range(0, 8).Select(i => Ipv4Fragments(ProtocolUdp, UdpDatagram(4000, (ushort)i).Udp, 2000, (ushort)i)).ToList();

        // Each last fragment first, so each datagram rents for its whole length at once.
        foreach (var frames in datagrams)
        {
            Assert.Equal(FragmentResult.Held, Feed(reassembler, frames[^1]).Result);
            Assert.True(reassembler.BufferedBytes <= 20_000);
        }

        Assert.True(reassembler.Statistics.Evicted > 0);
        Assert.Equal(8 - reassembler.Statistics.Evicted, reassembler.PendingDatagrams);

        // The newest survived.
        var outcomes = FeedAll(reassembler, datagrams[7].SkipLast(1));
        Assert.Equal(FragmentResult.Reassembled, outcomes[^1].Result);

        // 40000 bytes cannot fit in 20000 whatever is evicted.
        var big = Ipv4Fragments(ProtocolUdp, UdpDatagram(40000, 99).Udp, 8000, 99);
        Assert.Equal(FragmentResult.Dropped, Feed(reassembler, big[^1]).Result);
        Assert.Equal(1, reassembler.Statistics.Dropped);
        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Interleaved_datagrams_from_several_sources_with_the_same_identification_stay_apart()
    {
        var reassembler = new IpFragmentReassembler();
        var random = new Random(5);
        var expected = new Dictionary<(int Version, byte Host), byte[]>();
        var all = new List<byte[]>();
        for (byte host = 1; host <= 8; host++)
        {
            foreach (int version in new[] { 4, 6 })
            {
                var (_, udp) = UdpDatagram(random.Next(1500, 6000), host);
                expected[(version, host)] = udp;
                all.AddRange(Fragments(version, udp, 512, 0x4242, host));
            }
        }

        var seen = new Dictionary<(int Version, byte Host), byte[]>();
        foreach (byte[] frame in Shuffled(all, random))
        {
            var outcome = Feed(reassembler, frame);
            Assert.NotEqual(FragmentResult.Invalid, outcome.Result);
            if (outcome.Result == FragmentResult.Reassembled)
            {
                Assert.Equal(PacketDecodeStatus.Ok, outcome.Decoded);
                var packet = outcome.Packet!;
                seen.Add((packet.IpVersion, packet.Source[^1]), outcome.Payload!);
            }
        }

        Assert.Equal(expected.Count, seen.Count);
        foreach (var (key, udp) in expected)
        {
            Assert.Equal(udp, seen[key]);
        }

        Assert.Equal(0, reassembler.PendingDatagrams);
    }

    [Fact]
    public void Same_addresses_and_identification_but_another_protocol_is_another_datagram()
    {
        var reassembler = new IpFragmentReassembler();
        byte[] eight = new byte[8];
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolUdp, eight, 0, true, 1)).Result);
        Assert.Equal(FragmentResult.Held, Feed(reassembler, Ipv4Fragment(ProtocolTcp, eight, 8, false, 1)).Result);
        Assert.Equal(2, reassembler.PendingDatagrams);
    }

    [Fact]
    public void The_payload_stays_valid_until_the_next_call()
    {
        var (_, udp) = UdpDatagram(3000);
        var reassembler = new IpFragmentReassembler();
        var frames = Ipv4Fragments(ProtocolUdp, udp, 1000, 1);
        FeedAll(reassembler, frames.SkipLast(1));
        PacketDecoder.Decode(LinkType.Raw, frames[^1], DnsPortSet.Default, out var last);

        Assert.Equal(FragmentResult.Reassembled, reassembler.Add(in last, 0, out var payload));
        Assert.Equal(udp, payload.ToArray());
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Random_fragments_never_throw_and_keep_the_counters_sane()
    {
        var random = new Random(42);
        var reassembler = new IpFragmentReassembler(new FragmentReassemblyOptions { MaxDatagrams = 64, MaxBufferedBytes = 1 << 20 });
        for (int i = 0; i < 20_000; i++)
        {
            int version = random.Next(2) == 0 ? 4 : 6;
            int offset = 8 * random.Next(0, 8192);
            int length = random.Next(4) == 0 ? random.Next(0, 20) : random.Next(0, 3000);
            bool more = random.Next(3) != 0;
            byte[] data = new byte[length];
            random.NextBytes(data);
            uint id = (uint)random.Next(0, 40);
            byte host = (byte)random.Next(1, 4);
            byte[] frame = version == 4 ? Ipv4Fragment(ProtocolUdp, data, offset, more, (ushort)id, host) : Ipv6FragmentPacket(ProtocolUdp, data, offset, more, id, host);
            Feed(reassembler, frame, i * 1_000_000L);
            Assert.InRange(reassembler.PendingDatagrams, 0, 64);
            Assert.InRange(reassembler.BufferedBytes, 0, 1 << 20);
        }

        reassembler.Clear();
        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Random_fragmentations_with_duplicates_match_the_original()
    {
        var random = new Random(7);
        var reassembler = new IpFragmentReassembler();
        for (int round = 0; round < 200; round++)
        {
            int version = random.Next(2) == 0 ? 4 : 6;
            var (_, udp) = UdpDatagram(random.Next(20, 20000), (ushort)round);

            // Irregular cut points on 8-byte boundaries.
            var frames = new List<byte[]>();
            for (int offset = 0; offset < udp.Length;)
            {
                int length = Math.Min(8 * random.Next(1, 300), udp.Length - offset);
                bool more = offset + length < udp.Length;
                byte[] data = udp.AsSpan(offset, length).ToArray();
                frames.Add(version == 4 ? Ipv4Fragment(ProtocolUdp, data, offset, more, (ushort)round) : Ipv6FragmentPacket(ProtocolUdp, data, offset, more, (uint)round));
                offset += length;
            }

            if (frames.Count < 2)
            {
                continue;
            }

            var order = Shuffled(frames, random);
            var withDuplicates = order.SkipLast(1).SelectMany(f => random.Next(3) == 0 ? new[] { f, f } : [f]).Append(order[^1]).ToList();
            var outcomes = FeedAll(reassembler, withDuplicates);

            Assert.All(outcomes.SkipLast(1), o => Assert.Equal(FragmentResult.Held, o.Result));
            Assert.Equal(udp, outcomes[^1].Payload);
        }

        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.Statistics.Overlaps);
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new IpFragmentReassembler(new FragmentReassemblyOptions { MaxDatagrams = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IpFragmentReassembler(new FragmentReassemblyOptions { TimeoutNanoseconds = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IpFragmentReassembler(new FragmentReassemblyOptions { MaxBufferedBytes = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IpFragmentReassembler(new FragmentReassemblyOptions { MaxDatagrams = (1 << 20) + 1 }));
    }
}
