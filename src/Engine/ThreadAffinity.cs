using System.Runtime.InteropServices;


namespace RataDns.Engine;

/// <summary>
/// Pins the calling thread to one CPU where the OS allows it (Linux: <c>sched_setaffinity</c> on the thread), and
/// lists the CPUs the process may run on (its affinity mask, so <c>taskset</c> and cgroup cpusets are respected).
/// </summary>
internal static partial class ThreadAffinity
{
    private const int MaskBytes = 128; // 1024 CPUs

    /// <summary>The CPUs this process may use, in order; empty when the OS does not say.</summary>
    public static IReadOnlyList<int> AllowedCpus()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        Span<byte> mask = stackalloc byte[MaskBytes];
        mask.Clear();
        try
        {
            if (SchedGetAffinity(0, MaskBytes, ref MemoryMarshal.GetReference(mask)) != 0)
            {
                return [];
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return [];
        }

        var cpus = new List<int>();
        for (int i = 0; i < MaskBytes * 8; i++)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) != 0)
            {
                cpus.Add(i);
            }
        }

        return cpus;
    }

    /// <summary>Pins the calling thread to <paramref name="cpu"/>; returns null on success, else why not.</summary>
    public static string? TryPinCurrentThread(int cpu)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "pinning is only implemented on Linux";
        }

        Span<byte> mask = stackalloc byte[MaskBytes];
        mask.Clear();
        mask[cpu >> 3] = (byte)(1 << (cpu & 7));
        try
        {
            // pid 0: the calling thread (Linux applies the mask per thread).
            return SchedSetAffinity(0, MaskBytes, ref MemoryMarshal.GetReference(mask)) == 0
                ? null
                : $"sched_setaffinity failed (errno {Marshal.GetLastPInvokeError()})";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return e.Message;
        }
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint size, ref byte mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetAffinity(int pid, nuint size, ref byte mask);
}
