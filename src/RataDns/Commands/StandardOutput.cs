using Microsoft.Win32.SafeHandles;

namespace RataDns.App.Commands;

/// <summary>
/// Standard output as a plain file stream, so that a reader that goes away (<c>ratadns serialize big.pcap | head</c>)
/// surfaces as <see cref="OutputClosedException"/> instead of being ignored, as .NET's console stream does, while
/// the whole capture is still read for nothing.
/// </summary>
internal static class StandardOutput
{
    /// <summary>errno EPIPE on Linux: the reading end of the pipe is closed.</summary>
    private const int BrokenPipe = 32;

    public static Stream Open() =>
        OperatingSystem.IsWindows()
            ? Console.OpenStandardOutput()
            : new PipeAwareStream(new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0));

    /// <summary>Passes writes through; a broken pipe becomes <see cref="OutputClosedException"/>.</summary>
    private sealed class PipeAwareStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try
            {
                inner.Write(buffer);
            }
            catch (IOException e) when (e.HResult == BrokenPipe || e.HResult == unchecked((int)0x80070020) || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase))
            {
                throw new OutputClosedException(e);
            }
        }

        public override void Flush()
        {
            try
            {
                inner.Flush();
            }
            catch (IOException e) when (e.HResult == BrokenPipe || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase))
            {
                throw new OutputClosedException(e);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>Whoever read our output has gone away: stop quietly, as tcpdump does when its pipe closes.</summary>
internal sealed class OutputClosedException : Exception
{
    public OutputClosedException()
    {
    }

    public OutputClosedException(string message)
        : base(message)
    {
    }

    public OutputClosedException(Exception inner)
        : base("standard output was closed", inner)
    {
    }

    public OutputClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
