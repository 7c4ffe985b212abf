using System.Diagnostics;
using System.Globalization;
using System.Text;
using RataDns.App.Logging;

namespace RataDns.App.Progress;

/// <summary>
/// What the reading thread has done so far: the frames delivered and the file offset reached. Only the reading
/// thread writes (plain stores, no lock, nothing allocated); the progress bar's timer reads them.
/// </summary>
internal sealed class ReadProgressCounter
{
    private long _frames;
    private long _position;

    /// <summary>Frames delivered so far (every pass of a looped file).</summary>
    public long Frames => Volatile.Read(ref _frames);

    /// <summary>Bytes of input behind the last frame delivered (every pass of a looped file).</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>On the reading thread, after each frame: <paramref name="position"/> is the end of its record.</summary>
    public void OnFrame(long position)
    {
        // Single writer: a plain increment published with a release store is enough for a reader that only displays it.
        Volatile.Write(ref _frames, _frames + 1);
        Volatile.Write(ref _position, position);
    }

    /// <summary>On the one thread that reports them: the frames read so far and the bytes of input behind them.</summary>
    public void Set(long frames, long position)
    {
        Volatile.Write(ref _frames, frames);
        Volatile.Write(ref _position, position);
    }
}

/// <summary>
/// Whether a progress bar is drawn: on when standard error is a terminal, off otherwise; the environment variable
/// <c>RATADNS_PROGRESS</c> forces it (<c>1</c> on, <c>0</c> off) — for tests and for logs that want it anyway.
/// </summary>
internal static class ProgressPolicy
{
    /// <summary>The environment variable that forces the progress bar on (1) or off (0).</summary>
    public const string Variable = "RATADNS_PROGRESS";

    /// <summary>True when a progress bar should be drawn for a file read at full speed.</summary>
    public static bool Enabled(LogSettings settings, Func<bool>? isTerminal = null)
    {
        if (settings.Quiet)
        {
            return false;
        }

        return Environment.GetEnvironmentVariable(Variable) switch
        {
            "1" => true,
            "0" => false,
            _ => (isTerminal ?? (() => !Console.IsErrorRedirected))(),
        };
    }
}

/// <summary>
/// A progress bar on standard error for a file read as fast as possible: percent of the file's bytes, frames,
/// frames per second and time left, redrawn in place (<c>\r</c>) four times a second by a timer that only reads
/// the <see cref="ReadProgressCounter"/>, so the reading thread never waits for it. Log lines erase it first;
/// <see cref="Finish"/> draws 100% and erases it.
/// </summary>
internal sealed class ProgressBar : IStatusLine, IDisposable
{
    private const int BarWidth = 24;
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    private readonly ReadProgressCounter _counter;
    private readonly long _totalBytes;
    private readonly LineLoggerProvider _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer _timer;
    private int _shownWidth;
    private bool _finished;

    /// <summary>Starts drawing at once (0%), then every 250 ms. <paramref name="totalBytes"/> is 0 when unknown (standard input).</summary>
    public ProgressBar(ReadProgressCounter counter, long totalBytes, LineLoggerProvider output)
    {
        _counter = counter;
        _totalBytes = totalBytes;
        _output = output;
        lock (_output.Sync)
        {
            _output.Status = this;
            Draw(final: false);
        }

        _timer = new Timer(static state => ((ProgressBar)state!).Tick(), this, Period, Period);
    }

    /// <summary>Draws the bar at 100% (the read is over) and erases it, so what follows starts on a clean line.</summary>
    public void Finish()
    {
        _timer.Dispose();
        lock (_output.Sync)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            Draw(final: true);
            Erase(_output.Writer);
            _output.Status = null;
        }
    }

    public void Dispose() => Finish();

    public void Erase(TextWriter writer)
    {
        if (_shownWidth > 0)
        {
            writer.Write('\r');
            writer.Write(new string(' ', _shownWidth));
            writer.Write('\r');
            writer.Flush();
            _shownWidth = 0;
        }
    }

    private void Tick()
    {
        lock (_output.Sync)
        {
            if (!_finished)
            {
                Draw(final: false);
            }
        }
    }

    /// <summary>Under the output's lock.</summary>
    private void Draw(bool final)
    {
        long frames = _counter.Frames;
        long position = _counter.Position;
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        double rate = frames / seconds;
        var line = new StringBuilder(96);
        line.Append('\r');
        if (_totalBytes > 0)
        {
            double fraction = final ? 1 : Math.Clamp((double)position / _totalBytes, 0, 0.999);
            int filled = (int)(fraction * BarWidth);
            line.Append('[').Append('#', filled).Append('.', BarWidth - filled).Append("] ");
            line.Append(CultureInfo.InvariantCulture, $"{fraction * 100,5:0.0}%  ");
        }

        line.Append(CultureInfo.InvariantCulture, $"{frames:N0} frames  {HumanCount(rate)} frames/s");
        if (_totalBytes > 0 && !final && position > 0)
        {
            double left = seconds * (_totalBytes - position) / position;
            line.Append(CultureInfo.InvariantCulture, $"  ETA {TimeSpan.FromSeconds(Math.Min(left, 359_999)):h\\:mm\\:ss}");
        }

        int width = line.Length - 1;
        if (width < _shownWidth)
        {
            line.Append(' ', _shownWidth - width); // cover the end of a longer line drawn before
        }

        var writer = _output.Writer;
        writer.Write(line.ToString());
        writer.Flush();
        _shownWidth = Math.Max(width, _shownWidth);
    }

    /// <summary>1234 as 1234, 427,000 as 427k, 1,230,000 as 1.2M.</summary>
    internal static string HumanCount(double value) => value switch
    {
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{value / 1e6:0.#}M"),
        >= 10_000 => string.Create(CultureInfo.InvariantCulture, $"{value / 1e3:0}k"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value:0}"),
    };
}
