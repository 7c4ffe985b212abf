namespace RataDns.Transport.Publishing;

/// <summary>
/// One window result on its way out: the reducer's type, the monitor's server id, the channel name (Redis channel,
/// or the reducer's type by default) and the result in the JSON envelope (<c>{"type","serverId","timeStamp","data",
/// "window"}</c>, UTF-8, one object, no newline), with the reducer's mergeable state (the MessagePack container of
/// <c>RataDns.Reducers.State.ReducerState</c>) when a channel that carries it is among the outputs
/// (<see cref="IResultChannel.CarriesState"/>; empty otherwise). Valid only during <see cref="IResultChannel.Publish"/>.
/// </summary>
public readonly ref struct ResultEnvelope(string type, string serverId, string channel, ReadOnlySpan<byte> json, ReadOnlySpan<byte> state = default)
{
    public string Type { get; } = type;

    public string ServerId { get; } = serverId;

    public string Channel { get; } = channel;

    public ReadOnlySpan<byte> Json { get; } = json;

    /// <summary>The state container, or empty (the reducer has none, or no output carries it).</summary>
    public ReadOnlySpan<byte> State { get; } = state;
}

/// <summary>
/// Where window results go (standard output, a file, Redis, ZeroMQ). <see cref="Publish"/> is called on the engine's
/// merger thread and must never block for long: a channel that cannot keep up drops the result and counts it
/// (capture never waits on a subscriber or a server). A channel that owns a socket owns one thread for it, fed
/// through a bounded queue.
/// </summary>
public interface IResultChannel : IDisposable
{
    /// <summary>For messages: "zmq tcp://127.0.0.1:5556", "redis 127.0.0.1:6379", "file out.ndjson", ...</summary>
    string Describe();

    /// <summary>Takes one result; false when it was dropped (counted in <see cref="Statistics"/>).</summary>
    bool Publish(in ResultEnvelope result);

    /// <summary>
    /// True for a channel that sends each result's mergeable state with its view (ZeroMQ, to aggregators); the
    /// window writer then writes the state. Other channels send the view alone, exactly the Fievel envelope.
    /// </summary>
    bool CarriesState => false;

    /// <summary>Called after every result of a window was published (files flush here).</summary>
    void EndOfWindow();

    /// <summary>Counters, readable from any thread.</summary>
    ChannelStatistics Statistics { get; }
}

/// <summary>Results sent, dropped (queue full, peer slow or away) and failures seen by one channel.</summary>
public sealed class ChannelStatistics
{
    private long _sent;
    private long _dropped;
    private long _errors;

    public long Sent => Interlocked.Read(ref _sent);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Connection failures, write errors (each may have dropped results, counted in <see cref="Dropped"/>).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    public void CountSent(long n = 1) => Interlocked.Add(ref _sent, n);

    public void CountDropped(long n = 1) => Interlocked.Add(ref _dropped, n);

    public void CountError() => Interlocked.Increment(ref _errors);
}
