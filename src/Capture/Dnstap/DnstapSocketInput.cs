namespace RataDns.Capture.Dnstap;

/// <summary>
/// dnstap from DNS servers: a <see cref="FrameStreamReceiver"/> on a unix socket or TCP whose writers' messages become
/// <see cref="LinkType.Dnstap"/> frames, handed to one handler under <see cref="Gate"/> (one writer at a time, so the
/// handler is written for one thread, like a capture's). A handler that throws stops the hand-over (the first such
/// failure is kept in <see cref="Failure"/> for the owner to report); writers are still read, and their messages
/// dropped, until the input is disposed.
/// </summary>
public sealed class DnstapSocketInput : IDisposable
{
    private readonly FrameStreamReceiver _receiver;
    private readonly DnstapPacketSource _source;
    private readonly FrameHandler _handler;
    private Exception? _failure;
    private bool _closed;

    private DnstapSocketInput(string endpoint, FrameHandler handler, DnstapInputStatistics statistics, Action<string>? warn)
    {
        _handler = handler;
        _source = new DnstapPacketSource(statistics);
        _receiver = FrameStreamReceiver.Listen(endpoint, OnPayload, new FrameStreamReceiverOptions { Warn = warn });
        statistics.Receiver = _receiver;
    }

    /// <summary>A frame of a writer's message; valid during the call only.</summary>
    public delegate void FrameHandler(in CapturedFrame frame);

    /// <summary>Held while a frame is handed over; take it to call the handler's other members from another thread.</summary>
    public object Gate { get; } = new();

    /// <summary>The endpoint listened on (<c>tcp://127.0.0.1:0</c> shows its port).</summary>
    public string Endpoint => _receiver.Endpoint;

    /// <summary>The first exception the handler threw, or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public DnstapInputStatistics Statistics => _source.Statistics;

    /// <summary>Listens on <paramref name="endpoint"/> (<c>unix:PATH</c> or <c>tcp://ADDRESS:PORT</c>).</summary>
    /// <exception cref="ArgumentException">The endpoint is of neither form.</exception>
    /// <exception cref="IOException">It cannot be listened on.</exception>
    public static DnstapSocketInput Listen(string endpoint, FrameHandler handler, DnstapInputStatistics? statistics = null, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return new DnstapSocketInput(endpoint, handler, statistics ?? new DnstapInputStatistics(), warn);
    }

    /// <summary>Stops listening and closes every writer; no frame is handed over once it returns.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            _closed = true;
        }

        _receiver.Dispose();
    }

    private void OnPayload(ReadOnlySpan<byte> payload)
    {
        lock (Gate)
        {
            if (_closed || _failure is not null || !_source.TryConvert(payload, 0, out var frame))
            {
                return;
            }

            try
            {
                _handler(in frame);
            }
#pragma warning disable CA1031 // any failure of the handler is the owner's to report; the writer's thread must not die of it
            catch (Exception e)
#pragma warning restore CA1031
            {
                _failure = e;
            }
        }
    }
}
