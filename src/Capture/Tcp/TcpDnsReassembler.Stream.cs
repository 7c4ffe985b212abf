using System.Buffers;
using System.Buffers.Binary;

namespace RataDns.Capture.Tcp;

/// <summary>The per-direction stream: sequence tracking, buffering, holes and message delivery.</summary>
public sealed partial class TcpDnsReassembler
{
    // Sequence numbers are compared modulo 2^32 (RFC 9293 3.4): the signed distance is right while the two are
    // within 2^31 of each other, which any real window guarantees.
    private static int Distance(uint from, uint to) => (int)(to - from);

    // How far behind the expected sequence number a SYN may lie and still be a retransmission: any larger distance
    // is a new connection reusing the ports (its initial sequence number is random, RFC 9293 3.4.1).
    private const uint RetransmittedSynWindow = 1 << 20;

    private void OnSyn(TcpStreamDirection stream, uint sequence)
    {
        // A retransmitted SYN (its sequence number at or a little behind the stream's) changes nothing.
        if (stream.HasSequence && !stream.Finished
            && (uint)Distance(sequence + 1, stream.NextSequence) <= RetransmittedSynWindow)
        {
            return;
        }

        // Another initial sequence number is a new connection on the same ports: start this direction afresh.
        if (stream.HasSequence)
        {
            Reset(stream);
        }

        stream.HasSequence = true;
        stream.NextSequence = sequence + 1;
        stream.Aligned = true;
    }

    private void OnData<THandler>(
        TcpStreamDirection stream, uint sequence, ReadOnlySpan<byte> payload, scoped in DecodedPacket segment, long timestamp, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        if (stream.Finished)
        {
            Statistics.SegmentsAfterClose++;
            return;
        }

        if (!stream.HasSequence)
        {
            // No SYN seen: join mid-stream. The first byte may lie inside a message, so the framing must be found.
            stream.HasSequence = true;
            stream.NextSequence = sequence;
            stream.Aligned = false;
            Statistics.MidStreamJoins++;
        }

        // A gap that stayed open past the timeout will not fill: the data was lost before the capture saw it.
        if (stream.HeldCount > 0 && timestamp - stream.HeldSinceNanoseconds > _outOfOrderTimeoutNanoseconds)
        {
            ResolveHoles(stream, final: false, in segment, timestamp, ref handler);
        }

        // At most three rounds: a full hold area is resolved once, after which the segment is in order, behind, or
        // ahead with room to hold it (or skipped to when it alone exceeds the hold bound).
        for (int round = 0; round < 3; round++)
        {
            int offset = Distance(stream.NextSequence, sequence);
            if (offset < 0)
            {
                // As a long: a segment exactly 2^31 away gives int.MinValue, whose negation is itself.
                long behind = -(long)offset;
                if (payload.Length <= behind)
                {
                    Statistics.Retransmissions++;
                    return;
                }

                Statistics.Overlaps++;
                payload = payload[(int)behind..];
                sequence = stream.NextSequence;
                offset = 0;
            }

            if (offset == 0)
            {
                AppendInOrder(stream, payload, in segment, timestamp, ref handler);
                DrainHeld(stream, in segment, timestamp, ref handler);
                return;
            }

            if (TryHold(stream, sequence, payload, timestamp))
            {
                return;
            }

            if (stream.HeldCount == 0)
            {
                // Too big to hold even alone: the gap before it is a hole.
                SkipTo(stream, sequence);
                continue;
            }

            ResolveHoles(stream, final: false, in segment, timestamp, ref handler);
        }
    }

    private void OnFin<THandler>(TcpStreamDirection stream, scoped in DecodedPacket segment, long timestamp, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        // The sender has nothing more (RFC 9293 3.6): a gap still open will not fill, and an incomplete message will
        // not complete. Deliver what the held data completes, then drop the rest.
        ResolveHoles(stream, final: true, in segment, timestamp, ref handler);
        Reset(stream);
        stream.HasSequence = true;
        stream.Finished = true;
    }

