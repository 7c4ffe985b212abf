using System.Collections.ObjectModel;
using System.Text.Json;
using RataDns.Reducers.Plugins;

namespace RataDns.Reducers.Configuration;

/// <summary>
/// One entry of <c>PreliminarReducers</c>: which reducer (<see cref="Name"/>), where its results go
/// (<see cref="Output"/>), and every other key of the entry as the reducer's own <see cref="Options"/> (e.g. TopN's
/// <c>N</c>), which the reducer reads with <see cref="GetInt32Option"/> and checks with <see cref="RejectUnknownOptions"/>.
/// </summary>
public sealed record ReducerConfiguration
{
    private static readonly IReadOnlyDictionary<string, JsonElement> NoOptions
        = new ReadOnlyDictionary<string, JsonElement>(new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase));

    /// <summary><c>Name</c> (or <c>Type</c>): the reducer's type, e.g. <c>QueriesPerSecond</c>; also the <c>type</c> of its results.</summary>
    public required string Name { get; init; }

    /// <summary>Where the results go; default stdout.</summary>
    public ReducerOutputConfiguration Output { get; init; } = new();

    /// <summary>The reducer's own keys, matched ignoring case, values as written (cloned: they outlive the document).</summary>
    public IReadOnlyDictionary<string, JsonElement> Options { get; init; } = NoOptions;

    /// <summary>
    /// <c>Assembly</c>: the user's assembly this entry's reducer comes from (a plugin), resolved against the
    /// configuration file's directory; null for a built-in reducer or one found in <see cref="ReducerAssemblies"/>.
    /// </summary>
    public PluginAssemblyReference? Assembly { get; init; }

    /// <summary>
    /// The top-level <c>ReducerAssemblies</c>: where a reducer named without <see cref="Assembly"/> is looked for
    /// when it is not a built-in one.
    /// </summary>
    public IReadOnlyList<PluginAssemblyReference> ReducerAssemblies { get; init; } = [];

    /// <summary>The entry's JSON path, e.g. <c>PreliminarReducers[1]</c>, for messages.</summary>
    public string Path { get; init; } = string.Empty;

    /// <summary>The file the entry came from, for messages.</summary>
    public string Origin { get; init; } = string.Empty;

    /// <summary>
    /// The whole-number option <paramref name="key"/>, or <paramref name="defaultValue"/> if absent.
    /// </summary>
    /// <exception cref="ConfigurationException">The value is not a whole number in [<paramref name="min"/>, <paramref name="max"/>].</exception>
    public int GetInt32Option(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!TryGetOption(key, out JsonElement value, out string path))
        {
            return defaultValue;
        }

        var problems = new List<ConfigurationProblem>();
        int? number = ConfigurationObjectReader.ReadInt32(value, path, min, max, $"expected between {min} and {max}.", problems);
        return number ?? throw new ConfigurationException(Origin, problems);
    }

    /// <summary>The string option <paramref name="key"/>, or <paramref name="defaultValue"/> if absent.</summary>
    /// <exception cref="ConfigurationException">The value is not a string.</exception>
    public string? GetStringOption(string key, string? defaultValue = null)
    {
        if (!TryGetOption(key, out JsonElement value, out string path))
        {
            return defaultValue;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new ConfigurationException(Origin, [new(path, $"expected a string, found {ConfigurationObjectReader.Describe(value)}.")]);
        }

        return value.GetString();
    }

    /// <summary>The boolean option <paramref name="key"/>, or <paramref name="defaultValue"/> if absent.</summary>
    /// <exception cref="ConfigurationException">The value is not true or false.</exception>
    public bool GetBooleanOption(string key, bool defaultValue)
    {
        if (!TryGetOption(key, out JsonElement value, out string path))
        {
            return defaultValue;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new ConfigurationException(Origin, [new(path, $"expected true or false, found {ConfigurationObjectReader.Describe(value)}.")]);
        }

        return value.GetBoolean();
    }

    /// <summary>The option <paramref name="key"/> (ignoring case, null counts as absent) and its JSON path.</summary>
    public bool TryGetOption(string key, out JsonElement value, out string path)
    {
        path = $"{Path}.{key}";
        foreach (var (name, element) in Options)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase))
            {
                path = $"{Path}.{name}";
                value = element;
                return element.ValueKind != JsonValueKind.Null;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Fails on any option not in <paramref name="knownKeys"/>, suggesting the closest known key.</summary>
    /// <exception cref="ConfigurationException">One problem per unknown option.</exception>
    public void RejectUnknownOptions(params IReadOnlyCollection<string> knownKeys)
    {
        var problems = new List<ConfigurationProblem>();
        foreach (string name in Options.Keys)
        {
            if (!knownKeys.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                string known = knownKeys.Count == 0 ? $"{Name} takes no options" : $"{Name} takes {string.Join(", ", knownKeys)}";
                problems.Add(new($"{Path}.{name}", $"unknown key{KeySuggestion.Hint(name, knownKeys)}; {known}."));
            }
        }

        if (problems.Count > 0)
        {
            throw new ConfigurationException(Origin, problems);
        }
    }
}
