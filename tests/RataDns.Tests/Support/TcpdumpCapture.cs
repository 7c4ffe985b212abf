using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RataDns.Tests.Support;

/// <summary>
/// tcpdump writing an interface's traffic to a file: immediate mode (so no packet waits in a half-filled kernel block
/// when it stops), packet-buffered, with a 32 MiB kernel buffer (a loaded machine schedules it late); as root, -Z root keeps it from switching to a user that could not write the
/// test's folder. Started, and stopped by its pid with SIGINT so it writes its statistics ("N packets dropped by
/// kernel").
/// </summary>
internal sealed partial class TcpdumpCapture : IDisposable
{
    public const string Executable = "/usr/bin/tcpdump";

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private TcpdumpCapture(Process process)
    {
        _process = process;
    }

    public static bool IsAvailable => File.Exists(Executable);

    /// <summary>Starts tcpdump and returns once it says it is listening (libpcap has the interface open).</summary>
    public static TcpdumpCapture Start(string networkInterface, string filter, string file)
    {
        var info = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-i", networkInterface, "-n", "--immediate-mode", "-U", "-Z", "root", "-s", "0", "-B", "32768", "-w", file })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var word in filter.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            info.ArgumentList.Add(word);
        }

        var capture = new TcpdumpCapture(Process.Start(info)!);
        capture._process.ErrorDataReceived += (_, e) =>
        {
            lock (capture._log)
            {
                capture._log.AppendLine(e.Data);
            }
        };
        capture._process.BeginErrorReadLine();
        capture._process.BeginOutputReadLine();
        for (int i = 0; i < 100; i++)
        {
            if (capture.Log.Contains("listening on", StringComparison.Ordinal))
            {
                Thread.Sleep(200); // the message comes just before the capture loop starts
                return capture;
            }

            if (capture._process.HasExited)
            {
                break;
            }

            Thread.Sleep(100);
        }

        string log = capture.Log;
        capture.Dispose();
        throw new InvalidOperationException($"tcpdump did not start listening within 10 s: {log}");
    }

    /// <summary>What tcpdump wrote to standard error so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Stops tcpdump with SIGINT (it flushes the file and prints its statistics) and returns the kernel drops.</summary>
    public long Stop()
    {
        int code = ExternalTool.Run("/bin/kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)], out _, out var errors);
        if (code != 0 || !_process.WaitForExit(10_000))
        {
            throw new InvalidOperationException($"tcpdump did not stop on SIGINT: {errors} {Log}");
        }

        _process.WaitForExit(); // drains the redirected streams
        var drops = KernelDropsPattern().Match(Log);
        return drops.Success ? long.Parse(drops.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("tcpdump printed no statistics: " + Log);
    }

    public void Dispose()
    {
        _process.KillAndDispose();
    }

    [GeneratedRegex(@"(\d+) packets? dropped by kernel")]
    private static partial Regex KernelDropsPattern();
}
