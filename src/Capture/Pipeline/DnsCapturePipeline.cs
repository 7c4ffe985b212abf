using RataDns.Capture.Fragments;
using RataDns.Capture.Tcp;
using RataDns.DnsWire;

namespace RataDns.Capture.Pipeline;

/// <summary>A frame handler that can be told one pass over a looped file is over.</summary>
public interface ICapturePassHandler : ICaptureFrameHandler
{
    void EndOfPass();
}

/// <summary>Receives each DNS message the pipeline finds, with the packet that carried (or completed) it.</summary>
public interface IDnsMessageHandler
{
    /// <summary>
    /// Handles one DNS message (for TCP, without its 2-byte length). Returns the message's parse status, which the
    /// pipeline counts; a handler that does not parse returns <see cref="DnsParseStatus.Ok"/>.
    /// </summary>
    DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds);
}

/// <summary>
/// From captured frames to DNS messages: link layer and IP decoding, IP fragment reassembly, UDP, and DNS-over-TCP
/// stream reassembly, with every outcome counted in <see cref="Statistics"/>. Single-threaded: one pipeline per
/// thread. Reassembly state expires on packet time, so replays at any speed behave the same.
/// </summary>
public sealed class DnsCapturePipeline
{
    /// <summary>How often (in packet time) idle fragments and TCP connections are looked for.</summary>
    private const long ExpiryIntervalNanoseconds = 1_000_000_000;

    private readonly DnsPortSet _ports;
    private readonly IpFragmentReassembler _fragments;
    private readonly TcpDnsReassembler _tcp;
    private readonly CaptureStatistics _statistics = new();
    private long _nextExpiry = long.MinValue;
    private long _lastTimestamp;

    public DnsCapturePipeline(DnsPortSet ports, FragmentReassemblyOptions? fragments = null, TcpReassemblyOptions? tcp = null)
    {
        _ports = ports;
        _fragments = new IpFragmentReassembler(fragments);
        _tcp = new TcpDnsReassembler(tcp);
    }

    /// <summary>The counters, with the reassemblers' own counters brought up to date.</summary>
    public CaptureStatistics Statistics
    {
        get
        {
            var f = _fragments.Statistics;
            _statistics.DatagramsReassembled = f.Reassembled;
            _statistics.FragmentsExpired = f.Expired;
            _statistics.FragmentsEvicted = f.Evicted;
            _statistics.FragmentsInvalid = f.Invalid;
            var t = _tcp.Statistics;
            _statistics.TcpRetransmissions = t.Retransmissions;
            _statistics.TcpHoles = t.Holes;
            _statistics.TcpBytesSkipped = t.BytesSkipped;
            _statistics.TcpConnectionsTimedOut = t.ConnectionsTimedOut;
            _statistics.TcpEvictions = t.Evictions;
            return _statistics;
        }
    }

    /// <summary>
    /// The frame and message counters as they stand, without bringing the reassemblers' counters up to date (only
    /// the owning thread may do that, through <see cref="Statistics"/>). Any thread may read them (a monitoring
    /// scrape); the values may be a packet behind.
    /// </summary>
    public CaptureStatistics LiveCounters => _statistics;

    /// <summary>TCP connections tracked now. Any thread may read it: a snapshot, possibly a packet behind.</summary>
    public int TcpConnectionsOpen => _tcp.Connections;

    /// <summary>Incomplete IP datagrams held now. Any thread may read it: a snapshot, possibly a packet behind.</summary>
    public int FragmentDatagramsPending => _fragments.PendingDatagrams;

    /// <summary>Bytes held by reassembly now (TCP streams and IP fragments). Any thread may read it: a snapshot.</summary>
    public long ReassemblyBytesHeld => _tcp.BufferedBytes + _fragments.BufferedBytes;

    /// <summary>Takes one frame; every DNS message it completes goes to <paramref name="handler"/>.</summary>
    public void OnFrame<THandler>(in CapturedFrame frame, ref THandler handler)
        where THandler : IDnsMessageHandler
    {
        _statistics.Frames++;
        long time = frame.TimestampNanoseconds;
        _lastTimestamp = time;
        if (time >= _nextExpiry)
        {
            Expire(time);
        }

        var status = PacketDecoder.Decode(in frame, _ports, out var packet);
        switch (status)
        {
            case PacketDecodeStatus.Ok:
                Deliver(in packet, time, ref handler);
                return;

            case PacketDecodeStatus.Snapped when packet.Transport == TransportProtocol.Udp:
                // The snap length cut the datagram: keep the message, it reads as truncated.
                _statistics.SnappedDatagrams++;
                Deliver(in packet, time, ref handler);
                return;

            case PacketDecodeStatus.Snapped:
                _statistics.SnappedSegments++;
                _statistics.CountNotDecoded(status);
                return;

            case PacketDecodeStatus.IpFragment:
                _statistics.FragmentsSeen++;
                if (_fragments.Add(in packet, time, out var payload) == FragmentResult.Reassembled)
                {
                    var whole = PacketDecoder.DecodeReassembled(in packet, payload, _ports, out var reassembled);
                    if (whole == PacketDecodeStatus.Ok)
                    {
                        Deliver(in reassembled, time, ref handler);
                    }
                    else
                    {
                        _statistics.CountNotDecoded(whole);
                    }
                }

                return;

            case PacketDecodeStatus.UnsupportedLinkType:
                _statistics.CountUnsupportedLinkType(frame.LinkType);
                return;

            default:
                _statistics.CountNotDecoded(status);
                return;
        }
    }

