using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using static RataDns.Tests.Reducers.Plugins.PluginTestSupport;

namespace RataDns.Tests.Reducers.Plugins;

/// <summary>
/// Every way a plugin can be named wrongly ends in a <see cref="ConfigurationException"/> naming the file, the JSON
/// path to fix and the reason, before any capture starts: the assembly's key for file problems, the entry's Name
/// for name problems, the entry itself when the reducer's constructor fails.
/// </summary>
public sealed class PluginConfigurationErrorTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>Loads a configuration whose third reducer entry is <paramref name="entry"/>, and creates its reducers.</summary>
    private ConfigurationException Refuse(string entry, string topLevel = "")
    {
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", {{topLevel}}
             "PreliminarReducers": [
               {"Name": "QueriesPerSecond"},
               {"Name": "TopN", "N": 3},
               {{entry}}]}
            """);
        return Assert.Throws<ConfigurationException>(() => CreateAll(configuration));
    }

    [Fact]
    public void A_missing_assembly_names_the_Assembly_key_and_the_resolved_path()
    {
        var error = Refuse("""{"Name": "QueriesByLabelCount", "Assembly": "plugins/MyReducers.dll"}""");
        AssertProblem(error, "PreliminarReducers[2].Assembly", "no such file", Path.Combine(_directory.Path, "plugins", "MyReducers.dll"));
    }

    [Fact]
    public void A_file_that_is_not_a_dotnet_assembly_is_refused()
    {
        File.WriteAllText(Path.Combine(_directory.Path, "notes.dll"), "not an assembly");
        var error = Refuse("""{"Name": "QueriesByLabelCount", "Assembly": "notes.dll"}""");
        AssertProblem(error, "PreliminarReducers[2].Assembly", "is not a .NET assembly");
    }

    [Fact]
    public void A_name_the_assembly_does_not_define_lists_what_it_has()
    {
        var error = Refuse($$"""{"Name": "QueriesByLabelCont", "Assembly": {{Quote(ExampleDll)}}}""");
        AssertProblem(error, "PreliminarReducers[2].Name", $"{ExampleFileName} has no reducer 'QueriesByLabelCont'", "did you mean QueriesByLabelCount?", "DoBitRatio");
    }

    [Fact]
    public void An_unknown_name_lists_the_reducers_of_ReducerAssemblies_too()
    {
        var error = Refuse("""{"Name": "DoBitRatios"}""", $"\"ReducerAssemblies\": [{Quote(ExampleDll)}],");
        AssertProblem(error, "PreliminarReducers[2].Name", "unknown reducer 'DoBitRatios'", "did you mean DoBitRatio?", "from ReducerAssemblies: ", "QueriesByLabelCount");
    }

    [Fact]
    public void A_name_defined_by_two_assemblies_is_ambiguous()
    {
        string copy = Path.Combine(_directory.Path, "copy", ExampleFileName);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(ExampleDll, copy);
        var error = Refuse("""{"Name": "DoBitRatio"}""", $"\"ReducerAssemblies\": [{Quote(ExampleDll)}, \"copy/{ExampleFileName}\"],");
        AssertProblem(error, "PreliminarReducers[2].Name", "'DoBitRatio' names 2 reducers", ExampleDll, copy, "\"Assembly\"");

        // Naming the assembly on the entry settles it.
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "ReducerAssemblies": [{{Quote(ExampleDll)}}, "copy/{{ExampleFileName}}"],
             "PreliminarReducers": [{"Name": "DoBitRatio", "Assembly": "copy/{{ExampleFileName}}"}]}
            """);
        Assert.Equal(copy, Assert.Single(CreateAll(configuration)).GetType().Assembly.Location);
    }

    [Fact]
    public void A_plugin_entry_may_not_name_a_built_in_reducer()
    {
        var error = Refuse($$"""{"Name": "TopNQ", "Assembly": {{Quote(ExampleDll)}}}""");
        AssertProblem(error, "PreliminarReducers[2].Name", "'TopNQ' is a built-in reducer", "DoBitRatio", "remove \"Assembly\"");
    }

    [Fact]
    public void The_plugin_option_checks_report_the_option_path()
    {
        var error = Refuse($$"""{"Name": "QueriesByLabelCount", "Assembly": {{Quote(ExampleDll)}}, "MaxLabels": 500}""");
        AssertProblem(error, "PreliminarReducers[2].MaxLabels", "500", "between 1 and 127");

        error = Refuse($$"""{"Name": "QueriesByLabelCount", "Assembly": {{Quote(ExampleDll)}}, "MaxLabel": 5}""");
        AssertProblem(error, "PreliminarReducers[2].MaxLabel", "did you mean MaxLabels?");

        error = Refuse($$"""{"Name": "DoBitRatio", "Assembly": {{Quote(ExampleDll)}}, "IncludeResponses": "yes"}""");
        AssertProblem(error, "PreliminarReducers[2].IncludeResponses", "expected true or false");
    }

    [Fact]
    public void A_constructor_that_throws_is_reported_on_the_entry()
    {
        var error = Refuse($$"""{"Name": "ThrowingTestReducer", "Assembly": {{Quote(TestAssemblyDll)}}}""");
        AssertProblem(error, "PreliminarReducers[2]", "ThrowingTestReducer", "InvalidOperationException: the lookup table is missing");
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public void A_reducer_that_cannot_be_constructed_or_breaks_the_naming_rule_is_refused()
    {
        var error = Refuse($$"""{"Name": "UnconstructibleTestReducer", "Assembly": {{Quote(TestAssemblyDll)}}}""");
        AssertProblem(error, "PreliminarReducers[2].Name", "no public constructor taking a ReducerConfiguration");

        error = Refuse($$"""{"Name": "MisnamedTestReducer", "Assembly": {{Quote(TestAssemblyDll)}}}""");
        AssertProblem(error, "PreliminarReducers[2].Name", "its Type is 'SomethingElse'");

        error = Refuse($$"""{"Name": "ParameterlessTestReducer", "Assembly": {{Quote(TestAssemblyDll)}}, "Capacity": 4}""");
        AssertProblem(error, "PreliminarReducers[2].Capacity", "ParameterlessTestReducer takes no options");
    }

    [Fact]
    public void A_top_level_assembly_problem_names_its_ReducerAssemblies_item()
    {
        var error = Refuse("""{"Name": "DoBitRatio"}""", $"\"ReducerAssemblies\": [{Quote(ExampleDll)}, \"missing.dll\"],");
        AssertProblem(error, "ReducerAssemblies[1]", "no such file", Path.Combine(_directory.Path, "missing.dll"));

        // Listed assemblies are loaded (and checked) even when the entries only name built-in reducers.
        var configuration = Load(_directory.Path, """
            {"InputMethod": "stdin", "ReducerAssemblies": ["missing.dll"], "PreliminarReducers": [{"Name": "TopN"}]}
            """);
        AssertProblem(Assert.Throws<ConfigurationException>(() => CreateAll(configuration)), "ReducerAssemblies[0]", "no such file");
    }

    [Fact]
    public void The_loader_checks_the_assembly_keys_themselves()
    {
        string path = Path.Combine(_directory.Path, "monitor.json");
        File.WriteAllText(path, """
            {"InputMethod": "stdin", "ReducerAssemblies": ["a.dll", "./a.dll", 7],
             "PreliminarReducers": [{"Name": "X", "Asembly": "a.dll"}, {"Name": "Y", "Assembly": 3}]}
            """);
        var error = Assert.Throws<ConfigurationException>(() => MonitorConfigurationLoader.Load(path));
        Assert.Equal(
            [
                "PreliminarReducers[0].Asembly: unknown key (did you mean Assembly?).",
                "PreliminarReducers[1].Assembly: expected a string, found a number (3).",
                $"ReducerAssemblies[1]: {Path.Combine(_directory.Path, "a.dll")} is already listed (ReducerAssemblies[0]).",
                "ReducerAssemblies[2]: expected a non-empty string, found a number (7).",
            ],
            error.Problems.Select(p => p.ToString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Assembly_paths_are_resolved_against_the_configuration_directory()
    {
        var configuration = Load(_directory.Path, """
            {"InputMethod": "stdin", "ReducerAssemblies": ["lib/a.dll", "/opt/b.dll"],
             "PreliminarReducers": [{"Name": "X", "Assembly": "../c.dll", "MaxLabels": 3}]}
            """);
        Assert.Equal([Path.Combine(_directory.Path, "lib", "a.dll"), "/opt/b.dll"], configuration.ReducerAssemblies);
        var entry = Assert.Single(configuration.Reducers);
        Assert.Equal(Path.GetFullPath(Path.Combine(_directory.Path, "..", "c.dll")), entry.Assembly!.FullPath);
        Assert.Equal("PreliminarReducers[0].Assembly", entry.Assembly.ConfigurationPath);
        Assert.Equal(["MaxLabels"], entry.Options.Keys);
        Assert.Equal(["ReducerAssemblies[0]", "ReducerAssemblies[1]"], entry.ReducerAssemblies.Select(a => a.ConfigurationPath));
    }

    [Fact]
    public void Built_in_reducers_are_unaffected_by_plugin_assemblies()
    {
        var configuration = Load(_directory.Path, $$"""
            {"InputMethod": "stdin", "ReducerAssemblies": [{{Quote(ExampleDll)}}],
             "PreliminarReducers": [{"Name": "TopN", "N": 2}, {"Name": "qtypecounter"}]}
            """);
        Assert.Equal(["TopN", "QtypeCounter"], CreateAll(configuration).Select(r => r.Type));
        Assert.DoesNotContain("DoBitRatio", ReducerRegistry.KnownTypes);
    }
}
