namespace RataDns.Capture.Live;

/// <summary>
/// Live capture could not start or had to stop: libpcap missing, an unknown interface, no permission, a bad
/// filter, or the interface going away. The message says what and, where it can, what to do.
/// </summary>
public sealed class LiveCaptureException : Exception
{
    public LiveCaptureException()
    {
    }

    public LiveCaptureException(string message)
        : base(message)
    {
    }

    public LiveCaptureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
