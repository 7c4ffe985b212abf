using RataDns.DnsWire;

namespace RataDns.Capture.Tcp;

/// <summary>
/// Rebuilds DNS messages from captured DNS-over-TCP segments (RFC 7766; framing RFC 1035 4.2.2). One instance
/// belongs to one thread. Per segment it finds the connection (a dictionary on a struct key with a seeded hash),
/// then the direction's stream, and delivers every message the segment completes to a struct handler.
/// <para>
/// In the steady state (segments in order, messages whole) nothing is copied or allocated: messages are handed out
/// of the segment's own span. Otherwise the direction buffers bytes in pooled arrays: partial messages, and a few
/// out-of-order segments while a gap may still fill. Retransmitted bytes are dropped, gaps that never fill are
/// skipped, and the framing is re-found at the next plausible message start; each case is counted in
/// <see cref="Statistics"/>. Connections end at RST, at FIN in both directions, after the idle timeout, or by
/// eviction (least recently used first) when the connection or buffered-bytes caps are reached.
/// </para>
/// </summary>
public sealed partial class TcpDnsReassembler
{
    // TCP header flags (RFC 9293 3.1).
    private const byte FlagFin = 0x01;
    private const byte FlagSyn = 0x02;
    private const byte FlagRst = 0x04;

    // Recycled connections kept for reuse; a bound, so a burst of connections does not pin memory forever.
    private const int MaxFreeConnections = 1024;

    private readonly byte[] _flushAddresses = new byte[32];
    private readonly Dictionary<TcpConnectionKey, TcpConnection> _connections;
    private readonly Stack<TcpConnection> _free = new();
    private readonly int _maxConnections;
    private readonly long _maxBufferedBytes;
    private readonly long _idleTimeoutNanoseconds;
    private readonly int _maxFramedBytes;
    private readonly int _maxOutOfOrderSegments;
    private readonly long _outOfOrderTimeoutNanoseconds;

    // The least-recently-used list: _newest is touched last, _oldest is the next to evict.
    private TcpConnection? _newest;
    private TcpConnection? _oldest;
    private long _bufferedBytes;

    public TcpDnsReassembler(TcpReassemblyOptions? options = null)
    {
        options ??= new TcpReassemblyOptions();
        _maxConnections = Math.Max(1, options.MaxConnections);
        _maxBufferedBytes = Math.Max(0, options.MaxBufferedBytes);
        _idleTimeoutNanoseconds = Math.Max(0, options.IdleTimeoutNanoseconds);
        _maxFramedBytes = Math.Clamp(options.MaxMessageBytes, TcpReassemblyOptions.SmallestFramedMessage, TcpReassemblyOptions.LargestFramedMessage);
        _maxOutOfOrderSegments = Math.Clamp(options.MaxOutOfOrderSegments, 1, 64);
        _outOfOrderTimeoutNanoseconds = Math.Max(0, options.OutOfOrderTimeoutNanoseconds);
        _connections = new Dictionary<TcpConnectionKey, TcpConnection>(Math.Min(_maxConnections, 1024), new TcpConnectionKeyComparer());
    }

    public TcpReassemblyStatistics Statistics { get; } = new();

    /// <summary>Connections tracked now.</summary>
    public int Connections => _connections.Count;

    /// <summary>Bytes held now: incomplete messages and out-of-order segments (not the pooled arrays' capacity).</summary>
    public long BufferedBytes => _bufferedBytes;

    /// <summary>
    /// Takes one TCP segment (<see cref="DecodedPacket.Transport"/> is TCP; its sequence number, flags, payload,
    /// addresses and ports are used) and delivers the messages it completes to <paramref name="handler"/>.
    /// Never throws on any segment content.
    /// </summary>
    public void Add<THandler>(scoped in DecodedPacket segment, long timestampNanoseconds, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        Statistics.Segments++;
        if (segment.Transport != TransportProtocol.Tcp
            || !TcpConnectionKey.TryCreate(in segment, out var key, out bool fromLow))
        {
            Statistics.Ignored++;
            return;
        }

        byte flags = segment.TcpFlags;
        bool syn = (flags & FlagSyn) != 0;
        if (!_connections.TryGetValue(key, out var connection))
        {
            // Only a SYN or data opens a connection: a lone ACK, FIN or RST of an unknown connection carries nothing.
            if ((flags & FlagRst) != 0 || (!syn && segment.Payload.IsEmpty))
            {
                return;
            }

            connection = Open(key);
        }

        connection.LastSeenNanoseconds = timestampNanoseconds;
        MoveToNewest(connection);

        if ((flags & FlagRst) != 0)
        {
            // RFC 9293 3.10.7.4: a reset ends both directions. Deliver what the held data completes, drop the rest.
            ResolveHoles(connection.FromLow, final: true, in segment, timestampNanoseconds, ref handler);
            ResolveHoles(connection.FromHigh, final: true, in segment, timestampNanoseconds, ref handler);
            Close(connection);
            Statistics.ConnectionsClosed++;
            return;
        }

        var stream = connection.Direction(fromLow);
        uint sequence = segment.TcpSequence;
        if (syn)
        {
            OnSyn(stream, sequence);
            sequence++; // the SYN occupies one sequence number; data on a SYN (RFC 7413) follows it
        }

        if (!segment.Payload.IsEmpty)
        {
            OnData(stream, sequence, segment.Payload, in segment, timestampNanoseconds, ref handler);
        }

        if ((flags & FlagFin) != 0)
        {
            OnFin(stream, in segment, timestampNanoseconds, ref handler);
            if (connection.FromLow.Finished && connection.FromHigh.Finished)
            {
                Close(connection);
                Statistics.ConnectionsClosed++;
                return;
            }
        }

        EnforceBufferedBytesCap();
    }

