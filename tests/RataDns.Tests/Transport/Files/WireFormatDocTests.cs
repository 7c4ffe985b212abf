using System.Text.Json;
using RataDns.Reducers;
using RataDns.Tests.Support;

namespace RataDns.Tests.Transport.Files;

/// <summary>docs/wire-format.md cannot silently miss a reducer, and its examples are valid JSON.</summary>
public class WireFormatDocTests
{
    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "wire-format.md"));

    public static TheoryData<string> KnownTypes() => [.. ReducerRegistry.KnownTypes];

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Every_reducer_has_a_heading_or_a_table_row(string type)
    {
        bool found = Lines.Any(line =>
            line.TrimEnd() == "### " + type ||
            line.StartsWith("| " + type + " |", StringComparison.Ordinal));
        Assert.True(found, $"docs/wire-format.md has no '### {type}' heading nor '| {type} |' table row");
    }

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Every_reducer_section_has_a_json_example(string type)
    {
        int heading = Array.FindIndex(Lines, line => line.TrimEnd() == "### " + type);
        Assert.True(heading >= 0, $"no '### {type}' section");
        int open = Array.FindIndex(Lines, heading, line => line == "```json");
        int next = Array.FindIndex(Lines, heading + 1, line => line.StartsWith('#'));
        Assert.True(open > heading && (next < 0 || open < next), $"'### {type}' has no ```json example");
        int close = Array.FindIndex(Lines, open + 1, line => line == "```");
        using var document = JsonDocument.Parse(string.Join('\n', Lines[(open + 1)..close]));
        Assert.True(document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array);
    }
}
