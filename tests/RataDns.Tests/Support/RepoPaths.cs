namespace RataDns.Tests.Support;

/// <summary>Finds the repository root and the shared corpus next to it.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>../shared/corpus beside the repository, or null when it is not there.</summary>
    public static string? Corpus
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("RATADNS_CORPUS");
            var path = env ?? Path.GetFullPath(Path.Combine(Root, "..", "shared", "corpus"));
            return File.Exists(Path.Combine(path, "INDEX.tsv")) ? path : null;
        }
    }

    public const string CorpusMissing = "../shared/corpus is not next to the repository (set RATADNS_CORPUS to its path)";

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RataDns.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("RataDns.slnx not found above " + AppContext.BaseDirectory);
    }
}
