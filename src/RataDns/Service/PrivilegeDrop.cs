using System.Runtime.InteropServices;

namespace RataDns.App.Service;

/// <summary>A user account to run as: its name, uid, primary gid and supplementary groups (from the passwd and group databases).</summary>
internal sealed record ServiceAccount(string Name, uint Uid, uint Gid, uint[] Groups);

/// <summary>
/// Changing to an unprivileged user once the capture handle and the outputs are open, as <c>tcpdump -Z</c> does:
/// supplementary groups (the user's, from <c>getgrouplist</c>), then the group, then the user; every return value is
/// checked, and afterwards <c>setuid(0)</c> must fail, i.e. the change cannot be undone.
/// </summary>
/// <remarks>
/// glibc applies <c>setuid</c>, <c>setgid</c> and <c>setgroups</c> to every thread of the process (the runtime's
/// threads included), and sets the real, effective and saved ids together when the caller is root.
/// </remarks>
internal static class PrivilegeDrop
{
    /// <summary>Groups one user may be in, at most (Linux's NGROUPS_MAX is 65536).</summary>
    private const int MaxGroups = 65536;

    /// <summary>Whether the process runs as root (effective uid 0).</summary>
    public static bool IsRoot => geteuid() == 0;

    /// <summary>
    /// Looks up <paramref name="name"/> (a user name, or a numeric uid) and checks that this process may change to it:
    /// root may change to anyone; another user only "changes" to itself. Returns null with the reason otherwise.
    /// </summary>
    /// <param name="name">The user.</param>
    /// <param name="origin">Where the name comes from, for messages: <c>--user</c>, or the configuration key <c>User</c>.</param>
    /// <param name="error">Why the change cannot be made.</param>
    public static ServiceAccount? Resolve(string name, string origin, out string? error)
    {
        error = null;
        IntPtr entry = getpwnam(name);
        if (entry == IntPtr.Zero && uint.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint numeric))
        {
            entry = getpwuid(numeric);
        }

        if (entry == IntPtr.Zero)
        {
            error = $"{origin} {name}: no such user.";
            return null;
        }

        var passwd = Marshal.PtrToStructure<Passwd>(entry);
        string accountName = Marshal.PtrToStringUTF8(passwd.Name) ?? name;
        uint euid = geteuid();
        if (euid != 0 && euid != passwd.Uid)
        {
            error = $"{origin} {name}: only root can change to another user (this process runs as uid {euid}).";
            return null;
        }

        int count = 64;
        uint[] groups;
        while (true)
        {
            groups = new uint[count];
            int asked = count;
            if (getgrouplist(accountName, passwd.Gid, groups, ref count) >= 0)
            {
                break;
            }

            if (count <= asked)
            {
                count = asked * 2; // older libcs do not say how many are needed
            }

            if (count > MaxGroups)
            {
                error = $"{origin} {name}: the user is in more than {MaxGroups} groups.";
                return null;
            }
        }

        return new ServiceAccount(accountName, passwd.Uid, passwd.Gid, groups[..count]);
    }

    /// <summary>Loads every assembly the program references, transitively, while the files are still readable.</summary>
    private static void LoadReferencedAssemblies()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<System.Reflection.Assembly>(AppDomain.CurrentDomain.GetAssemblies());
        while (pending.TryPop(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (reference.FullName is { } name && seen.Add(name))
                {
                    try
                    {
                        pending.Push(System.Reflection.Assembly.Load(reference));
                    }
                    catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                    {
                        // Not there (an optional platform piece): it could not have been loaded later either.
                    }
                }
            }
        }
    }

    /// <summary>
    /// Becomes <paramref name="account"/>: supplementary groups, gid, uid, then checks the ids and that root cannot
    /// be regained. Returns the reason of a failure (the process must then stop), or null. Not root: nothing to do
    /// (<see cref="Resolve"/> only lets a user name itself).
    /// </summary>
    public static string? Become(ServiceAccount account)
    {
        if (geteuid() != 0)
        {
            return null;
        }

        // The runtime loads assemblies on first use: one first needed after the change (the worker's parser, say)
        // would be read as the user, and fail where the program's directory is not readable by it.
        LoadReferencedAssemblies();

        if (setgroups((nuint)account.Groups.Length, account.Groups) != 0)
        {
            return $"--user {account.Name}: setgroups failed: {Marshal.GetLastPInvokeErrorMessage()}";
        }

        if (setgid(account.Gid) != 0)
        {
            return $"--user {account.Name}: setgid({account.Gid}) failed: {Marshal.GetLastPInvokeErrorMessage()}";
        }

        if (setuid(account.Uid) != 0)
        {
            return $"--user {account.Name}: setuid({account.Uid}) failed: {Marshal.GetLastPInvokeErrorMessage()}";
        }

        if (getuid() != account.Uid || geteuid() != account.Uid || getgid() != account.Gid || getegid() != account.Gid)
        {
            return $"--user {account.Name}: the ids did not change as asked (uid {getuid()}/{geteuid()}, gid {getgid()}/{getegid()}).";
        }

        if (account.Uid != 0 && setuid(0) == 0)
        {
            return $"--user {account.Name}: root could be regained after the change (setuid(0) succeeded).";
        }

        return null;
    }

    /// <summary>
    /// Root, before the change: a missing output file is created empty and given to <paramref name="account"/>, since
    /// file outputs are opened at their first window, after the change. Returns why that failed, or null. An existing
    /// file is left as it is (see <see cref="CanWrite"/>).
    /// </summary>
    public static string? PrepareOutputFile(string path, ServiceAccount account)
    {
        if (geteuid() != 0 || File.Exists(path))
        {
            return null;
        }

        try
        {
            using (File.Open(path, FileMode.CreateNew, FileAccess.Write))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"output {path}: {e.Message}";
        }

        return chown(path, account.Uid, account.Gid) == 0 ? null : $"output {path}: chown to {account.Name} failed: {Marshal.GetLastPInvokeErrorMessage()}";
    }

    /// <summary>After the change: whether this process may append to <paramref name="path"/> (an existing file).</summary>
    public static bool CanWrite(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>struct passwd of glibc (LP64): name, password, uid, gid, then strings this code does not read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Uid;
        public uint Gid;
        public IntPtr Gecos;
        public IntPtr Directory;
        public IntPtr Shell;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr getpwnam([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr getpwuid(uint uid);

    [DllImport("libc", SetLastError = true)]
    private static extern int getgrouplist([MarshalAs(UnmanagedType.LPUTF8Str)] string user, uint group, [Out] uint[] groups, ref int count);

    [DllImport("libc", SetLastError = true)]
    private static extern int setgroups(nuint size, uint[] list);

    [DllImport("libc", SetLastError = true)]
    private static extern int chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    [DllImport("libc", SetLastError = true)]
    private static extern int setgid(uint gid);

    [DllImport("libc", SetLastError = true)]
    private static extern int setuid(uint uid);

    [DllImport("libc")]
    private static extern uint getuid();

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc")]
    private static extern uint getgid();

    [DllImport("libc")]
    private static extern uint getegid();
}
