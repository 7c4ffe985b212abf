using System.Diagnostics;

namespace RataDns.Tests.Support;

/// <summary>Runs a reference tool (tshark, dnspython, tcpdump) that tests compare against.</summary>
internal static class ExternalTool
{
    /// <summary>Debian's python3, which has python3-dnspython; the python3 on PATH may be another interpreter.</summary>
    public const string SystemPython = "/usr/bin/python3";

    public static bool PythonHasDnspython() =>
        File.Exists(SystemPython) && Run(SystemPython, ["-c", "import dns.message"], out _, out _) == 0;

    public static int Run(string file, IEnumerable<string> arguments, out string stdout, out string stderr, string? stdin = null, int timeoutMs = 120_000)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var outTask = process.StandardOutput.ReadToEndAsync();
        var errTask = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in {timeoutMs} ms");
        }

        stdout = outTask.GetAwaiter().GetResult();
        stderr = errTask.GetAwaiter().GetResult();
        return process.ExitCode;
    }
}
