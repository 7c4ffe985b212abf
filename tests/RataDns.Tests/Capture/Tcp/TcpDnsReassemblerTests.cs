using RataDns.Capture.Tcp;
using static RataDns.Tests.Capture.TcpReassembly.TcpTest;

namespace RataDns.Tests.Capture.TcpReassembly;

public sealed class TcpDnsReassemblerTests
{
    private static List<ushort> Ids(RecordingHandler handler) => [.. handler.Messages.Select(m => m.Id)];

    [Fact]
    public void Two_messages_in_one_segment_are_delivered_from_the_segment_without_copy()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 1000);
        Send(r, ref h, true, 1001, Framed(Query(1), Query(2)));

        Assert.Equal([1, 2], Ids(h));
        Assert.Equal(Query(2), h.Messages[1].Bytes);
        Assert.Equal(2, r.Statistics.Messages);
        Assert.Equal(2, r.Statistics.MessagesWithoutCopy);
        Assert.Equal(0, r.BufferedBytes);
        Assert.Equal(1, r.Connections);
    }

    [Fact]
    public void One_message_over_one_byte_segments()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 5);
        byte[] stream = Framed(Query(7), Query(8));
        uint seq = 6;
        foreach (byte b in stream)
        {
            seq = Send(r, ref h, true, seq, [b]);
        }

        Assert.Equal([7, 8], Ids(h));
        Assert.Equal(Query(8), h.Messages[1].Bytes);
        Assert.Equal(0, r.Statistics.MessagesWithoutCopy);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Length_prefix_in_its_own_segment()
    {
        // Like dnscap's captures: the client writes the 2-byte length, then the message (RFC 7766 8 recommends one write).
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 0);
        byte[] framed = Framed(Query(3));
        uint seq = Send(r, ref h, true, 1, framed[..2]);
        Assert.Empty(h.Messages);
        Assert.Equal(2, r.BufferedBytes);
        Send(r, ref h, true, seq, framed[2..]);

        Assert.Equal([3], Ids(h));
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void A_retransmission_is_dropped_and_counted()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] framed = Framed(Query(1));
        Send(r, ref h, true, 101, framed);
        Send(r, ref h, true, 101, framed);
        Send(r, ref h, true, 101, framed[..5]);

        Assert.Equal([1], Ids(h));
        Assert.Equal(2, r.Statistics.Retransmissions);
    }

    [Fact]
    public void A_segment_exactly_half_the_sequence_space_away_is_old_data_not_a_crash()
    {
        // Found by the reassembly fuzz target (fuzz/regressions/reassembly): a segment 2^31 bytes from the expected
        // sequence number is as far behind as ahead (RFC 9293 3.4's comparisons are modulo 2^32); its distance was
        // int.MinValue, whose negation is itself, and slicing by it threw. It is now old data, dropped and counted,
        // and the stream goes on.
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] framed = Framed(Query(1));
        Send(r, ref h, true, 101 + 0x8000_0000u, framed);
        Send(r, ref h, true, 101, framed);

        Assert.Equal([1], Ids(h));
        Assert.Equal(1, r.Statistics.Retransmissions);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void A_partial_overlap_uses_only_the_new_bytes()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] framed = Framed(Query(1), Query(2));
        Send(r, ref h, true, 101, framed[..20]);
        Send(r, ref h, true, 111, framed[10..40]);
        Send(r, ref h, true, 101, framed);

        Assert.Equal([1, 2], Ids(h));
        Assert.Equal(2, r.Statistics.Overlaps);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Out_of_order_segments_are_held_until_the_gap_fills()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] framed = Framed(Query(1), Query(2), Query(3));
        int third = framed.Length / 3;
        Send(r, ref h, true, 101 + (uint)(2 * third), framed[(2 * third)..]);
        Send(r, ref h, true, 101 + (uint)third, framed[third..(2 * third)]);
        Assert.Empty(h.Messages);
        Assert.Equal(framed.Length - third, r.BufferedBytes);

        Send(r, ref h, true, 101, framed[..third]);

        Assert.Equal([1, 2, 3], Ids(h));
        Assert.Equal(2, r.Statistics.OutOfOrder);
        Assert.Equal(0, r.Statistics.Holes);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void A_hole_that_never_fills_is_skipped_at_fin_and_the_framing_is_found_again()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] first = Framed(Query(1));
        byte[] lost = Framed(Query(2));
        byte[] after = Framed(Query(3), Query(4));
        uint seq = Send(r, ref h, true, 101, first[..10]);

        // The rest of message 1 and the start of message 2 are never captured; the capture resumes inside message 2.
        uint resume = seq + (uint)(first.Length - 10) + 7;
        Send(r, ref h, true, resume, [.. lost[7..], .. after]);
        Assert.Empty(h.Messages);

        Add(r, Frame(true, resume + (uint)(lost.Length - 7 + after.Length), Fin | Ack, []), ref h);

        Assert.Equal([3, 4], Ids(h));
        Assert.Equal(1, r.Statistics.Holes);
        Assert.Equal(first.Length - 10 + 7, r.Statistics.HoleBytes);
        Assert.Equal(10 + lost.Length - 7, r.Statistics.BytesSkipped);
        Assert.Equal(1, r.Statistics.Resynchronisations);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void A_hole_is_skipped_when_more_segments_wait_than_the_bound()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { MaxOutOfOrderSegments = 2 });
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] a = Framed(Query(10));
        byte[] b = Framed(Query(11));
        byte[] c = Framed(Query(12));
        uint start = 101 + 50; // 50 bytes lost
        Send(r, ref h, true, start, a);
        Send(r, ref h, true, start + (uint)a.Length, b);
        Assert.Empty(h.Messages);
        Send(r, ref h, true, start + (uint)(a.Length + b.Length), c);

        Assert.Equal([10, 11, 12], Ids(h));
        Assert.Equal(1, r.Statistics.Holes);
        Assert.Equal(50, r.Statistics.HoleBytes);
        Assert.Equal(0, r.Statistics.BytesSkipped);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Joining_mid_stream_skips_to_the_first_plausible_message()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        byte[] cut = Framed(Query(0xe7af, "google.com"));

        // No SYN; the capture starts after the length prefix, inside the message (dnscap's do1t-nosyn-1nolen).
        uint seq = Send(r, ref h, true, 5000, cut[2..]);
        seq = Send(r, ref h, true, seq, Framed(Query(0x8b51, "206.218.58.216.in-addr.arpa"))[..2]);
        Send(r, ref h, true, seq, Framed(Query(0x8b51, "206.218.58.216.in-addr.arpa"))[2..]);

        Assert.Equal([0x8b51], Ids(h));
        Assert.Equal(1, r.Statistics.MidStreamJoins);
        Assert.Equal(1, r.Statistics.Resynchronisations);
        Assert.Equal(cut.Length - 2, r.Statistics.BytesSkipped);
    }

    [Fact]
    public void Joining_mid_stream_at_a_message_boundary_loses_nothing()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Send(r, ref h, false, 77, Framed(Query(1, response: true), Query(2, response: true)));

        Assert.Equal([1, 2], Ids(h));
        Assert.Equal(53, h.Messages[0].SourcePort);
        Assert.Equal(0, r.Statistics.BytesSkipped);
    }

    [Fact]
    public void Fin_in_both_directions_closes_and_drops_the_incomplete_message()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        Open(r, ref h, 900, toServer: false);
        byte[] framed = Framed(Query(1), Query(2));
        uint client = Send(r, ref h, true, 101, framed[..^3]);
        uint server = Send(r, ref h, false, 901, Framed(Query(1, response: true)));
        Add(r, Frame(true, client, Fin | Ack, []), ref h);
        Assert.Equal(1, r.Connections);
        Assert.Equal(0, r.BufferedBytes);
        Add(r, Frame(false, server, Fin | Ack, []), ref h);

        Assert.Equal([1, 1], Ids(h));
        Assert.Equal(0, r.Connections);
        Assert.Equal(1, r.Statistics.ConnectionsOpened);
        Assert.Equal(1, r.Statistics.ConnectionsClosed);
        Assert.Equal(1, r.Statistics.IncompleteMessagesDropped);
        Assert.Equal(framed.Length - 3 - Framed(Query(1)).Length, r.Statistics.BytesSkipped);

        // The last ACK of the close opens nothing.
        Add(r, Frame(true, client + 1, Ack, []), ref h);
        Assert.Equal(0, r.Connections);
    }

    [Fact]
    public void Data_after_fin_is_dropped()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        Add(r, Frame(true, 101, Fin | Ack, []), ref h);
        Send(r, ref h, true, 102, Framed(Query(1)));

        Assert.Empty(h.Messages);
        Assert.Equal(1, r.Statistics.SegmentsAfterClose);
    }

    [Fact]
    public void Rst_closes_the_connection_and_returns_its_buffers()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        Send(r, ref h, true, 101, Framed(Query(1))[..9]);
        Send(r, ref h, true, 200, Framed(Query(2))); // held, ahead of a gap
        Assert.True(r.BufferedBytes > 0);

        Add(r, Frame(false, 5, Rst | Ack, []), ref h);

        Assert.Equal([2], Ids(h)); // the held message is complete: the reset resolves the gap as a hole
        Assert.Equal(0, r.Connections);
        Assert.Equal(0, r.BufferedBytes);
        Assert.Equal(1, r.Statistics.ConnectionsClosed);
    }

    [Fact]
    public void Idle_connections_expire_and_are_counted()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { IdleTimeoutNanoseconds = 1000 });
        var h = new RecordingHandler();
        Open(r, ref h, 100, clientPort: 1, timestamp: 0);
        Send(r, ref h, true, 101, Framed(Query(1))[..5], timestamp: 500, clientPort: 1);
        Open(r, ref h, 100, clientPort: 2, timestamp: 1200);

        r.ExpireIdle(1400);
        Assert.Equal(2, r.Connections);
        r.ExpireIdle(1501);
        Assert.Equal(1, r.Connections);
        Assert.Equal(1, r.Statistics.ConnectionsTimedOut);
        Assert.Equal(0, r.BufferedBytes);
        Assert.Equal(1, r.Statistics.IncompleteMessagesDropped);
        r.ExpireIdle(2201);
        Assert.Equal(0, r.Connections);
        Assert.Equal(2, r.Statistics.ConnectionsTimedOut);
    }

    [Fact]
    public void The_least_recently_used_connection_is_evicted_at_the_connection_cap()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { MaxConnections = 2 });
        var h = new RecordingHandler();
        byte[] framed = Framed(Query(1));
        Open(r, ref h, 100, clientPort: 1);
        Open(r, ref h, 100, clientPort: 2);
        Send(r, ref h, true, 101, framed[..5], clientPort: 1); // port 1 is now the most recent
        Open(r, ref h, 100, clientPort: 3); // evicts port 2

        Assert.Equal(2, r.Connections);
        Assert.Equal(1, r.Statistics.Evictions);
        Send(r, ref h, true, 106, framed[5..], clientPort: 1);
        Assert.Equal([1], Ids(h));

        // Port 2 comes back as a new connection, joined mid-stream.
        Send(r, ref h, true, 101, framed, clientPort: 2);
        Assert.Equal(2, r.Statistics.Evictions);
        Assert.Equal(1, r.Statistics.MidStreamJoins);
        Assert.Equal([1, 1], Ids(h));
    }

    [Fact]
    public void Buffered_bytes_beyond_the_cap_evict_the_oldest_connections()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { MaxBufferedBytes = 100 });
        var h = new RecordingHandler();
        byte[] big = Framed(Query(1, padding: 200));
        Open(r, ref h, 100, clientPort: 1);
        Send(r, ref h, true, 101, big[..60], clientPort: 1);
        Open(r, ref h, 100, clientPort: 2);
        Send(r, ref h, true, 101, big[..60], clientPort: 2);

        Assert.Equal(1, r.Statistics.Evictions);
        Assert.Equal(1, r.Connections);
        Assert.Equal(60, r.BufferedBytes);

        // One connection alone over the cap is evicted too: memory stays bounded.
        Send(r, ref h, true, 161, big[60..120], clientPort: 2);
        Assert.Equal(2, r.Statistics.Evictions);
        Assert.Equal(0, r.Connections);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void A_length_above_the_bound_is_skipped_without_buffering_and_the_framing_is_kept()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { MaxMessageBytes = 100 });
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] big = Framed(Query(1, padding: 300));
        uint seq = Send(r, ref h, true, 101, big[..50]);
        seq = Send(r, ref h, true, seq, big[50..]);
        Send(r, ref h, true, seq, Framed(Query(2)));

        Assert.Equal([2], Ids(h));
        Assert.Equal(1, r.Statistics.OversizedMessages);
        Assert.Equal(big.Length, r.Statistics.BytesSkipped);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Theory]
    [InlineData(0xFFFFFFF0u)]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x7FFFFFF8u)]
    public void Sequence_numbers_wrap_around(uint isn)
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, isn);
        byte[] framed = Framed(Query(1), Query(2), Query(3));
        uint start = isn + 1;

        // In order across the wrap, then a retransmission and an out-of-order pair across it.
        uint seq = Send(r, ref h, true, start, framed[..7]);
        seq = Send(r, ref h, true, seq, framed[7..30]);
        Send(r, ref h, true, start, framed[..7]);
        Send(r, ref h, true, seq + 20, framed[50..]);
        Send(r, ref h, true, seq, framed[30..50]);

        Assert.Equal([1, 2, 3], Ids(h));
        Assert.Equal(1, r.Statistics.Retransmissions);
        Assert.Equal(1, r.Statistics.OutOfOrder);
        Assert.Equal(0, r.Statistics.Holes);
    }

    [Fact]
    public void Directions_and_ipv6_are_kept_apart()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        byte[] q = Framed(Query(1));
        byte[] a = Framed(Query(1, response: true));
        Add(r, Frame(true, 10, Syn, [], ipv6: true), ref h);
        Add(r, Frame(false, 70, Syn | Ack, [], ipv6: true), ref h);
        Add(r, Frame(true, 11, Ack, q[..4], ipv6: true), ref h);
        Add(r, Frame(false, 71, Ack, a[..4], ipv6: true), ref h);
        Add(r, Frame(true, 11, Ack, q[..4]), ref h); // same ports over IPv4: another connection
        Add(r, Frame(true, 15, Ack, q[4..], ipv6: true), ref h);
        Add(r, Frame(false, 75, Ack, a[4..], ipv6: true), ref h);

        Assert.Equal(2, r.Connections);
        Assert.Equal([TcpTest.ClientPort, (ushort)53], h.Messages.Select(m => m.SourcePort));
        Assert.Equal(Query(1, response: true), h.Messages[1].Bytes);
    }

    [Fact]
    public void A_new_syn_on_the_same_ports_starts_the_direction_afresh()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        Send(r, ref h, true, 101, Framed(Query(1))[..6]);
        Open(r, ref h, 123_456_789);
        Send(r, ref h, true, 123_456_790, Framed(Query(2)));
        Open(r, ref h, 123_456_789); // retransmitted SYN: no reset

        Assert.Equal([2], Ids(h));
        Assert.Equal(1, r.Statistics.IncompleteMessagesDropped);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Flush_resolves_open_gaps_and_drops_every_connection()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        Send(r, ref h, true, 101, Framed(Query(1))[..3]);
        Send(r, ref h, true, 300, Framed(Query(2)));
        r.Flush(99, ref h);

        Assert.Equal([2], Ids(h));
        Assert.Equal(99, h.Messages[0].Timestamp);
        Assert.Equal(0, r.Connections);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Segments_that_are_not_tcp_are_ignored()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        var frame = PacketBuilder.Ethernet(0x0800, PacketBuilder.Ipv4(17, PacketBuilder.Udp(40000, 53, Query(1))));
        Add(r, frame, ref h);

        Assert.Empty(h.Messages);
        Assert.Equal(1, r.Statistics.Ignored);
        Assert.Equal(0, r.Connections);
    }

    [Fact]
    public void A_hole_is_skipped_when_the_held_bytes_pass_the_bound()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { MaxMessageBytes = 600 });
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] a = Framed(Query(1, padding: 300));
        byte[] b = Framed(Query(2, padding: 300));
        uint start = 101 + 20;
        Send(r, ref h, true, start, a);
        Assert.Empty(h.Messages);
        Send(r, ref h, true, start + (uint)a.Length, b); // together more than 600 bytes held

        Assert.Equal([1, 2], Ids(h));
        Assert.Equal(1, r.Statistics.Holes);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Garbage_joined_mid_stream_is_scanned_without_unbounded_buffering()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();
        var random = new Random(7);
        uint seq = 1;
        long sent = 0;
        for (int i = 0; i < 700; i++)
        {
            var payload = new byte[1460];
            random.NextBytes(payload);
            seq = Send(r, ref h, true, seq, payload);
            sent += payload.Length;
            Assert.True(r.BufferedBytes < TcpReassemblyOptions.LargestFramedMessage);
        }

        Assert.True(r.Statistics.BytesSkipped > sent - TcpReassemblyOptions.LargestFramedMessage);

        // A real message after the garbage is found once whatever candidate the garbage left waiting is decided.
        for (int i = 0; i < 50 && h.Messages.Count == 0; i++)
        {
            seq = Send(r, ref h, true, seq, Framed(Query(0x4242, padding: 1300)));
        }

        Assert.Contains(h.Messages, m => m.Id == 0x4242);
    }

    [Fact]
    public void A_gap_open_past_the_out_of_order_timeout_is_skipped_at_the_next_segment()
    {
        var r = new TcpDnsReassembler(new TcpReassemblyOptions { OutOfOrderTimeoutNanoseconds = 1000 });
        var h = new RecordingHandler();
        Open(r, ref h, 100);
        byte[] a = Framed(Query(1));
        byte[] b = Framed(Query(2));
        uint start = 101 + 30;
        Send(r, ref h, true, start, a, timestamp: 10);
        Send(r, ref h, true, start + (uint)a.Length + 5, b, timestamp: 900); // a second gap, still within the timeout
        Assert.Empty(h.Messages);

        Send(r, ref h, true, start + (uint)(a.Length + 5 + b.Length), Framed(Query(3)), timestamp: 1011);

        Assert.Equal([1, 2, 3], Ids(h));
        Assert.Equal(2, r.Statistics.Holes);
        Assert.Equal(35, r.Statistics.HoleBytes);
        Assert.Equal(1011, h.Messages[0].Timestamp);
    }

    [Fact]
    public void At_fin_a_false_start_still_waiting_for_bytes_is_passed_over()
    {
        var r = new TcpDnsReassembler();
        var h = new RecordingHandler();

        // Joined mid-stream at what looks like a 255-byte query: its header is plausible, so the search waits for the
        // rest; the real message after it is complete.
        byte[] lookalike = [0x00, 0xFF, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        uint seq = Send(r, ref h, true, 9, [.. lookalike, .. Framed(Query(5))]);
        Assert.Empty(h.Messages);

        // The FIN says no more bytes will come: the candidate cannot complete.
        Add(r, Frame(true, seq, Fin | Ack, []), ref h);

        Assert.Equal([5], Ids(h));
        Assert.Equal(lookalike.Length, r.Statistics.BytesSkipped);
    }
}
