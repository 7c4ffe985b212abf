namespace RataDns.Capture;

/// <summary>
/// The capture as a whole cannot be read: unknown magic, or a stream too short to hold one. Thrown once, when a
/// reader starts; a damaged record later in the capture is a <see cref="CaptureReadError"/> instead.
/// </summary>
public sealed class CaptureFormatException : Exception
{
    public CaptureFormatException()
    {
    }

    public CaptureFormatException(string message)
        : base(message)
    {
    }

    public CaptureFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Why reading stopped early: a truncated or corrupt record. Every frame before <see cref="Offset"/> was delivered.
/// </summary>
/// <param name="Offset">The offset of the record (or file header) that could not be read.</param>
/// <param name="FrameNumber">The frame number that record would have had (frames delivered + 1).</param>
/// <param name="Message">A sentence for a log, naming the offset and the frame.</param>
public sealed record CaptureReadError(long Offset, long FrameNumber, string Message);
