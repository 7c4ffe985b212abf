using System.Diagnostics;
using System.Text;

namespace RataDns.Tests.Support;

/// <summary><c>ratadns</c> (the test build's ratadns.dll) as a process, its standard output and error collected; killed on dispose.</summary>
internal sealed class RataDnsProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _error = new();
    private readonly StringBuilder _output = new();

    private RataDnsProcess(Process process) => _process = process;

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Standard output so far, line by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the process to end (after a signal, say); false when it has not within <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        _process.WaitForExit(); // the asynchronous readers drain
        return true;
    }

    public static RataDnsProcess Start(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ratadns.dll"));
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var process = new RataDnsProcess(Process.Start(info)!);
        process._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (process._output)
                {
                    process._output.AppendLine(e.Data);
                }
            }
        };
        process._process.ErrorDataReceived += (_, e) =>
        {
            lock (process._error)
            {
                process._error.AppendLine(e.Data);
            }
        };
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Sends a signal (TERM, INT, HUP) by name, as an operator's kill would.</summary>
    public void Signal(string name) =>
        ExternalTool.Run("/bin/kill", ["-" + name, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], out _, out _);

    /// <summary>Runs ratadns to its end (a hang guard of two minutes) and returns its exit code and output.</summary>
    public static int RunToEnd(IEnumerable<string> arguments, out string stdout, out string stderr)
    {
        using var process = Start(arguments);
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException("ratadns did not end within two minutes: " + process.Error);
        }

        stdout = process.Output;
        stderr = process.Error;
        return process.ExitCode;
    }

    public string Describe() => $"{(_process.HasExited ? $"exited {_process.ExitCode}" : "running")}; stderr: {Error}";

    public bool HasExited => _process.HasExited;

    /// <summary>Kills the process at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose() => _process.KillAndDispose();
}
