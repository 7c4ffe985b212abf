using RataDns.Transport.Publishing;

namespace RataDns.Transport.Files;

/// <summary>
/// Writes window results to a stream (standard output, a pipe), one envelope per line (NDJSON), and flushes it at
/// <see cref="EndOfWindow"/>. No rotation. Give it a buffered stream: each result is one write.
/// <para>
/// Errors are not swallowed here: an <see cref="IOException"/> from the stream (or whatever the stream throws
/// instead, such as the app's <c>OutputClosedException</c> when the reader of standard output goes away, as in
/// <c>ratadns monitor ... | head</c>) is counted in <see cref="Statistics"/> and propagates, so the caller decides
/// whether a closed pipe ends the run quietly.
/// </para>
/// </summary>
public sealed class StreamResultChannel(Stream output, string name, bool leaveOpen = false) : IResultChannel
{
    private readonly ChannelStatistics _statistics = new();
    private bool _disposed;
    private bool _failed;

    public ChannelStatistics Statistics => _statistics;

    public string Describe() => name;

    public bool Publish(in ResultEnvelope result)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            output.Write(result.Json);
            output.Write("\n"u8);
        }
        catch
        {
            _statistics.CountError();
            _statistics.CountDropped();
            _failed = true;
            throw;
        }

        _statistics.CountSent();
        return true;
    }

    public void EndOfWindow()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            output.Flush();
        }
        catch
        {
            _statistics.CountError();
            _failed = true;
            throw;
        }
    }

    /// <summary>
    /// Flushes (unless a write already failed: the error was thrown then), then closes the stream unless it was
    /// given with leaveOpen; a flush error propagates.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_failed)
            {
                output.Flush();
            }
        }
        finally
        {
            if (!leaveOpen)
            {
                output.Dispose();
            }
        }
    }
}
