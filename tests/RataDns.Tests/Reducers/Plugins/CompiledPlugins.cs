using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers.Plugins;

/// <summary>
/// Small plugin assemblies compiled for the tests with the SDK's C# compiler (csc), for what the example project
/// cannot show: a plugin with a dependency of its own in its directory, the same plugin with that dependency
/// missing, and a plugin that takes a built-in reducer's name. Compiled once per test class, in a temporary
/// directory; <see cref="SkipReason"/> says why not when the SDK is not there.
/// </summary>
public sealed class CompiledPlugins : IDisposable
{
    private const string DependencySource = """
        namespace PluginDependency;

        public interface IMarker { }

        public static class Names
        {
            public static string ReducerName => "UsesDependency";
        }
        """;

    private const string PluginSource = """
        using System.Text.Json;
        using RataDns.Reducers;

        namespace CompiledPlugin;

        // Implements an interface of its dependency, so the type cannot even be loaded without it.
        public sealed class UsesDependency : Reducer, PluginDependency.IMarker
        {
            private long _packets;

            public override string Type => PluginDependency.Names.ReducerName;

            public override void Observe(in DnsPacketView packet) => _packets++;

            public override void Merge(Reducer other) => _packets += RequireMergeable<UsesDependency>(other)._packets;

            public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window) => writer.WriteNumberValue(_packets);

            public override void Reset() => _packets = 0;

            public override Reducer CreateEmpty() => new UsesDependency();
        }
        """;

    private const string ClashSource = """
        using System.Text.Json;
        using RataDns.Reducers;

        namespace CompiledClash;

        [ReducerName("TopN")]
        public sealed class MyTopN : Reducer
        {
            public override string Type => "TopN";

            public override void Observe(in DnsPacketView packet) { }

            public override void Merge(Reducer other) { }

            public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window) => writer.WriteNullValue();

            public override void Reset() { }

            public override Reducer CreateEmpty() => new MyTopN();
        }
        """;

    private readonly string _root;

    public CompiledPlugins()
    {
        _root = Directory.CreateTempSubdirectory("ratadns-compiled-plugins-").FullName;
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string dotnetRoot = Path.GetFullPath(Path.Combine(frameworkDirectory, "..", "..", ".."));
        string? compiler = Directory.Exists(Path.Combine(dotnetRoot, "sdk"))
            ? Directory.GetDirectories(Path.Combine(dotnetRoot, "sdk"))
                .Select(sdk => Path.Combine(sdk, "Roslyn", "bincore", "csc.dll"))
                .Where(File.Exists)
                .Order(StringComparer.Ordinal)
                .LastOrDefault()
            : null;
        if (compiler is null)
        {
            SkipReason = $"no .NET SDK C# compiler under {dotnetRoot}/sdk";
            return;
        }

        var host = Path.Combine(dotnetRoot, "dotnet");
        var framework = Directory.GetFiles(frameworkDirectory, "*.dll");
        string[] rataDns = [.. new[] { "RataDns.Reducers", "RataDns.DnsWire", "RataDns.Capture" }.Select(n => Path.Combine(AppContext.BaseDirectory, n + ".dll"))];

        string with = Directory.CreateDirectory(Path.Combine(_root, "with-dependency")).FullName;
        string without = Directory.CreateDirectory(Path.Combine(_root, "without-dependency")).FullName;
        string clash = Directory.CreateDirectory(Path.Combine(_root, "clash")).FullName;
        string dependency = Compile(host, compiler, Path.Combine(with, "PluginDependency.dll"), DependencySource, framework);
        PluginWithDependency = Compile(host, compiler, Path.Combine(with, "CompiledPlugin.dll"), PluginSource, [.. framework, .. rataDns, dependency]);
        PluginWithoutDependency = Path.Combine(without, "CompiledPlugin.dll");
        File.Copy(PluginWithDependency, PluginWithoutDependency);
        PluginTakingBuiltInName = Compile(host, compiler, Path.Combine(clash, "CompiledClash.dll"), ClashSource, [.. framework, .. rataDns]);
    }

    /// <summary>Null when the plugins were compiled.</summary>
    public string? SkipReason { get; }

    /// <summary>CompiledPlugin.dll (reducer <c>UsesDependency</c>) beside its PluginDependency.dll.</summary>
    public string PluginWithDependency { get; } = string.Empty;

    /// <summary>The same CompiledPlugin.dll, alone in its directory.</summary>
    public string PluginWithoutDependency { get; } = string.Empty;

    /// <summary>CompiledClash.dll, whose reducer is named <c>TopN</c>.</summary>
    public string PluginTakingBuiltInName { get; } = string.Empty;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS's temporary-file cleanup.
        }
    }

    private static string Compile(string host, string compiler, string output, string source, IEnumerable<string> references)
    {
        string sourceFile = Path.ChangeExtension(output, ".cs");
        File.WriteAllText(sourceFile, source);
        string responseFile = Path.ChangeExtension(output, ".rsp");
        File.WriteAllLines(responseFile, [
            "-target:library", "-nologo", "-nullable:enable", "-langversion:latest", $"-out:\"{output}\"",
            .. references.Select(r => $"-r:\"{r}\""), $"\"{sourceFile}\""]);
        int exit = ExternalTool.Run(host, [compiler, "@" + responseFile], out string stdout, out string stderr);
        if (exit != 0)
        {
            throw new InvalidOperationException($"csc failed ({exit}) for {output}:\n{stdout}\n{stderr}");
        }

        File.Delete(responseFile);
        File.Delete(sourceFile);
        return output;
    }
}