    /// <summary>Drops the connections that saw no segment for longer than the idle timeout, oldest first.</summary>
    public void ExpireIdle(long nowNanoseconds)
    {
        while (_oldest is { } oldest && nowNanoseconds - oldest.LastSeenNanoseconds > _idleTimeoutNanoseconds)
        {
            Close(oldest);
            Statistics.ConnectionsTimedOut++;
        }
    }

    /// <summary>
    /// The end of the capture: every held gap is treated as a hole, the messages that completes are delivered (with a
    /// segment rebuilt from the connection's addresses and ports, no payload, and <paramref name="timestampNanoseconds"/>),
    /// and every connection is dropped.
    /// </summary>
    public void Flush<THandler>(long timestampNanoseconds, ref THandler handler)
        where THandler : ITcpMessageHandler, allows ref struct
    {
        // Heap buffers (not stackalloc): the rebuilt segment is handed to a handler that may be a ref struct.
        var source = _flushAddresses.AsSpan(0, 16);
        var destination = _flushAddresses.AsSpan(16, 16);
        while (_oldest is { } oldest)
        {
            var fromLow = oldest.Key.ToSegment(fromLow: true, source, destination);
            ResolveHoles(oldest.FromLow, final: true, in fromLow, timestampNanoseconds, ref handler);
            var fromHigh = oldest.Key.ToSegment(fromLow: false, source, destination);
            ResolveHoles(oldest.FromHigh, final: true, in fromHigh, timestampNanoseconds, ref handler);
            Close(oldest);
            Statistics.ConnectionsFlushed++;
        }
    }

    private TcpConnection Open(TcpConnectionKey key)
    {
        if (_connections.Count >= _maxConnections && _oldest is { } oldest)
        {
            Close(oldest);
            Statistics.Evictions++;
        }

        var connection = _free.Count > 0 ? _free.Pop() : new TcpConnection(_maxOutOfOrderSegments);
        connection.Key = key;
        _connections.Add(key, connection);
        Statistics.ConnectionsOpened++;
        return connection;
    }

    /// <summary>Removes a connection, returning its buffers and counting what it drops.</summary>
    private void Close(TcpConnection connection)
    {
        Reset(connection.FromLow);
        Reset(connection.FromHigh);
        _connections.Remove(connection.Key);
        Unlink(connection);
        connection.Key = default;
        if (_free.Count < MaxFreeConnections)
        {
            _free.Push(connection);
        }
    }

    private void EnforceBufferedBytesCap()
    {
        while (_bufferedBytes > _maxBufferedBytes && _oldest is { } oldest)
        {
            Close(oldest);
            Statistics.Evictions++;
        }
    }

    private void MoveToNewest(TcpConnection connection)
    {
        if (ReferenceEquals(_newest, connection))
        {
            return;
        }

        Unlink(connection);
        connection.Older = _newest;
        if (_newest is not null)
        {
            _newest.Newer = connection;
        }

        _newest = connection;
        _oldest ??= connection;
    }

    private void Unlink(TcpConnection connection)
    {
        if (connection.Newer is { } newer)
        {
            newer.Older = connection.Older;
        }
        else if (ReferenceEquals(_newest, connection))
        {
            _newest = connection.Older;
        }

        if (connection.Older is { } older)
        {
            older.Newer = connection.Newer;
        }
        else if (ReferenceEquals(_oldest, connection))
        {
            _oldest = connection.Newer;
        }

        connection.Newer = null;
        connection.Older = null;
    }
}
