using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// The program as it is deployed: the single file made by <c>scripts/publish.sh</c>, copied ALONE into an empty
/// directory with the sample and a configuration, run with a minimal environment (PATH=/usr/bin:/bin, no
/// DOTNET_ROOT, HOME in the temp directory) and, where a mount namespace can be made, with the machine's .NET
/// installation hidden under an empty tmpfs, so that /usr/bin/dotnet leads nowhere. It must give the same results
/// as the framework-dependent build run by <c>dotnet</c>.
/// </summary>
public sealed class PublishedBinaryTests : IDisposable
{
    private static readonly string Published = Path.Combine(RepoPaths.Root, "artifacts", "publish", "ratadns");
    private static readonly string NotPublished = $"{Published} is absent: run scripts/publish.sh first (scripts/test.sh does)";

    private readonly string _directory = Directory.CreateTempSubdirectory("ratadns-published-").FullName;

    public PublishedBinaryTests()
    {
        if (File.Exists(Published))
        {
            File.Copy(Published, Path.Combine(_directory, "ratadns")); // keeps the mode: executable
        }

        File.Copy(Path.Combine(RepoPaths.Root, "samples", "sample.pcap"), Path.Combine(_directory, "sample.pcap"));
        File.WriteAllText(Path.Combine(_directory, "monitor.json"), """
            {"ServerId": "published", "InputMethod": "capture_file", "InputSource": "sample.pcap", "WindowMilliseconds": 1000}
            """);
    }

