using System.Buffers.Binary;
using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.Counters;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Extended;

/// <summary>
/// ResponseLatency: matches each query with its response and reports the latency distribution per window:
/// <c>{"matched", "unanswered", "unsolicited", "untracked", "pending", "latencyUs": {"p50", "p90", "p99",
/// "p999", "max"}, "histogram": [{"leUs": bound, "count": n}, ...]}</c>.
/// <para>
/// Matching key: client address and port (a query's source, a response's destination), server address and port,
/// message id, and the first question's type and name (ASCII case-insensitive; a message without a readable
/// question matches on "no question"). Latency = response time - query time in packet time, truncated to whole
/// microseconds (0 if the response's timestamp is earlier). A response whose server reported when it received the
/// query (dnstap's <c>query_time</c>, <see cref="DnsPacketView.ServerQueryTimeNanoseconds"/>) is matched by the server's
/// own word: latency = response time - that query time, whether or not the query was seen (a server that logs
/// responses only), and a pending copy of its query is taken off the table. A retransmitted query (same key while one is pending)
/// is not tracked again: latency is measured from the first transmission.
/// </para>
/// <para>
/// Counters of the window: "matched" responses; "unanswered" queries still pending <c>TimeoutMs</c> (option,
/// default 5000) after they were sent, counted in the window of the packet whose time expires them (expiry looks at
/// queries oldest first, so it follows the packet clock, never the wall clock); "unsolicited" responses with no
/// pending query (including responses arriving after the timeout); "untracked" queries not matched because
/// <c>PendingCapacity</c> (option, default 65536) queries were already pending: the table never grows.
/// "pending" is the number of queries waiting at the end of the window.
/// </para>
/// <para>
/// Latencies (only of matched responses) go into fixed log-linear buckets, 16 per power of two (see
/// <c>LatencyHistogram</c>): each percentile is the upper bound of the bucket holding the exact nearest-rank
/// percentile x, capped at the maximum, so it lies in [x, x + x/16): at most 6.25 % high, exact below 16 µs.
/// "histogram" lists the non-empty buckets by inclusive upper bound "leUs". Without matches the percentiles and
/// the maximum are null.
/// </para>
/// <para>
/// Windows and partials: pending queries are state of the traffic, not of a window. <see cref="Reset"/> clears the
/// counters and the histogram but keeps the pending queries, so a query sent near the end of a window is matched
/// (or expires) in a later one; "pending" is that carried-over count. <see cref="Merge"/> adds counters and
/// histograms and unites the pending queries (a key pending in both keeps the earlier time; beyond the capacity the
/// rest count as untracked); it also completes exchanges split between the partials: a response that was
/// unsolicited in one partial is matched with a pending query of the other when it came after it within the
/// timeout (unsolicited responses of the window are remembered for this, up to PendingCapacity of them), and
/// queries that the later of the two partials' clocks has expired are counted unanswered. Merging partials of
/// traffic split at any point therefore gives the counts of one reducer that saw it all, as long as the clocks
/// are monotonic and no retransmission of a query falls in the other partial than its response. Partials made
/// with <see cref="CreateEmpty"/> share the fingerprint key, which merging requires. A worker's instance keeps its
/// own pending queries after a merge, so the traffic should be dispatched to workers by client address and port:
/// then both directions of an exchange meet in the same worker and nothing is matched twice. For the same reason a
/// merger should merge each window's partials into a fresh <see cref="CreateEmpty"/> rather than reuse a merged
/// instance: its pending copies would otherwise outlive the workers' answers and expire as unanswered.
/// </para>
/// <para>
/// Memory is fixed at construction: keys are stored as a 128-bit fingerprint (SipHash-1-3 with a 128-bit output under a
/// random per-reducer key, so senders cannot aim at collisions) with the query time, in preallocated
/// open-addressing tables (pending queries and the window's unsolicited responses, PendingCapacity each, about
/// 80 bytes per slot in all: 5 MiB at the default). Observe allocates nothing.
/// </para>
/// </summary>
public sealed class ResponseLatencyReducer : Reducer
{
    public const int DefaultTimeoutMilliseconds = 5000;
    public const int MaxTimeoutMilliseconds = 3_600_000;
    public const int DefaultPendingCapacity = 65536;

