namespace RataDns.Reducers.Configuration;

/// <summary>Fievel's <c>OutputMethod</c> values, plus <c>zmq</c>.</summary>
public enum ReducerOutputMethod
{
    /// <summary><c>stdout</c>: one JSON result per line on standard output (Fievel's default).</summary>
    Stdout,

    /// <summary><c>file</c>: results appended to <c>OutputFile</c>.</summary>
    File,

    /// <summary><c>redis</c>: one PUBLISH per result on <c>RedisChannel</c>.</summary>
    Redis,

    /// <summary><c>zmq</c>: the monitor's ZeroMQ PUB socket (configured under <c>ZeroMq</c>), topic <c>type/serverId</c>.</summary>
    Zmq,
}

/// <summary>Where one reducer's window results go.</summary>
public sealed record ReducerOutputConfiguration
{
    /// <summary>Redis host when <c>RedisServer</c> is absent (the Python client's default, which Fievel relied on).</summary>
    public const string DefaultRedisServer = "localhost";

    /// <summary>Redis port when <c>RedisPort</c> is absent.</summary>
    public const int DefaultRedisPort = 6379;

    /// <summary><c>OutputMethod</c>; default <see cref="ReducerOutputMethod.Stdout"/>.</summary>
    public ReducerOutputMethod Method { get; init; } = ReducerOutputMethod.Stdout;

    /// <summary><c>OutputFile</c> (alias <c>FileName</c>): required for <c>file</c>.</summary>
    public string? FilePath { get; init; }

    /// <summary><c>RedisServer</c> (alias <c>RedisHost</c>); set for <c>redis</c>, default <c>localhost</c>.</summary>
    public string? RedisServer { get; init; }

    /// <summary><c>RedisPort</c>; set for <c>redis</c>, default 6379.</summary>
    public int? RedisPort { get; init; }

    /// <summary><c>RedisChannel</c>; set for <c>redis</c>, default the reducer's name.</summary>
    public string? RedisChannel { get; init; }

    /// <summary><c>MaxFileBytes</c>: rotate the file before it would pass this size (file outputs); null: no limit.</summary>
    public long? MaxFileBytes { get; init; }

    /// <summary><c>RotateSeconds</c>: rotate the file on multiples of this span of wall-clock time; null: never.</summary>
    public TimeSpan? RotateEvery { get; init; }

    /// <summary><c>MaxFiles</c>: rotated files kept (oldest deleted first); null or 0: all.</summary>
    public int? MaxFiles { get; init; }

    /// <summary>A description of the destination, for logs and duplicate detection (e.g. <c>redis localhost:6379 TopN</c>).</summary>
    public string Describe() => Method switch
    {
        ReducerOutputMethod.File => $"file {FilePath}",
        ReducerOutputMethod.Redis => $"redis {RedisServer}:{RedisPort} {RedisChannel}",
        ReducerOutputMethod.Zmq => "zmq",
        _ => "stdout",
    };
}