    /// <summary>Takes the bytes at <see cref="TcpStreamDirection.NextSequence"/> and delivers what they complete.</summary>
    private void AppendInOrder<THandler>(
        TcpStreamDirection stream, ReadOnlySpan<byte> payload, scoped in DecodedPacket segment, long timestamp, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        stream.NextSequence += (uint)payload.Length;

        if (stream.BufferLength == 0)
        {
            // Fast path: nothing buffered, so messages are delivered straight from the segment; only an incomplete
            // tail is copied.
            int consumed = Deliver(stream, payload, final: false, in segment, timestamp, ref handler, fromSegment: true);
            payload = payload[consumed..];
        }

        while (!payload.IsEmpty)
        {
            int room = _maxFramedBytes - stream.BufferLength;
            int take = Math.Min(room, payload.Length);
            EnsureCapacity(stream, stream.BufferLength + take);
            payload[..take].CopyTo(stream.Buffer.AsSpan(stream.BufferLength));
            stream.BufferLength += take;
            _bufferedBytes += take;
            payload = payload[take..];

            int consumed = Deliver(stream, stream.Buffer.AsSpan(0, stream.BufferLength), final: false, in segment, timestamp, ref handler, fromSegment: false);
            Consume(stream, consumed);
        }
    }

    /// <summary>
    /// Delivers the complete messages at the start of <paramref name="data"/> (first re-finding the framing when the
    /// stream is not aligned) and returns the bytes used; the rest is an incomplete message or undecided bytes.
    /// </summary>
    private int Deliver<THandler>(
        TcpStreamDirection stream, ReadOnlySpan<byte> data, bool final, scoped in DecodedPacket segment, long timestamp, ref THandler handler, bool fromSegment)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        int position = 0;
        while (position < data.Length)
        {
            if (stream.SkipRemaining > 0)
            {
                int skip = Math.Min(stream.SkipRemaining, data.Length - position);
                stream.SkipRemaining -= skip;
                position += skip;
                Statistics.BytesSkipped += skip;
                continue;
            }

            var rest = data[position..];
            if (!stream.Aligned)
            {
                var search = PlausibleMessageStart.Find(rest, _maxFramedBytes, final, out int start);
                Statistics.BytesSkipped += start;
                position += start;
                if (search == MessageStartSearch.NeedMore)
                {
                    break;
                }

                stream.Aligned = true;
                Statistics.Resynchronisations++;
                continue;
            }

            if (rest.Length < TcpDnsFraming.LengthPrefixSize)
            {
                break;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(rest);
            int framed = TcpDnsFraming.LengthPrefixSize + length;
            if (framed > _maxFramedBytes)
            {
                // Longer than we buffer: skip it whole, keeping the framing.
                Statistics.OversizedMessages++;
                stream.SkipRemaining = framed;
                continue;
            }

            if (rest.Length < framed)
            {
                break;
            }

            Statistics.Messages++;
            if (fromSegment)
            {
                Statistics.MessagesWithoutCopy++;
            }

            handler.OnMessage(in segment, rest.Slice(TcpDnsFraming.LengthPrefixSize, length), timestamp);
            position += framed;
        }

        return position;
    }

    /// <summary>
    /// Holds an out-of-order segment (a copy of one already held counts as a retransmission); false when the hold
    /// area of the direction is full.
    /// </summary>
    private bool TryHold(TcpStreamDirection stream, uint sequence, ReadOnlySpan<byte> payload, long timestamp)
    {
        // A segment already held at the same place: keep the longer copy.
        for (int i = 0; i < stream.HeldCount; i++)
        {
            ref var held = ref stream.Held[i];
            if (held.Sequence == sequence)
            {
                if (payload.Length <= held.Length)
                {
                    Statistics.Retransmissions++;
                    return true;
                }

                ReleaseHeld(stream, i);
                break;
            }
        }

        if (stream.HeldCount == stream.Held.Length || stream.HeldBytes + payload.Length > _maxFramedBytes)
        {
            return false;
        }

        if (stream.HeldCount == 0)
        {
            stream.HeldSinceNanoseconds = timestamp;
        }

        Statistics.OutOfOrder++;
        var data = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(data);
        stream.Held[stream.HeldCount++] = new HeldSegment { Sequence = sequence, Data = data, Length = payload.Length };
        stream.HeldBytes += payload.Length;
        _bufferedBytes += payload.Length;
        return true;
    }

    /// <summary>Appends every held segment that the expected sequence number has reached, until none has.</summary>
    private void DrainHeld<THandler>(TcpStreamDirection stream, scoped in DecodedPacket segment, long timestamp, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        bool progressed = true;
        while (progressed && stream.HeldCount > 0)
        {
            progressed = false;
            for (int i = 0; i < stream.HeldCount; i++)
            {
                var held = stream.Held[i];
                int offset = Distance(stream.NextSequence, held.Sequence);
                if (offset > 0)
                {
                    continue;
                }

                // Take it out of the hold area first: appending may deliver messages but never re-enters here.
                stream.Held[i] = stream.Held[--stream.HeldCount];
                stream.Held[stream.HeldCount] = default;
                stream.HeldBytes -= held.Length;
                _bufferedBytes -= held.Length;
                long behind = -(long)offset;                // int.MinValue: see OnData
                if (held.Length > behind)
                {
                    AppendInOrder(stream, held.Data.AsSpan((int)behind, held.Length - (int)behind), in segment, timestamp, ref handler);
                }
                else
                {
                    Statistics.Retransmissions++;
                }

                ArrayPool<byte>.Shared.Return(held.Data!);
                progressed = true;
                break;
            }
        }
    }

