using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace RataDns.Tests;

/// <summary>
/// The project graph tells the architecture (docs/architecture.md): the reducer API depends on DnsWire only (a plugin
/// author references one package), Transport never needs capture, and the aggregator never loads libpcap's wrapper.
/// Read from the built assemblies' references, transitively over RataDns's own assemblies.
/// </summary>
public class ArchitectureTests
{
    [Theory]
    [InlineData("RataDns.Reducers", new[] { "RataDns.Capture", "RataDns.Engine", "RataDns.Configuration", "RataDns.Transport", "SharpPcap", "PacketDotNet", "NetMQ" })]
    [InlineData("RataDns.Transport", new[] { "RataDns.Capture", "RataDns.Engine", "SharpPcap", "PacketDotNet" })]
    [InlineData("RataDns.Aggregator", new[] { "RataDns.Capture", "RataDns.Engine", "SharpPcap", "PacketDotNet" })]
    [InlineData("RataDns.Configuration", new[] { "RataDns.Capture", "RataDns.Engine", "SharpPcap" })]
    [InlineData("RataDns.DnsWire", new[] { "RataDns.Reducers", "RataDns.Capture", "MessagePack" })]
    public void An_assembly_does_not_reach_what_its_job_does_not_need(string assembly, string[] forbidden)
    {
        var reached = Reached(assembly);
        Assert.Contains(assembly, reached);
        Assert.Empty(reached.Intersect(forbidden, StringComparer.Ordinal));
    }

    [Fact]
    public void The_reducer_api_is_enough_for_a_plugin()
    {
        // The example plugin is built against the reducer package alone.
        var references = ReferencesOf(Reducers.Plugins.PluginTestSupport.ExampleDll);
        Assert.Contains("RataDns.Reducers", references);
        Assert.DoesNotContain("RataDns.Capture", references);
        Assert.DoesNotContain("RataDns.Engine", references);
    }

    /// <summary>The assembly and everything it references, following RataDns.* assemblies (others are leaves).</summary>
    private static HashSet<string> Reached(string root)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([root]);
        while (pending.TryPop(out string? name))
        {
            if (!reached.Add(name) || !name.StartsWith("RataDns.", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (string reference in ReferencesOf(Path.Combine(AppContext.BaseDirectory, name + ".dll")))
            {
                pending.Push(reference);
            }
        }

        return reached;
    }

    /// <summary>The names of the assemblies a file references, read from its metadata (nothing is loaded).</summary>
    private static List<string> ReferencesOf(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return [.. metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name))];
    }
}