    /// <summary>The framework-dependent build, <c>dotnet ratadns.dll</c>: the one beside the sources, else the test's copy.</summary>
    private static string FrameworkDependentDll
    {
        get
        {
            string built = Path.Combine(RepoPaths.Root, "src", "RataDns", "bin", "Release", "net10.0", "ratadns.dll");
            return File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "ratadns.dll");
        }
    }

    /// <summary>The .NET installation the tests run on (…/shared/Microsoft.NETCore.App/VERSION/ is three levels down).</summary>
    private static string DotnetRoot => Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [SkippableFact]
    public void The_directory_holds_nothing_but_the_program_the_sample_and_the_config()
    {
        Skip.IfNot(File.Exists(Published), NotPublished);
        Assert.Equal(["monitor.json", "ratadns", "sample.pcap"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // ldd, not our code, lists what the dynamic loader needs: nothing from the .NET installation, nothing missing.
        Skip.IfNot(File.Exists("/usr/bin/ldd"), "ldd is not installed");
        Assert.Equal(0, ExternalTool.Run("/usr/bin/ldd", [Path.Combine(_directory, "ratadns")], out var libraries, out var lddErrors));
        Assert.DoesNotContain("not found", libraries, StringComparison.Ordinal);
        Assert.DoesNotContain(DotnetRoot.TrimEnd('/'), libraries, StringComparison.Ordinal);
        Assert.Empty(lddErrors);
    }

    [SkippableFact]
    public void Monitor_gives_the_same_results_as_the_framework_dependent_build()
    {
        Skip.IfNot(File.Exists(Published), NotPublished);
        int exit = RunPublished(["monitor", "-c", "monitor.json"], out var published, out var errors, out bool hidden);
        Assert.True(exit == 0, $"exit {exit}, .NET hidden: {hidden}: {errors}");

        int referenceExit = RunFrameworkDependent(["monitor", "-c", "monitor.json"], out var reference, out var referenceErrors);
        Assert.True(referenceExit == 0, referenceErrors);

        var expected = ResultLines(reference);
        var actual = ResultLines(published);

        // The default reducer set over the 10 s sample in 1 s windows: many types, every window.
        Assert.True(expected.Count >= 50, $"only {expected.Count} result lines from the reference");
        Assert.True(expected.Select(l => l.Type).Distinct().Count() >= 5, "fewer than 5 result types from the reference");
        Assert.Equal(expected.Select(l => l.Canonical), actual.Select(l => l.Canonical));
        Assert.All(actual, l => Assert.Equal("published", l.ServerId));
    }

    [SkippableFact]
    public void Serialize_writes_the_same_bytes_as_the_framework_dependent_build()
    {
        Skip.IfNot(File.Exists(Published), NotPublished);
        string[] arguments = ["serialize", "--ndjson", "--addresses", "plain", "sample.pcap"];
        Assert.Equal(0, RunPublished(arguments, out var published, out var errors, out _));
        Assert.Equal(0, RunFrameworkDependent(arguments, out var reference, out _));
        Assert.True(reference.Length > 100_000, errors);
        Assert.Equal(reference, published);
    }

    [SkippableFact]
    public void Version_and_help_work()
    {
        Skip.IfNot(File.Exists(Published), NotPublished);
        Assert.Equal(0, RunPublished(["--version"], out var version, out var versionErrors, out _));
        Assert.Equal(0, RunFrameworkDependent(["--version"], out var referenceVersion, out _));
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        // The same version; the commit after '+' is the one each was built at, which may differ while editing.
        Assert.Equal(referenceVersion.Split('+')[0], version.Split('+')[0]);
        Assert.Empty(versionErrors);

        Assert.Equal(0, RunPublished(["--help"], out var help, out _, out _));
        foreach (var command in new[] { "serialize", "gen", "inspect", "monitor", "keygen", "aggregate" })
        {
            Assert.Contains(command, help, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void Hiding_the_dotnet_installation_does_stop_a_framework_dependent_program()
    {
        // The control for the tests above: without it, "ran with .NET hidden" could mean the hiding did nothing.
        Skip.IfNot(File.Exists(Published), NotPublished);
        string apphost = Path.ChangeExtension(FrameworkDependentDll, null);
        Skip.IfNot(File.Exists(apphost), $"{apphost} (the framework-dependent launcher) is absent");
        Skip.IfNot(CanHide(), "no mount namespace here (unshare -m as root): the .NET installation cannot be hidden");

        int exit = RunHidden(apphost, ["--version"], out _, out var errors);
        Assert.NotEqual(0, exit);
        Assert.Contains(".NET", errors, StringComparison.Ordinal);

        Assert.Equal(0, RunHidden(Path.Combine(_directory, "ratadns"), ["--version"], out var version, out _));
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
    }

    private sealed record ResultLine(string Type, string ServerId, string Canonical);

    /// <summary>
    /// Each line's type, server and content with the time fields left out (<c>timeStamp</c>, the window's
    /// <c>start</c> and <c>end</c>), in a stable order.
    /// </summary>
    private static List<ResultLine> ResultLines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line =>
            {
                var node = JsonNode.Parse(line)!.AsObject();
                node.Remove("timeStamp");
                if (node["window"] is JsonObject window)
                {
                    window.Remove("start");
                    window.Remove("end");
                }

                return new ResultLine((string)node["type"]!, (string)node["serverId"]!, node.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            })
            .OrderBy(l => l.Canonical, StringComparer.Ordinal)];

    private int RunPublished(string[] arguments, out string stdout, out string stderr, out bool hidden)
    {
        string program = Path.Combine(_directory, "ratadns");
        hidden = CanHide();
        return hidden ? RunHidden(program, arguments, out stdout, out stderr) : Run(program, arguments, minimal: true, out stdout, out stderr);
    }

    private int RunFrameworkDependent(string[] arguments, out string stdout, out string stderr) =>
        Run("dotnet", [FrameworkDependentDll, .. arguments], minimal: false, out stdout, out stderr);

    /// <summary>Runs PROGRAM in a new mount namespace where the .NET installation is an empty tmpfs.</summary>
    private int RunHidden(string program, string[] arguments, out string stdout, out string stderr) =>
        Run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs none \"$0\" && exec \"$@\"", DotnetRoot, program, .. arguments],
            minimal: true, out stdout, out stderr);

    private static bool? _canHide;

    private static bool CanHide()
    {
        _canHide ??= File.Exists("/usr/bin/unshare")
            && ExternalTool.Run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs none \"$0\" && ! test -e \"$0/dotnet\"", DotnetRoot], out _, out _) == 0;
        return _canHide.Value;
    }

    private int Run(string file, string[] arguments, bool minimal, out string stdout, out string stderr)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        if (minimal)
        {
            // Only what a bare systemd service has: no DOTNET_* variables, no dotnet directories on PATH.
            info.Environment.Clear();
            info.Environment["PATH"] = "/usr/bin:/bin";
            info.Environment["HOME"] = _directory;
        }

        using var process = Process.Start(info)!;
        var outTask = process.StandardOutput.ReadToEndAsync();
        var errTask = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in 120 s");
        }

        stdout = outTask.GetAwaiter().GetResult();
        stderr = errTask.GetAwaiter().GetResult();
        return process.ExitCode;
    }
}
