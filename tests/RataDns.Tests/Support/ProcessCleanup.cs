using System.Diagnostics;

namespace RataDns.Tests.Support;

/// <summary>Starts helper processes the tests use (a server, a capture), ends them and frees them.</summary>
internal static class ProcessCleanup
{
    /// <summary>Starts <paramref name="file"/> with its standard output and error, line by line, in <paramref name="log"/> (if any).</summary>
    public static Process StartLogged(string file, IEnumerable<string> arguments, LockedLog? log)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => log?.WriteLine(e.Data);
        process.ErrorDataReceived += (_, e) => log?.WriteLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// SIGTERM (a server flushes and closes its streams), a wait of at most <paramref name="grace"/> (a hang guard),
    /// then SIGKILL if it still runs. The process is not disposed.
    /// </summary>
    public static void Terminate(this Process process, TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        ExternalTool.Run("/bin/kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], out _, out _);
        if (!process.WaitForExit(grace))
        {
            process.Kill();
        }
    }

    /// <summary>Kills the process if it still runs (no shutdown, as a crash would), waits up to 5 s, disposes it.</summary>
    public static void KillAndDispose(this Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        finally
        {
            process.Dispose();
        }
    }
}
