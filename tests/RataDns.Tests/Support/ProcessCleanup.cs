using System.Diagnostics;

namespace RataDns.Tests.Support;

/// <summary>Ends a helper process the tests started (a server, a capture) and frees it.</summary>
internal static class ProcessCleanup
{
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
