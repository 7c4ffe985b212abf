using System.Reflection;
using System.Runtime.Loader;

namespace RataDns.Reducers.Plugins;

/// <summary>
/// The load context of one plugin assembly. The plugin's own dependencies come from its directory (through its
/// <c>.deps.json</c> when there is one, with <see cref="AssemblyDependencyResolver"/>); the RataDns libraries and the
/// framework are always the host's, so the plugin's <see cref="Reducer"/>, <see cref="DnsPacketView"/> and
/// <c>DnsMessageReader</c> are the very types the host uses, even if a copy of them sits beside the plugin.
/// Not collectible: a reducer lives as long as the monitor.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    /// <summary>Assemblies always taken from the host (exact simple names); <c>System.*</c> is shared as well.</summary>
    private static readonly string[] SharedAssemblies =
    [
        "RataDns.Reducers", "RataDns.DnsWire", "System", "netstandard", "mscorlib",

        // The reducer API's state methods take MessagePack's reader and writer: a plugin's own copy would be
        // another type and its overrides would not match.
        "MessagePack", "MessagePack.Annotations",
    ];

    private readonly AssemblyDependencyResolver _resolver;

    public PluginLoadContext(string pluginPath)
        : base($"RataDns plugin {Path.GetFileName(pluginPath)}", isCollectible: false)
    {
        _resolver = new AssemblyDependencyResolver(pluginPath);
    }

    /// <summary>True for the assemblies the plugin must share with the host.</summary>
    public static bool IsShared(AssemblyName name)
    {
        string? simple = name.Name;
        if (simple is null)
        {
            return false;
        }

        return SharedAssemblies.Contains(simple, StringComparer.OrdinalIgnoreCase)
            || simple.StartsWith("System.", StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // Null falls back to the default context, i.e. the host's copy.
        if (IsShared(assemblyName))
        {
            return null;
        }

        string? path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    /// <inheritdoc />
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
