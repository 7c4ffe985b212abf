using System.Reflection;
using RataDns.Reducers.Configuration;

namespace RataDns.Reducers.Plugins;

/// <summary>
/// Users' own reducers, from assemblies named in the configuration (an entry's <c>Assembly</c>, or the top-level
/// <c>ReducerAssemblies</c>). Each assembly is loaded once per process, in its own <see cref="PluginLoadContext"/>.
/// A plugin reducer is a public, non-abstract class deriving from <see cref="Reducer"/>, named by its
/// <see cref="ReducerNameAttribute"/> or else its class name (matched ignoring case, as built-in names are), with a
/// public constructor taking the entry's <see cref="ReducerConfiguration"/> (to read its options) or none.
/// Every failure is a <see cref="ConfigurationException"/> naming the JSON path to fix: the assembly's key for a
/// missing file, a file that is not a .NET assembly, types that cannot be loaded, no reducer in it, or a reducer
/// taking a built-in name; the entry's <c>Name</c> for a name that matches no reducer or several; the entry for a
/// constructor that throws.
/// </summary>
internal static class PluginReducerLoader
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, PluginAssembly> Loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// Loads the assemblies <paramref name="configuration"/> may take its reducer from (its own <c>Assembly</c>, or
    /// else all of <c>ReducerAssemblies</c>) and checks that none of their reducers takes a built-in name.
    /// </summary>
    /// <exception cref="ConfigurationException">An assembly cannot be used; every such problem is listed.</exception>
    public static IReadOnlyList<PluginAssembly> LoadFor(ReducerConfiguration configuration, IReadOnlyList<string> builtInNames)
    {
        IReadOnlyList<PluginAssemblyReference> references = configuration.Assembly is { } own ? [own] : configuration.ReducerAssemblies;
        if (references.Count == 0)
        {
            return [];
        }

        var problems = new List<ConfigurationProblem>();
        var assemblies = new List<PluginAssembly>();
        foreach (PluginAssemblyReference reference in references)
        {
            if (Load(reference, problems) is not { } assembly)
            {
                continue;
            }

            foreach (PluginReducerType reducer in assembly.Reducers)
            {
                if (builtInNames.Contains(reducer.Name, StringComparer.OrdinalIgnoreCase))
                {
                    problems.Add(new(
                        reference.ConfigurationPath,
                        $"{assembly.FileName} defines the reducer '{reducer.Name}' ({reducer.Type.FullName}), the name of a built-in reducer; give it another name (rename the class or use [ReducerName(\"...\")])."));
                }
            }

            assemblies.Add(assembly);
        }

        if (problems.Count > 0)
        {
            throw new ConfigurationException(configuration.Origin, problems);
        }

        return assemblies;
    }

    /// <summary>
    /// Creates the reducer <paramref name="configuration"/> names from <paramref name="assemblies"/>, or returns null
    /// if none of them has a reducer of that name.
    /// </summary>
    /// <exception cref="ConfigurationException">The name is ambiguous, the class cannot be constructed, its
    /// constructor throws, or what it builds does not keep the rules (its <see cref="Reducer.Type"/> is not its name).</exception>
    public static Reducer? TryCreate(ReducerConfiguration configuration, IReadOnlyList<PluginAssembly> assemblies)
    {
        var matches = new List<(PluginAssembly Assembly, PluginReducerType Reducer)>();
        foreach (PluginAssembly assembly in assemblies)
        {
            foreach (PluginReducerType reducer in assembly.Reducers)
            {
                if (string.Equals(reducer.Name, configuration.Name, StringComparison.OrdinalIgnoreCase))
                {
                    matches.Add((assembly, reducer));
                }
            }
        }

        if (matches.Count == 0)
        {
            return null;
        }

        if (matches.Count > 1)
        {
            string which = string.Join(", ", matches.Select(m => $"{m.Reducer.Type.FullName} in {m.Assembly.FullPath}"));
            throw Problem(
                configuration,
                $"{configuration.Path}.Name",
                $"'{configuration.Name}' names {matches.Count} reducers: {which}; give them distinct [ReducerName]s, or name the assembly with \"Assembly\" on this entry.");
        }

        return Construct(configuration, matches[0].Assembly, matches[0].Reducer);
    }

    /// <summary>The reducer names of <paramref name="assemblies"/>, for messages.</summary>
    public static IEnumerable<string> NamesIn(IReadOnlyList<PluginAssembly> assemblies)
        => assemblies.SelectMany(a => a.Reducers.Select(r => r.Name));

    private static Reducer Construct(ReducerConfiguration configuration, PluginAssembly assembly, PluginReducerType reducer)
    {
        Type type = reducer.Type;
        ConstructorInfo? withConfiguration = type.GetConstructor([typeof(ReducerConfiguration)]);
        ConstructorInfo? parameterless = withConfiguration is null ? type.GetConstructor(Type.EmptyTypes) : null;
        if (withConfiguration is null && parameterless is null)
        {
            throw Problem(
                configuration,
                $"{configuration.Path}.Name",
                $"{type.FullName} ({assembly.FileName}) has no public constructor taking a ReducerConfiguration, nor a parameterless one.");
        }

        if (parameterless is not null)
        {
            // It cannot read options, so any option would be silently ignored.
            configuration.RejectUnknownOptions();
        }

        Reducer created;
        try
        {
            // DoNotWrapExceptions: a ConfigurationException from the plugin's own option checks (GetInt32Option...)
            // reaches the user as it is, with the option's path.
            object instance = withConfiguration is not null
                ? withConfiguration.Invoke(BindingFlags.DoNotWrapExceptions, binder: null, [configuration], culture: null)
                : parameterless!.Invoke(BindingFlags.DoNotWrapExceptions, binder: null, parameters: null, culture: null);
            created = (Reducer)instance;
            CheckRules(configuration, assembly, reducer, created);
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw new ConfigurationException(
                configuration.Origin,
                [new(configuration.Path, $"creating {type.FullName} ({assembly.FileName}) failed: {e.GetType().Name}: {e.Message}")],
                e);
        }

        return created;
    }

    /// <summary>The rules the host relies on that can be checked once, when the reducer is made.</summary>
    private static void CheckRules(ReducerConfiguration configuration, PluginAssembly assembly, PluginReducerType reducer, Reducer created)
    {
        if (!string.Equals(created.Type, reducer.Name, StringComparison.Ordinal))
        {
            throw Problem(
                configuration,
                $"{configuration.Path}.Name",
                $"{reducer.Type.FullName} ({assembly.FileName}) is named '{reducer.Name}' but its Type is '{created.Type}'; Type must return the name (the class name, or its [ReducerName]), as it is written as the results' type.");
        }

        Reducer empty = created.CreateEmpty();
        if (empty is null || empty.GetType() != created.GetType() || ReferenceEquals(empty, created))
        {
            throw Problem(
                configuration,
                $"{configuration.Path}.Name",
                $"{reducer.Type.FullName}.CreateEmpty() must return a new {reducer.Type.Name} (one per worker thread, merged at each window's end).");
        }
    }

    private static PluginAssembly? Load(PluginAssemblyReference reference, List<ConfigurationProblem> problems)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(reference.FullPath, out PluginAssembly? loaded))
            {
                return loaded;
            }

            if (!File.Exists(reference.FullPath))
            {
                problems.Add(new(reference.ConfigurationPath, $"no such file: {reference.FullPath} (a relative path is taken from the configuration file's directory)."));
                return null;
            }

            if (LoadAssembly(reference, problems) is not { } assembly)
            {
                return null;
            }

            int before = problems.Count;
            var reducers = FindReducers(assembly, reference, problems);
            if (problems.Count > before)
            {
                return null;
            }

            if (reducers.Count == 0)
            {
                problems.Add(new(
                    reference.ConfigurationPath,
                    $"{Path.GetFileName(reference.FullPath)} has no public, non-abstract class deriving from {typeof(Reducer).FullName}."));
                return null;
            }

            var plugin = new PluginAssembly(reference.FullPath, assembly, reducers);
            Loaded.Add(reference.FullPath, plugin);
            return plugin;
        }
    }

    private static Assembly? LoadAssembly(PluginAssemblyReference reference, List<ConfigurationProblem> problems)
    {
        try
        {
            return new PluginLoadContext(reference.FullPath).LoadFromAssemblyPath(reference.FullPath);
        }
        catch (BadImageFormatException)
        {
            problems.Add(new(reference.ConfigurationPath, $"{reference.FullPath} is not a .NET assembly (build the reducer project and name its .dll)."));
        }
        catch (Exception e) when (e is FileLoadException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            // InvalidOperationException: AssemblyDependencyResolver rejects a malformed .deps.json.
            problems.Add(new(reference.ConfigurationPath, $"cannot load {reference.FullPath}: {e.Message}"));
        }

        return null;
    }

    private static List<PluginReducerType> FindReducers(Assembly assembly, PluginAssemblyReference reference, List<ConfigurationProblem> problems)
    {
        var reducers = new List<PluginReducerType>();
        try
        {
            foreach (Type type in assembly.GetExportedTypes())
            {
                if (!type.IsClass || type.IsAbstract || type.ContainsGenericParameters || !type.IsSubclassOf(typeof(Reducer)))
                {
                    continue;
                }

                string name = type.GetCustomAttribute<ReducerNameAttribute>(inherit: false)?.Name ?? type.Name;
                if (string.IsNullOrWhiteSpace(name))
                {
                    problems.Add(new(reference.ConfigurationPath, $"{type.FullName} has an empty [ReducerName]."));
                    continue;
                }

                reducers.Add(new PluginReducerType(name, type));
            }
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException or CustomAttributeFormatException)
        {
            Exception first = e is ReflectionTypeLoadException { LoaderExceptions: [{ } loader, ..] } ? loader : e;
            problems.Add(new(
                reference.ConfigurationPath,
                $"the types of {Path.GetFileName(reference.FullPath)} cannot be loaded (is a dependency missing from its directory?): {first.Message}"));
        }

        return reducers;
    }

    private static ConfigurationException Problem(ReducerConfiguration configuration, string path, string reason)
        => new(configuration.Origin, [new(path, reason)]);
}

/// <summary>One loaded plugin assembly and the reducers it defines.</summary>
internal sealed record PluginAssembly(string FullPath, Assembly Assembly, IReadOnlyList<PluginReducerType> Reducers)
{
    public string FileName => Path.GetFileName(FullPath);
}

/// <summary>A reducer class of a plugin and its name (its <see cref="ReducerNameAttribute"/>, or its class name).</summary>
internal sealed record PluginReducerType(string Name, Type Type);
