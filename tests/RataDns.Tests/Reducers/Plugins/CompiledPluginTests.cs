using System.Runtime.Loader;
using RataDns.Reducers.Configuration;
using RataDns.Tests.Reducers.Counters;
using static RataDns.Tests.Reducers.Plugins.PluginTestSupport;

namespace RataDns.Tests.Reducers.Plugins;

/// <summary>
/// Plugins compiled for the tests (<see cref="CompiledPlugins"/>): a plugin's own dependencies come from its
/// directory and stay its own; a missing one, and a reducer taking a built-in name, are configuration errors on the
/// assembly's key.
/// </summary>
public sealed class CompiledPluginTests(CompiledPlugins plugins) : IClassFixture<CompiledPlugins>, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [SkippableFact]
    public void A_plugin_loads_its_own_dependency_from_its_directory_into_its_own_context()
    {
        Skip.If(plugins.SkipReason is not null, plugins.SkipReason);
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "PreliminarReducers": [{"Name": "usesdependency", "Assembly": {{Quote(plugins.PluginWithDependency)}}}]}
            """);
        var reducer = Assert.Single(CreateAll(configuration));
        Assert.Equal("UsesDependency", reducer.Type);
        new CounterPacket([0x12]).ObserveIn(reducer);
        Assert.Equal("1", Data(reducer).GetRawText());

        var context = AssemblyLoadContext.GetLoadContext(reducer.GetType().Assembly)!;
        var dependency = Assert.Single(context.Assemblies, a => a.GetName().Name == "PluginDependency");
        Assert.Equal(Path.Combine(Path.GetDirectoryName(plugins.PluginWithDependency)!, "PluginDependency.dll"), dependency.Location);
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == "PluginDependency");
    }

    [SkippableFact]
    public void A_missing_dependency_is_reported_on_the_assembly_key()
    {
        Skip.If(plugins.SkipReason is not null, plugins.SkipReason);
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "PreliminarReducers": [{"Name": "UsesDependency", "Assembly": {{Quote(plugins.PluginWithoutDependency)}}}]}
            """);
        var error = Assert.Throws<ConfigurationException>(() => CreateAll(configuration));
        AssertProblem(error, "PreliminarReducers[0].Assembly", "the types of CompiledPlugin.dll cannot be loaded", "PluginDependency");
    }

    [SkippableFact]
    public void A_plugin_reducer_may_not_take_a_built_in_name()
    {
        Skip.If(plugins.SkipReason is not null, plugins.SkipReason);
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "ReducerAssemblies": [{{Quote(plugins.PluginTakingBuiltInName)}}],
             "PreliminarReducers": [{"Name": "TopN"}]}
            """);
        var error = Assert.Throws<ConfigurationException>(() => CreateAll(configuration));
        AssertProblem(error, "ReducerAssemblies[0]", "CompiledClash.dll defines the reducer 'TopN' (CompiledClash.MyTopN), the name of a built-in reducer");
    }
}
