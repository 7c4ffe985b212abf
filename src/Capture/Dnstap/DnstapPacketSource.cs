namespace RataDns.Capture.Dnstap;

/// <summary>
/// Turns dnstap payloads (the data frames of a Frame Streams file or socket) into <see cref="LinkType.Dnstap"/>
/// frames for the packet pipeline, counting what it skips. Not thread-safe: one per stream of payloads, or shared
/// under a lock (the TCP sequence numbers of its <see cref="DnstapFrameBuilder"/> are per flow across writers).
/// </summary>
public sealed class DnstapPacketSource
{
    private readonly DnstapFrameBuilder _builder = new();
    private readonly byte[] _frame = new byte[DnstapFrameBuilder.MaxFrameBytes];
    private long _frameNumber;

    public DnstapPacketSource(DnstapInputStatistics? statistics = null)
    {
        Statistics = statistics ?? new DnstapInputStatistics();
    }

    public DnstapInputStatistics Statistics { get; }

    /// <summary>
    /// The frame of one dnstap payload, valid until the next call; false (counted) when the payload does not
    /// decode, is not a MESSAGE, or carries no DNS message. <paramref name="offset"/> is where the payload was read
    /// (a file's byte offset; 0 for sockets).
    /// </summary>
    public bool TryConvert(ReadOnlySpan<byte> payload, long offset, out CapturedFrame frame)
    {
        frame = default;
        Statistics.CountFrame();
        switch (DnstapDecoder.Decode(payload, out var message))
        {
            case DnstapDecodeStatus.Ok:
                break;
            case DnstapDecodeStatus.NotMessage:
                Statistics.CountNotMessage();
                return false;
            default:
                Statistics.CountUndecodable();
                return false;
        }

        if (!_builder.TryBuild(in message, _frame, out int length, out long time))
        {
            Statistics.CountWithoutDns();
            return false;
        }

        Statistics.CountMessage();
        frame = new CapturedFrame(time, LinkType.Dnstap, 0, (uint)length, _frame.AsSpan(0, length), offset, ++_frameNumber);
        return true;
    }
}
