using System.Text.Json;
using System.Text.Json.Nodes;
using RataDns.Reducers.Configuration;

namespace RataDns.App.Service;

/// <summary>
/// Reads a monitor configuration file that may also hold the service's own top-level key <c>User</c> (the account
/// to run as once the capture is open, like <c>--user</c>). The key is taken out and the rest goes to
/// <see cref="MonitorConfigurationLoader"/>, which reports every other problem as usual.
/// </summary>
internal static class ServiceConfigurationFile
{
    /// <summary>The service's key, matched ignoring case like the loader's keys.</summary>
    public const string UserKey = "User";

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and checks <paramref name="path"/>; the <c>User</c> value is null when the key is absent.</summary>
    /// <exception cref="ConfigurationException">The file cannot be read, is not JSON, or has problems.</exception>
    public static (MonitorConfiguration Configuration, string? User) Load(string path)
    {
        JsonObject? root = null;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: DocumentOptions) as JsonObject;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            // Not readable or not JSON (or duplicate keys): the loader says what is wrong, in its own words.
        }

        string? key = root?.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, UserKey, StringComparison.OrdinalIgnoreCase));
        if (root is null || key is null)
        {
            return (MonitorConfigurationLoader.Load(path), null);
        }

        var value = root[key];
        root.Remove(key);
        if (value is not JsonValue text || !text.TryGetValue(out string? user) || user.Length == 0)
        {
            throw new ConfigurationException(path, [new ConfigurationProblem(key, "expected the name of a user account (a non-empty string).")]);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();
        return (MonitorConfigurationLoader.Parse(root.ToJsonString(), path, directory), user);
    }
}
