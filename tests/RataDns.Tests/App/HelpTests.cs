using RataDns.App;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// Every subcommand's <c>--help</c>, from the real program: exits 0 (even without the options a run requires), and
/// shows an Examples section of 2 to 4 command lines that the program's own parser accepts for that subcommand,
/// and the exit status.
/// </summary>
public class HelpTests
{
    public static TheoryData<string> Subcommands => new() { "serialize", "gen", "inspect", "monitor", "keygen", "aggregate" };

    [Theory]
    [MemberData(nameof(Subcommands))]
    public void Help_exits_0_and_its_examples_parse(string subcommand)
    {
        int exit = ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), subcommand, "--help"], out string help, out string errors);

        Assert.True(exit == 0, errors);
        Assert.Contains("Usage:", help);
        Assert.Contains($"  ratadns {subcommand} ", help);
        Assert.Contains("Options:", help);
        Assert.Contains("--log-level", help);
        Assert.Contains("Exit status:", help);
        Assert.Contains("  2  usage", help);

        // The example command lines, as printed: the lines of the section that start with "ratadns".
        var lines = help.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int start = lines.IndexOf("Examples:");
        Assert.True(start >= 0, help);
        var examples = lines.Skip(start + 1).TakeWhile(l => l.Length > 0).Where(l => l.StartsWith("  ratadns ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.InRange(examples.Count, 2, 4);
        foreach (string example in examples)
        {
            Assert.DoesNotContain("\"", example); // split on spaces below: no quoting in the examples
            var tokens = example.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var parsed = Program.BuildRoot().Parse(tokens[1..]);
            Assert.True(parsed.Errors.Count == 0, $"{example}: {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
            Assert.Equal(subcommand, parsed.CommandResult.Command.Name);
        }
    }

    [Fact]
    public void A_misspelled_option_is_still_a_usage_error()
    {
        // The check that lets --help through without --config must not let other parse errors through.
        Assert.Equal(2, ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), "monitor", "--windwo", "1s"], out _, out string errors));
        Assert.Contains("ratadns:", errors);
        Assert.NotEmpty(Program.BuildRoot().Parse(["monitor", "-c", "x.json", "--log-level", "loud"]).Errors);
    }
}
