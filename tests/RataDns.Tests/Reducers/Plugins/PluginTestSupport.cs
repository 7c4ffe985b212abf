using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers.Plugins;

/// <summary>
/// The example plugin (examples/CustomReducer, built before the tests by a ProjectReference that does not reference
/// its output) and temporary configuration files that name it, read as <c>ratadns monitor</c> reads them.
/// </summary>
internal static class PluginTestSupport
{
    public const string ExampleFileName = "RataDns.Examples.CustomReducer.dll";

    /// <summary>Release or Debug: the configuration the tests (and so the example) were built in.</summary>
    public static string BuildConfiguration { get; } =
        typeof(PluginTestSupport).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>examples/CustomReducer/bin/&lt;configuration&gt;/net10.0/RataDns.Examples.CustomReducer.dll.</summary>
    public static string ExampleDll { get; } =
        Path.Combine(RepoPaths.Root, "examples", "CustomReducer", "bin", BuildConfiguration, "net10.0", ExampleFileName);

    /// <summary>This test assembly, which holds a few deliberately broken plugin reducers (BrokenPluginReducers.cs).</summary>
    public static string TestAssemblyDll { get; } = typeof(PluginTestSupport).Assembly.Location;

    /// <summary>Writes <paramref name="json"/> as a configuration file in <paramref name="directory"/> and loads it.</summary>
    public static MonitorConfiguration Load(string directory, string json)
    {
        string path = Path.Combine(directory, "monitor.json");
        File.WriteAllText(path, json);
        return MonitorConfigurationLoader.Load(path);
    }

    /// <summary>The reducers of a configuration, created as the monitor creates them.</summary>
    public static List<Reducer> CreateAll(MonitorConfiguration configuration) =>
        [.. configuration.Reducers.Select(ReducerRegistry.Create)];

    /// <summary>A JSON string literal of a path (backslashes and quotes escaped).</summary>
    public static string Quote(string path) => JsonSerializer.Serialize(path);

    /// <summary>What <see cref="Reducer.WriteData"/> writes, parsed; escaped as the monitor escapes ("10+", not "10\u002B").</summary>
    public static JsonElement Data(Reducer reducer)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            reducer.WriteData(writer, new ReducerWindow(0, 1_000_000_000, 0));
        }

        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    /// <summary>The single problem of <paramref name="error"/>: its path, and the reason holding every fragment.</summary>
    public static void AssertProblem(ConfigurationException error, string path, params string[] fragments)
    {
        var problem = Assert.Single(error.Problems);
        Assert.Equal(path, problem.Path);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, problem.Reason, StringComparison.Ordinal);
        }

        Assert.EndsWith("monitor.json", error.Origin, StringComparison.Ordinal);
    }
}

/// <summary>A temporary directory, deleted at the end of the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("ratadns-plugins-").FullName;
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A loaded plugin copy may still be mapped (load contexts here are not collectible); leave it to the OS.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
