namespace RataDns.Transport.Redis;

/// <summary>Where a <see cref="RedisPublisher"/> connects and how much it holds while the server is slow or away.</summary>
public sealed record RedisPublisherOptions
{
    /// <summary>Host name or address (Fievel's <c>RedisServer</c>); default <c>localhost</c>.</summary>
    public string Host { get; init; } = "localhost";

    /// <summary>TCP port (Fievel's <c>RedisPort</c>); default 6379.</summary>
    public int Port { get; init; } = 6379;

    /// <summary>How long one connection attempt (name resolution included) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a send or a reply may take before the server counts as away (a stopped or overloaded server that
    /// keeps the connection open).
    /// </summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Results waiting for the sender thread; a result published when the queue is full is dropped.</summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>Delay before the first reconnection attempt of an outage; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between two reconnection attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host);
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(QueueCapacity, 1 << 20);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReplyTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FirstRetryDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, FirstRetryDelay);
    }
}