    /// <summary>
    /// As <see cref="OnFrame{THandler}(in CapturedFrame, ref THandler)"/> for a frame already decoded by the thread that
    /// handed it over (<paramref name="hint"/>): the usual UDP datagram is not decoded again; anything else is.
    /// </summary>
    public void OnFrame<THandler>(in CapturedFrame frame, in FrameDecodeHint hint, ref THandler handler)
        where THandler : IDnsMessageHandler
    {
        if (!hint.TryRebuild(frame.Data, out var packet))
        {
            OnFrame(in frame, ref handler);
            return;
        }

        _statistics.Frames++;
        long time = frame.TimestampNanoseconds;
        _lastTimestamp = time;
        if (time >= _nextExpiry)
        {
            Expire(time);
        }

        Deliver(in packet, time, ref handler);
    }

    /// <summary>
    /// The end of the capture: TCP data held behind gaps is delivered as far as it goes (the gaps count as holes)
    /// and every connection is closed. Fragments still incomplete stay counted as pending, then expire.
    /// </summary>
    public void Finish<THandler>(ref THandler handler)
        where THandler : IDnsMessageHandler
    {
        var forwarder = new TcpForwarder<THandler>(ref handler, _statistics);
        _tcp.Flush(_lastTimestamp, ref forwarder);
    }

    /// <summary>
    /// The end of one pass over a file read several times (soak tests): streams are finished as at the end of the
    /// capture and pending fragments are dropped, so the next pass, whose timestamps start over, is new traffic.
    /// </summary>
    public void EndOfPass<THandler>(ref THandler handler)
        where THandler : IDnsMessageHandler
    {
        Finish(ref handler);
        _fragments.Clear();
        _nextExpiry = long.MinValue;
    }

    /// <summary>Drops fragments and TCP connections idle since before <paramref name="nowNanoseconds"/> less their timeouts.</summary>
    public void Expire(long nowNanoseconds)
    {
        _fragments.ExpireOld(nowNanoseconds);
        _tcp.ExpireIdle(nowNanoseconds);
        _nextExpiry = nowNanoseconds + ExpiryIntervalNanoseconds;
    }

    private void Deliver<THandler>(in DecodedPacket packet, long time, ref THandler handler)
        where THandler : IDnsMessageHandler
    {
        if (packet.Transport == TransportProtocol.Udp)
        {
            if (packet.Payload.IsEmpty)
            {
                _statistics.EmptyUdpPayloads++;
                return;
            }

            var parse = handler.OnDnsMessage(in packet, packet.Payload, time);
            _statistics.CountMessage(TransportProtocol.Udp, packet.IpVersion, parse);
            return;
        }

        _statistics.TcpSegments++;
        var forwarder = new TcpForwarder<THandler>(ref handler, _statistics);
        _tcp.Add(in packet, time, ref forwarder);
    }

    /// <summary>Hands the TCP reassembler's messages to the caller's handler, counting them.</summary>
    private ref struct TcpForwarder<THandler> : ITcpMessageHandler
        where THandler : IDnsMessageHandler
    {
        private readonly ref THandler _handler;
        private readonly CaptureStatistics _statistics;

        public TcpForwarder(ref THandler handler, CaptureStatistics statistics)
        {
            _handler = ref handler;
            _statistics = statistics;
        }

        public void OnMessage(in DecodedPacket segment, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            var parse = _handler.OnDnsMessage(in segment, message, timestampNanoseconds);
            _statistics.CountMessage(TransportProtocol.Tcp, segment.IpVersion, parse);
        }
    }
}

/// <summary>
/// Adapts a pipeline and a DNS message handler to the capture readers' frame handler: pass it to
/// <see cref="CaptureFileReader.ReadAll{THandler}(ref THandler)"/> or the stream reader.
/// </summary>
public struct PipelineFrameHandler<THandler> : ICapturePassHandler
    where THandler : IDnsMessageHandler
{
    private readonly DnsCapturePipeline _pipeline;
    private THandler _handler;

    public PipelineFrameHandler(DnsCapturePipeline pipeline, THandler handler)
    {
        _pipeline = pipeline;
        _handler = handler;
    }

    public readonly THandler Handler => _handler;

    public void OnFrame(in CapturedFrame frame) => _pipeline.OnFrame(in frame, ref _handler);

    /// <summary>Call once the source is exhausted (see <see cref="DnsCapturePipeline.Finish{THandler}(ref THandler)"/>).</summary>
    public void Finish() => _pipeline.Finish(ref _handler);

    public void EndOfPass() => _pipeline.EndOfPass(ref _handler);
}