    private const long NanosecondsPerMillisecond = 1_000_000;
    private const long NanosecondsPerMicrosecond = 1000;

    // Address length byte and 16 bytes, twice; two ports, id, question flag, type, the name's hash.
    private const int KeyBufferLength = (2 * 17) + 2 + 2 + 2 + 1 + 2 + sizeof(ulong);

    private readonly FingerprintKey _key;
    private readonly int _timeoutMilliseconds;
    private readonly long _timeoutNanoseconds;
    private readonly ExchangeTable _pending;
    private readonly ExchangeTable _unsolicitedResponses;
    private readonly LatencyHistogram _latencies = new();

    private long _unanswered;
    private long _unsolicited;
    private long _untracked;
    private long _clock = long.MinValue;

    // The pending level of states read in (ReadState) and merged: queries pending at a window's end in a monitor
    // whose pending table did not travel.
    private long _carriedPending;

    public ResponseLatencyReducer(int timeoutMilliseconds = DefaultTimeoutMilliseconds, int pendingCapacity = DefaultPendingCapacity)
        : this(timeoutMilliseconds, pendingCapacity, FingerprintKey.Random())
    {
    }

    private ResponseLatencyReducer(int timeoutMilliseconds, int pendingCapacity, FingerprintKey key)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMilliseconds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timeoutMilliseconds, MaxTimeoutMilliseconds);
        _timeoutMilliseconds = timeoutMilliseconds;
        _timeoutNanoseconds = timeoutMilliseconds * NanosecondsPerMillisecond;
        _pending = new ExchangeTable(pendingCapacity);
        _unsolicitedResponses = new ExchangeTable(pendingCapacity);
        _key = key;
    }

    /// <inheritdoc />
    public override string Type => "ResponseLatency";

    public int TimeoutMilliseconds => _timeoutMilliseconds;

    public int PendingCapacity => _pending.Capacity;

    /// <summary>Queries waiting for a response now (carried across windows).</summary>
    public int Pending => _pending.Count;

    /// <summary>Slots of the pending table's index: fixed at construction, whatever the traffic.</summary>
    public int PendingIndexSlots => _pending.IndexSlots;

    public long Matched => _latencies.Total;

    public long Unanswered => _unanswered;

    public long Unsolicited => _unsolicited;

    public long Untracked => _untracked;

    /// <inheritdoc />
    public override void Observe(in DnsPacketView packet)
    {
        if (packet.HeaderBytes < DnsHeader.Size)
        {
            return;
        }

        long now = packet.TimestampNanoseconds;
        if (now > _clock)
        {
            _clock = now;
            ExpirePending();
        }

        bool response = packet.IsResponse;
        Span<byte> key = stackalloc byte[KeyBufferLength];
        int n = response
            ? WriteKey(key, in packet, packet.DestinationAddress, packet.DestinationPort, packet.SourceAddress, packet.SourcePort)
            : WriteKey(key, in packet, packet.SourceAddress, packet.SourcePort, packet.DestinationAddress, packet.DestinationPort);
        _key.Hash(key[..n], out ulong hash1, out ulong hash2);

        if (!response)
        {
            if (_pending.Find(hash1, hash2) != ExchangeTable.None)
            {
                return;
            }

            if (_pending.Add(hash1, hash2, now) == ExchangeTable.None)
            {
                _untracked++;
            }

            return;
        }

        int query = _pending.Find(hash1, hash2);
        if (packet.ServerQueryTimeNanoseconds != 0)
        {
            // The server said when it received the query (dnstap): its own latency, whether or not the query was seen.
            _latencies.Record(Math.Max(0, now - packet.ServerQueryTimeNanoseconds) / NanosecondsPerMicrosecond);
            if (query != ExchangeTable.None)
            {
                _pending.Remove(query);
            }

            return;
        }

        if (query != ExchangeTable.None)
        {
            _latencies.Record((now - _pending.TimeAt(query)) / NanosecondsPerMicrosecond);
            _pending.Remove(query);
            return;
        }

        _unsolicited++;
        if (_unsolicitedResponses.Find(hash1, hash2) == ExchangeTable.None)
        {
            _unsolicitedResponses.Add(hash1, hash2, now);
        }
    }

    /// <inheritdoc />
    public override void Merge(Reducer other)
    {
        var same = RequireMergeable<ResponseLatencyReducer>(other);
        // Fingerprints made under different keys cannot be matched; an instance read from a state has none to match.
        bool foreignFingerprints = !same._key.Equals(_key) && (same._pending.Count != 0 || same._unsolicitedResponses.Count != 0);
        if (same._timeoutNanoseconds != _timeoutNanoseconds || same._pending.Capacity != _pending.Capacity || foreignFingerprints)
        {
            throw new ArgumentException($"Cannot merge {Type} reducers with different options or fingerprint keys (make partials with CreateEmpty).", nameof(other));
        }

        _latencies.Add(same._latencies);
        _unanswered += same._unanswered;
        _unsolicited += same._unsolicited;
        _untracked += same._untracked;
        _carriedPending += same._carriedPending;

        // Responses of the other partial that found no query there may answer a query pending here.
        for (int u = same._unsolicitedResponses.Oldest; u != ExchangeTable.None; u = same._unsolicitedResponses.NewerThan(u))
        {
            ulong hash1 = same._unsolicitedResponses.Hash1At(u);
            ulong hash2 = same._unsolicitedResponses.Hash2At(u);
            long answered = same._unsolicitedResponses.TimeAt(u);
            int query = _pending.Find(hash1, hash2);
            if (query != ExchangeTable.None && Answers(_pending.TimeAt(query), answered))
            {
                _latencies.Record((answered - _pending.TimeAt(query)) / NanosecondsPerMicrosecond);
                _pending.Remove(query);
                _unsolicited--;
            }
            else if (_unsolicitedResponses.Find(hash1, hash2) == ExchangeTable.None)
            {
                _unsolicitedResponses.Add(hash1, hash2, answered);
            }
        }

        // The later clock expires what it would have expired had one reducer seen both partials.
        _clock = Math.Max(_clock, same._clock);
        ExpirePending();

        bool reorder = false;
        for (int p = same._pending.Oldest; p != ExchangeTable.None; p = same._pending.NewerThan(p))
        {
            ulong hash1 = same._pending.Hash1At(p);
            ulong hash2 = same._pending.Hash2At(p);
            long sent = same._pending.TimeAt(p);
            int response = _unsolicitedResponses.Find(hash1, hash2);
            if (response != ExchangeTable.None && Answers(sent, _unsolicitedResponses.TimeAt(response)))
            {
                _latencies.Record((_unsolicitedResponses.TimeAt(response) - sent) / NanosecondsPerMicrosecond);
                _unsolicitedResponses.Remove(response);
                _unsolicited--;
                continue;
            }

            if (Expired(sent))
            {
                _unanswered++;
                continue;
            }

            int mine = _pending.Find(hash1, hash2);
            if (mine != ExchangeTable.None)
            {
                if (sent < _pending.TimeAt(mine))
                {
                    _pending.SetTime(mine, sent);
                    reorder = true;
                }
            }
            else if (_pending.Add(hash1, hash2, sent) == ExchangeTable.None)
            {
                _untracked++;
            }
            else
            {
                reorder = true;
            }
        }

        if (reorder)
        {
            _pending.SortByTime();
        }
    }

    /// <inheritdoc />
    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("matched"u8, _latencies.Total);
        writer.WriteNumber("unanswered"u8, _unanswered);
        writer.WriteNumber("unsolicited"u8, _unsolicited);
        writer.WriteNumber("untracked"u8, _untracked);
        writer.WriteNumber("pending"u8, PendingLevel);
        writer.WriteStartObject("latencyUs"u8);
        WritePercentile(writer, "p50"u8, 0.5);
        WritePercentile(writer, "p90"u8, 0.9);
        WritePercentile(writer, "p99"u8, 0.99);
        WritePercentile(writer, "p999"u8, 0.999);
        WritePercentile(writer, "max"u8, 1.0);
        writer.WriteEndObject();
        writer.WriteStartArray("histogram"u8);
        for (int i = 0; i < LatencyHistogram.BucketCount; i++)
        {
            long count = _latencies.CountAt(i);
            if (count != 0)
            {
                writer.WriteStartObject();
                writer.WriteNumber("leUs"u8, LatencyHistogram.UpperBound(i));
                writer.WriteNumber("count"u8, count);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public override bool HasState => true;

    /// <summary>
    /// <c>[1, unanswered, unsolicited, untracked, pending, max, {bucket: count}]</c>: the window's counters, the
    /// pending level (queries waiting at the window's end), the largest latency in µs and the non-empty histogram
    /// buckets by index (0..527; "matched" is their sum). The pending queries themselves and the remembered
    /// unsolicited responses only serve matching inside one monitor and are not part of it.
    /// </summary>
    public override void WriteState(ref MessagePackWriter writer)
    {
        writer.WriteArrayHeader(7);
        writer.Write(1);
        writer.Write(_unanswered);
        writer.Write(_unsolicited);
        writer.Write(_untracked);
        writer.Write(PendingLevel);
        writer.Write(_latencies.Max);
        int buckets = 0;
        for (int i = 0; i < LatencyHistogram.BucketCount; i++)
        {
            buckets += _latencies.CountAt(i) != 0 ? 1 : 0;
        }

        writer.WriteMapHeader(buckets);
        for (int i = 0; i < LatencyHistogram.BucketCount; i++)
        {
            if (_latencies.CountAt(i) != 0)
            {
                writer.Write(i);
                writer.Write(_latencies.CountAt(i));
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>The pending level read is carried (<see cref="Pending"/> stays 0): it adds in <see cref="Merge"/> and
    /// is replaced by the later window's in <see cref="MergeLater"/>.</remarks>
    public override void ReadState(ref MessagePackReader reader)
    {
        StateReading.ExactArrayHeader(ref reader, 7, Type, "items");
        StateReading.Layout(ref reader, 1, Type);
        _unanswered = StateReading.Count(ref reader, Type, "unanswered");
        _unsolicited = StateReading.Count(ref reader, Type, "unsolicited");
        _untracked = StateReading.Count(ref reader, Type, "untracked");
        _carriedPending = StateReading.Count(ref reader, Type, "pending");
        long max = StateReading.Count(ref reader, Type, "max");
        long[] buckets = new long[LatencyHistogram.BucketCount];
        CounterSupport.ReadCounts(ref reader, buckets, Type, "histogram buckets");
        try
        {
            _latencies.Load(buckets, max);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{Type} state: {e.Message}", e);
        }
    }

    /// <summary>
    /// As <see cref="Merge"/>, except the pending level: <paramref name="later"/>'s (the same monitor at the end of a
    /// later window) replaces this one's, since the queries pending at this window's end are either among those or
    /// were matched or expired in the later window. Meant for instances read from states (no pending queries of
    /// their own).
    /// </summary>
    public override void MergeLater(Reducer later)
    {
        var same = RequireMergeable<ResponseLatencyReducer>(later);
        long level = same._carriedPending;
        Merge(same);
        _carriedPending = level;
    }

    /// <inheritdoc />
    public override ViewMergeRule ViewMerge => ViewMergeRule.LatencyHistogram;

    /// <summary>Queries pending at the window's end: those of the table and those carried by a state read in.</summary>
    private long PendingLevel => _pending.Count + _carriedPending;

    /// <summary>Clears the window's counters, histogram and remembered unsolicited responses; keeps pending queries.</summary>
    public override void Reset()
    {
        _latencies.Clear();
        _unanswered = 0;
        _unsolicited = 0;
        _untracked = 0;
        _carriedPending = 0;
        _unsolicitedResponses.Clear();
    }

    /// <summary>Pending queries stay from one window to the next.</summary>
    public override bool KeepsStateAcrossWindows => true;

    /// <summary>Forgets the window and the pending queries too (a spare set the engine reuses).</summary>
    public override void Clear()
    {
        Reset();
        _pending.Clear();
        _clock = long.MinValue;
    }

    /// <inheritdoc />
    public override Reducer CreateEmpty() => new ResponseLatencyReducer(_timeoutMilliseconds, _pending.Capacity, _key);

    private static int WriteKey(
        Span<byte> key,
        in DnsPacketView packet,
        ReadOnlySpan<byte> clientAddress,
        ushort clientPort,
        ReadOnlySpan<byte> serverAddress,
        ushort serverPort)
    {
        int n = WriteAddress(key, clientAddress);
        BinaryPrimitives.WriteUInt16BigEndian(key[n..], clientPort);
        n += 2;
        n += WriteAddress(key[n..], serverAddress);
        BinaryPrimitives.WriteUInt16BigEndian(key[n..], serverPort);
        n += 2;
        BinaryPrimitives.WriteUInt16BigEndian(key[n..], packet.Header.Id);
        n += 2;
        // The question's name enters as its 64-bit keyed hash, which every reducer shares (KeyHash: computed once per
        // message), rather than as its bytes: the fingerprint hashes a fixed 45 bytes or fewer instead of up to 300.
        // Two names of the same client, ports, id and type would meet only if their secret-keyed hashes collide.
        var shape = packet.ReadQuestion(out var first);
        if (first.IsRead)
        {
            key[n++] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(key[n..], first.Type);
            n += 2;
            BinaryPrimitives.WriteUInt64LittleEndian(key[n..], first.NameHash);
            return n + sizeof(ulong);
        }

        var reader = packet.CreateReader();
        if (shape != QuestionShape.None && reader.TryReadQuestion(out DnsQuestion question))
        {
            key[n++] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(key[n..], question.Type);
            n += 2;
            Span<byte> name = stackalloc byte[DnsName.MaxWireLength];
            int length = question.Name.CopyWireFormTo(name, lowerCase: true);
            BinaryPrimitives.WriteUInt64LittleEndian(key[n..], KeyHash.Of(name[..length]));
            n += sizeof(ulong);
        }
        else
        {
            key[n++] = 0;
        }

        return n;
    }

    private static int WriteAddress(Span<byte> destination, ReadOnlySpan<byte> address)
    {
        address = address[..Math.Min(address.Length, 16)];
        destination[0] = (byte)address.Length;
        address.CopyTo(destination[1..]);
        return 1 + address.Length;
    }

    /// <summary>Whether a response at <paramref name="answered"/> answers a query sent at <paramref name="sent"/> in time.</summary>
    private bool Answers(long sent, long answered) => answered >= sent && answered - sent < _timeoutNanoseconds;

    private bool Expired(long sent) => _clock - sent >= _timeoutNanoseconds;

    /// <summary>Counts and drops the pending queries, oldest first, that the clock has expired.</summary>
    private void ExpirePending()
    {
        int oldest;
        while ((oldest = _pending.Oldest) != ExchangeTable.None && Expired(_pending.TimeAt(oldest)))
        {
            _pending.Remove(oldest);
            _unanswered++;
        }
    }

    private void WritePercentile(Utf8JsonWriter writer, ReadOnlySpan<byte> name, double quantile)
    {
        if (_latencies.Total == 0)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteNumber(name, _latencies.Percentile(quantile));
        }
    }

    /// <summary>The SipHash key of the 128-bit fingerprint.</summary>
    private readonly record struct FingerprintKey(ulong K0, ulong K1)
    {
        public static FingerprintKey Random()
        {
            var (k0, k1) = HashKeys.New();
            return new FingerprintKey(k0, k1);
        }

        /// <summary>The 128-bit SipHash-1-3 of the key: one pass over the bytes for both halves of the fingerprint.</summary>
        public void Hash(ReadOnlySpan<byte> key, out ulong hash1, out ulong hash2) => SipHash.Hash13x128(K0, K1, key, out hash1, out hash2);
    }
}
