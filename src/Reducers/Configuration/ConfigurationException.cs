namespace RataDns.Reducers.Configuration;

/// <summary>One thing wrong with a configuration: where (a JSON path such as <c>PreliminarReducers[1].RedisPort</c>, or a command-line flag) and why.</summary>
/// <param name="Path">The JSON path of the key as spelled in the file (empty for the whole document), or a flag such as <c>--speed</c>.</param>
/// <param name="Reason">What is wrong and, where it helps, what would be right.</param>
public sealed record ConfigurationProblem(string Path, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => Path.Length == 0 ? Reason : $"{Path}: {Reason}";
}

/// <summary>
/// A configuration that cannot be used: every problem found in one pass, each naming its key and reason, prefixed by
/// the origin (the file name, or "command line" for overrides). Thrown before any capture starts.
/// </summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(string origin, IReadOnlyList<ConfigurationProblem> problems)
        : base(FormatMessage(origin, problems))
    {
        Origin = origin;
        Problems = problems;
    }

    public ConfigurationException(string origin, IReadOnlyList<ConfigurationProblem> problems, Exception innerException)
        : base(FormatMessage(origin, problems), innerException)
    {
        Origin = origin;
        Problems = problems;
    }

    /// <summary>Where the configuration came from: a file name, or "command line".</summary>
    public string Origin { get; }

    /// <summary>The problems, in the order the loader checks the keys (not necessarily document order); never empty.</summary>
    public IReadOnlyList<ConfigurationProblem> Problems { get; }

    private static string FormatMessage(string origin, IReadOnlyList<ConfigurationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (problems.Count == 0)
        {
            throw new ArgumentException("A configuration exception needs at least one problem.", nameof(problems));
        }

        if (problems.Count == 1)
        {
            return $"{origin}: {problems[0]}";
        }

        return $"{origin}: {problems.Count} problems:{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", problems.Select(p => p.ToString()));
    }
}
