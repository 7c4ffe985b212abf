using System.Globalization;
using System.Text.Json;

namespace RataDns.Reducers.Configuration;

/// <summary>
/// Reads the keys of one JSON object, matching names ignoring case, and records every problem (wrong type, out of
/// range, key given twice, unknown key) with its JSON path instead of stopping at the first. A key is "taken" when
/// read; whatever is left at the end is unknown. JSON <c>null</c> counts as absent.
/// </summary>
public sealed class ConfigurationObjectReader
{
    private readonly Dictionary<string, JsonProperty> _properties = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<JsonProperty> _inOrder = [];
    private readonly HashSet<string> _taken = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ConfigurationProblem> _problems;

    private ConfigurationObjectReader(JsonElement element, string path, List<ConfigurationProblem> problems)
    {
        Path = path;
        _problems = problems;
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (_properties.TryGetValue(property.Name, out JsonProperty first))
            {
                problems.Add(new(ChildPath(property.Name), $"the key is given twice (first as '{first.Name}'); keep one."));
                continue;
            }

            _properties.Add(property.Name, property);
            _inOrder.Add(property);
        }
    }

    /// <summary>The JSON path of this object (empty for the document root).</summary>
    public string Path { get; }

    /// <summary>The problems found so far, shared with the caller.</summary>
    public List<ConfigurationProblem> Problems => _problems;

    /// <summary>A reader over <paramref name="element"/>, or null (and a problem) if it is not an object.</summary>
    public static ConfigurationObjectReader? Open(JsonElement element, string path, List<ConfigurationProblem> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new(path, $"expected an object, found {Describe(element)}."));
            return null;
        }

        return new ConfigurationObjectReader(element, path, problems);
    }

    /// <summary>Describes a JSON value for a message: "a string (\"1000\")", "a number (2.5)", "an array", ...</summary>
    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"a string (\"{Shorten(element.GetString()!)}\")",
        JsonValueKind.Number => $"a number ({element.GetRawText()})",
        JsonValueKind.True or JsonValueKind.False => $"a boolean ({element.GetRawText()})",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    /// <summary>The path of a key of this object, spelled as in the file.</summary>
    public string ChildPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>True if the key is present (and not null), without taking it.</summary>
    public bool Has(string key)
        => _properties.TryGetValue(key, out JsonProperty property) && property.Value.ValueKind != JsonValueKind.Null;

    /// <summary>The key's spelling in the file, or the key itself if it is absent.</summary>
    public string SpellingOf(string key) => _properties.TryGetValue(key, out JsonProperty property) ? property.Name : key;

    /// <summary>
    /// Takes the first present key among <paramref name="keys"/> (a name and its aliases); if more than one is present,
    /// records a problem. Returns false if none is present or the value is null.
    /// </summary>
    public bool TryTake(ReadOnlySpan<string> keys, out JsonElement value, out string path)
    {
        value = default;
        path = ChildPath(keys[0]);
        JsonProperty? found = null;
        foreach (string key in keys)
        {
            if (!_properties.TryGetValue(key, out JsonProperty property))
            {
                continue;
            }

            _taken.Add(key);
            if (found is { } earlier)
            {
                _problems.Add(new(ChildPath(property.Name), $"'{earlier.Name}' and '{property.Name}' mean the same; keep one."));
                continue;
            }

            found = property;
        }

        if (found is not { } chosen)
        {
            return false;
        }

        path = ChildPath(chosen.Name);
        value = chosen.Value;
        return value.ValueKind != JsonValueKind.Null;
    }

    /// <summary>A string value; null if absent or of the wrong type (a problem is recorded).</summary>
    public string? TakeString(params ReadOnlySpan<string> keys)
    {
        if (!TryTake(keys, out JsonElement value, out string path))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            _problems.Add(new(path, $"expected a string, found {Describe(value)}."));
            return null;
        }

        string text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            _problems.Add(new(path, "must not be empty."));
            return null;
        }

        return text;
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>]; null if absent or invalid (a problem is recorded).</summary>
    public int? TakeInt32(string key, int min, int max, string rangeReason)
    {
        if (!TryTake([key], out JsonElement value, out string path))
        {
            return null;
        }

        return ReadInt32(value, path, min, max, rangeReason, _problems);
    }

    /// <summary>A finite number that passes <paramref name="isValid"/>; null if absent or invalid (a problem is recorded).</summary>
    public double? TakeDouble(string key, Func<double, bool> isValid, string rangeReason)
    {
        if (!TryTake([key], out JsonElement value, out string path))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            _problems.Add(new(path, $"expected a number, found {Describe(value)}."));
            return null;
        }

        if (!isValid(number))
        {
            _problems.Add(new(path, $"{number.ToString(CultureInfo.InvariantCulture)}: {rangeReason}"));
            return null;
        }

        return number;
    }

    /// <summary>A boolean; null if absent or of the wrong type (a problem is recorded).</summary>
    public bool? TakeBoolean(string key)
    {
        if (!TryTake([key], out JsonElement value, out string path))
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            _problems.Add(new(path, $"expected true or false, found {Describe(value)}."));
            return null;
        }

        return value.GetBoolean();
    }

    /// <summary>The keys not taken yet, in document order, with their values.</summary>
    public IEnumerable<JsonProperty> Remaining() => _inOrder.Where(p => !_taken.Contains(p.Name));

    /// <summary>Records every key not taken and not in <paramref name="known"/> as unknown, suggesting the closest known key.</summary>
    public void ReportUnknown(IReadOnlyCollection<string> known)
    {
        foreach (JsonProperty property in Remaining())
        {
            if (known.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
            {
                continue; // a known key left untaken because its value was null, or it was already reported
            }

            _problems.Add(new(ChildPath(property.Name), $"unknown key{KeySuggestion.Hint(property.Name, known)}."));
        }
    }

    /// <summary>Reads a whole number in range, recording a problem otherwise.</summary>
    public static int? ReadInt32(JsonElement value, string path, int min, int max, string rangeReason, List<ConfigurationProblem> problems)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            problems.Add(new(path, $"expected a whole number, found {Describe(value)}."));
            return null;
        }

        if (!value.TryGetInt64(out long number))
        {
            problems.Add(new(path, $"expected a whole number, found {value.GetRawText()}."));
            return null;
        }

        if (number < min || number > max)
        {
            problems.Add(new(path, $"{number.ToString(CultureInfo.InvariantCulture)}: {rangeReason}"));
            return null;
        }

        return (int)number;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");
}