    /// <summary>
    /// Gives up waiting for the gaps before the held segments: skips each gap as a hole (resynchronising after it)
    /// until nothing is held. <paramref name="final"/>: the direction ends here (FIN, RST, flush).
    /// </summary>
    private void ResolveHoles<THandler>(TcpStreamDirection stream, bool final, scoped in DecodedPacket segment, long timestamp, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        while (stream.HeldCount > 0)
        {
            int earliest = 0;
            for (int i = 1; i < stream.HeldCount; i++)
            {
                if (Distance(stream.Held[earliest].Sequence, stream.Held[i].Sequence) < 0)
                {
                    earliest = i;
                }
            }

            uint sequence = stream.Held[earliest].Sequence;
            if (Distance(stream.NextSequence, sequence) > 0)
            {
                SkipTo(stream, sequence);
            }

            DrainHeld(stream, in segment, timestamp, ref handler);
        }

        // The stream will not grow: a framing search still waiting on an incomplete candidate may find a complete
        // message after it.
        if (final && !stream.Aligned && stream.BufferLength > 0 && stream.Buffer is { } buffer)
        {
            int consumed = Deliver(stream, buffer.AsSpan(0, stream.BufferLength), final: true, in segment, timestamp, ref handler, fromSegment: false);
            Consume(stream, consumed);
        }
    }

    /// <summary>Jumps over a gap the capture lost: the incomplete message before it is dropped, and the framing must be found again.</summary>
    private void SkipTo(TcpStreamDirection stream, uint sequence)
    {
        Statistics.Holes++;
        Statistics.HoleBytes += (uint)Distance(stream.NextSequence, sequence);
        DropBuffered(stream);
        stream.SkipRemaining = 0;
        stream.Aligned = false;
        stream.NextSequence = sequence;
    }

    /// <summary>Removes the first <paramref name="count"/> buffered bytes.</summary>
    private void Consume(TcpStreamDirection stream, int count)
    {
        if (count == 0 || stream.Buffer is not { } buffer)
        {
            return;
        }

        int left = stream.BufferLength - count;
        buffer.AsSpan(count, left).CopyTo(buffer);
        stream.BufferLength = left;
        _bufferedBytes -= count;
        if (left == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            stream.Buffer = null;
        }
    }

    private static void EnsureCapacity(TcpStreamDirection stream, int needed)
    {
        if (stream.Buffer is { } buffer && buffer.Length >= needed)
        {
            return;
        }

        // Grow by doubling from a small start: most partial messages are a few hundred bytes.
        int size = Math.Max(needed, Math.Max(512, (stream.Buffer?.Length ?? 0) * 2));
        var grown = ArrayPool<byte>.Shared.Rent(size);
        if (stream.Buffer is { } old)
        {
            old.AsSpan(0, stream.BufferLength).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(old);
        }

        stream.Buffer = grown;
    }

    private void DropBuffered(TcpStreamDirection stream)
    {
        if (stream.BufferLength > 0)
        {
            Statistics.BytesSkipped += stream.BufferLength;
            if (stream.Aligned)
            {
                Statistics.IncompleteMessagesDropped++;
            }

            _bufferedBytes -= stream.BufferLength;
            stream.BufferLength = 0;
        }

        if (stream.Buffer is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            stream.Buffer = null;
        }
    }

    private void ReleaseHeld(TcpStreamDirection stream, int index)
    {
        var held = stream.Held[index];
        stream.Held[index] = stream.Held[--stream.HeldCount];
        stream.Held[stream.HeldCount] = default;
        stream.HeldBytes -= held.Length;
        _bufferedBytes -= held.Length;
        if (held.Data is { } data)
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    /// <summary>Returns every buffer of the direction to the pool, counting what is dropped, and forgets its state.</summary>
    private void Reset(TcpStreamDirection stream)
    {
        DropBuffered(stream);
        while (stream.HeldCount > 0)
        {
            Statistics.BytesSkipped += stream.Held[0].Length;
            ReleaseHeld(stream, 0);
        }

        stream.HasSequence = false;
        stream.NextSequence = 0;
        stream.Aligned = false;
        stream.Finished = false;
        stream.SkipRemaining = 0;
    }
}
