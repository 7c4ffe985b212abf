using System.Diagnostics;
using System.Globalization;

namespace RataDns.App.Operations;

/// <summary>
/// Writes a one-line status to the log every interval, on its own background thread, e.g.
/// <c>ratadns monitor: status: 1.23M frames (+45.6k/s), 1.20M dns, 12 malformed, drops 0/0/0, rings 3%, windows 42, rss 180 MB</c>:
/// frames read and their rate since the previous line, DNS messages, malformed messages, drops by the kernel, the
/// interface and the rings, the fullest worker ring, windows written, resident memory.
/// </summary>
internal sealed class StatusReporter : IDisposable
{
    private readonly MonitorMetrics _metrics;
    private readonly TextWriter _log;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new(false);

    public StatusReporter(MonitorMetrics metrics, TextWriter log, TimeSpan interval)
    {
        _metrics = metrics;
        _log = log;
        _interval = interval;
        _thread = new Thread(Run) { Name = "ratadns status", IsBackground = true };
        _thread.Start();
    }

    /// <summary>The status line, without the log's prefix, for a sample and the one before it (null: the first line).</summary>
    public static string Format(in StatusSample now, StatusSample? previous)
    {
        string rate = string.Empty;
        if (previous is { } p && now.Timestamp > p.Timestamp)
        {
            double seconds = (double)(now.Timestamp - p.Timestamp) / Stopwatch.Frequency;
            rate = $" (+{Short((now.Frames - p.Frames) / seconds)}/s)";
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"status: {Short(now.Frames)} frames{rate}, {Short(now.DnsMessages)} dns, {Short(now.Malformed)} malformed, " +
            $"drops {now.KernelDrops}/{now.InterfaceDrops}/{now.RingDrops}, rings {Math.Round(now.FullestRing * 100)}%, " +
            $"windows {now.Windows}, rss {now.ResidentBytes / (1024 * 1024)} MB");
    }

    /// <summary>A count in three significant digits with k, M or G (1234567 is 1.23M); below 1000 as it is.</summary>
    public static string Short(double value)
    {
        static string Three(double v) => v.ToString(v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        return value switch
        {
            < 1e3 => Math.Round(value).ToString("0", CultureInfo.InvariantCulture),
            < 1e6 => Three(value / 1e3) + "k",
            < 1e9 => Three(value / 1e6) + "M",
            _ => Three(value / 1e9) + "G",
        };
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }

    private void Run()
    {
        StatusSample? previous = null;
        while (!_stop.Wait(_interval))
        {
            var now = _metrics.Sample();
            _log.WriteLine(Format(in now, previous));
            previous = now;
        }
    }
}
