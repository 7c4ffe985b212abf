namespace RataDns.Configuration;

/// <summary>
/// Command-line flags that win over the file (<c>--server-id</c>, <c>--window</c>, <c>--input-method</c>,
/// <c>--input-source</c>, <c>--speed</c>, <c>--filter</c>, <c>--workers</c>); null leaves the file's value.
/// Applied with <see cref="MonitorConfiguration.WithOverrides"/>.
/// </summary>
public sealed record ConfigurationOverrides
{
    /// <summary><c>--server-id</c>.</summary>
    public string? ServerId { get; init; }

    /// <summary><c>--window</c> (see <see cref="WindowConfiguration.TryParse"/>); replaces either kind of window.</summary>
    public WindowConfiguration? Window { get; init; }

    /// <summary><c>--input-method</c> (see <see cref="ConfigurationNames.TryParseInputMethod"/>).</summary>
    public CaptureInputMethod? InputMethod { get; init; }

    /// <summary><c>--input-source</c>: a file or interface; the input method stays the file's unless also overridden.</summary>
    public string? InputSource { get; init; }

    /// <summary><c>--speed</c>.</summary>
    public double? Speed { get; init; }

    /// <summary><c>--filter</c>.</summary>
    public string? Filter { get; init; }

    /// <summary><c>--workers</c>.</summary>
    public int? Workers { get; init; }

    /// <summary>
    /// <c>--port</c>: the DNS ports; when neither the file nor the command line gives a filter, the live capture's
    /// filter follows them (<c>port 5300 or port 53</c>).
    /// </summary>
    public IReadOnlyList<int>? Ports { get; init; }
}
