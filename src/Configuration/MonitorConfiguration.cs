using System.Globalization;

using RataDns.Reducers.Configuration;

namespace RataDns.Configuration;

/// <summary>
/// Everything the <c>monitor</c> command needs, as read by <see cref="MonitorConfigurationLoader"/> from a RaTA DNS /
/// Fievel JSON file (flat, or with the capture keys under <c>"Capture"</c>) plus RataDns's own keys, and then
/// adjusted by command-line flags through <see cref="WithOverrides"/>.
/// </summary>
public sealed record MonitorConfiguration
{
    /// <summary>The default window when the file gives neither <c>WindowSize</c> nor <c>WindowMilliseconds</c>: one second of packet time.</summary>
    public static readonly WindowConfiguration DefaultWindow = WindowConfiguration.OfDuration(TimeSpan.FromSeconds(1));

    /// <summary>The default DNS ports when <c>Ports</c> is absent.</summary>
    public static readonly IReadOnlyList<int> DefaultPorts = [53];

    /// <summary>The most worker threads accepted.</summary>
    public const int MaxWorkers = 1024;

    /// <summary><c>ServerId</c>: the <c>serverId</c> of every result; default the machine name.</summary>
    public required string ServerId { get; init; }

    /// <summary><c>WindowSize</c> (packets) or <c>WindowMilliseconds</c> (packet time); default <see cref="DefaultWindow"/>.</summary>
    public WindowConfiguration Window { get; init; } = DefaultWindow;

    /// <summary>The capture keys, at the top level or under <c>Capture</c>.</summary>
    public CaptureConfiguration Capture { get; init; } = new();

    /// <summary><c>PreliminarReducers</c> (alias <c>Reducers</c>), in file order; at least one.</summary>
    public required IReadOnlyList<ReducerConfiguration> Reducers { get; init; }

    /// <summary><c>Workers</c>: worker threads, 1 to <see cref="MaxWorkers"/>; null (default) lets the monitor choose.</summary>
    public int? Workers { get; init; }

    /// <summary><c>Ports</c>: UDP/TCP ports whose traffic is DNS; default 53.</summary>
    public IReadOnlyList<int> Ports { get; init; } = DefaultPorts;

    /// <summary><c>ZeroMq</c>: the PUB socket of reducers whose output is zmq; null if absent (defaults then).</summary>
    public ZeroMqConfiguration? ZeroMq { get; init; }

    /// <summary><c>AnonymizationKeyFile</c>: the key file of the address anonymizer; null (default) for no anonymization key file.</summary>
    public string? AnonymizationKeyFile { get; init; }

    /// <summary><c>User</c>: the account to change to once the capture and outputs are open (root only); null: stay.</summary>
    public string? User { get; init; }

    /// <summary><c>ReducerAssemblies</c>: assemblies holding users' own reducers, as full paths (relative ones are taken from the configuration file's directory); default none.</summary>
    public IReadOnlyList<string> ReducerAssemblies { get; init; } = [];

    /// <summary>Where the configuration came from (the file name), for messages.</summary>
    public string Origin { get; init; } = string.Empty;

    /// <summary>This configuration with the command-line flags that are set replacing the file's values.</summary>
    /// <exception cref="ConfigurationException">A flag's value is invalid, or the result is (origin "command line", paths are flag names).</exception>
    public MonitorConfiguration WithOverrides(ConfigurationOverrides overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var problems = new List<ConfigurationProblem>();
        if (overrides.ServerId is { } serverId && string.IsNullOrWhiteSpace(serverId))
        {
            problems.Add(new("--server-id", "must not be empty."));
        }

        if (overrides.Speed is { } speed && !(speed >= 0 && double.IsFinite(speed)))
        {
            problems.Add(new("--speed", $"{speed.ToString(CultureInfo.InvariantCulture)}: the speed is 0 (as fast as possible) or a positive factor."));
        }

        if (overrides.Filter is { } filter && string.IsNullOrWhiteSpace(filter))
        {
            problems.Add(new("--filter", "must not be empty."));
        }

        if (overrides.InputSource is { } source && string.IsNullOrWhiteSpace(source))
        {
            problems.Add(new("--input-source", "must not be empty."));
        }

        if (overrides.Workers is { } workers && (workers < 1 || workers > MaxWorkers))
        {
            problems.Add(new("--workers", $"{workers}: between 1 and {MaxWorkers}."));
        }

        if (overrides.Ports is { } ports && (ports.Count == 0 || ports.Any(p => p is < 1 or > 65535)))
        {
            problems.Add(new("--port", $"{string.Join(' ', ports)}: ports from 1 to 65535."));
        }

        string? portFilter = overrides.Ports is { Count: > 0 } givenPorts && overrides.Filter is null && Capture.Filter == CaptureConfiguration.DefaultFilter
            ? string.Join(" or ", givenPorts.Distinct().Select(p => $"port {p.ToString(CultureInfo.InvariantCulture)}"))
            : null;
        var capture = Capture with
        {
            InputMethod = overrides.InputMethod ?? Capture.InputMethod,
            InputSource = overrides.InputSource ?? Capture.InputSource,
            Speed = overrides.Speed ?? Capture.Speed,
            Filter = overrides.Filter ?? portFilter ?? Capture.Filter,
        };
        if (capture.InputMethod != CaptureInputMethod.Stdin && capture.InputSource is null)
        {
            problems.Add(new(
                overrides.InputMethod is null ? "--input-source" : "--input-method",
                $"{ConfigurationNames.NameOf(capture.InputMethod)} needs an input source (--input-source or InputSource in {Origin})."));
        }

        if (problems.Count > 0)
        {
            throw new ConfigurationException("command line", problems);
        }

        return this with
        {
            ServerId = overrides.ServerId ?? ServerId,
            Window = overrides.Window ?? Window,
            Workers = overrides.Workers ?? Workers,
            Ports = overrides.Ports is { Count: > 0 } newPorts ? [.. newPorts.Distinct()] : Ports,
            Capture = capture,
        };
    }
}
