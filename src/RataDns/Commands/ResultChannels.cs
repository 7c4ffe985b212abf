using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using RataDns.Transport.Files;
using RataDns.Transport.Publishing;
using RataDns.Transport.Redis;

namespace RataDns.App.Commands;

/// <summary>
/// The monitor's outputs: one <see cref="IResultChannel"/> per destination, shared by the reducers that write there
/// (standard output; a file by its full path; a Redis server by host and port, each reducer on its own channel; the
/// ZeroMQ publisher). Made before capture starts, so a wrong output is reported at once.
/// </summary>
internal sealed class ResultChannels : IReducerOutputs, IDisposable
{
    private readonly Dictionary<string, IResultChannel> _byDestination = new(StringComparer.Ordinal);
    private readonly List<IResultChannel> _ordered = [];

    private ResultChannels(TextWriter log, TextWriter? info)
    {
        Log = log;
        Info = info ?? log;
    }

    /// <summary>Each reducer's channel, in the configuration's order.</summary>
    public IReadOnlyList<IResultChannel> PerReducer { get; private set; } = [];

    /// <summary>Each reducer's channel name (Redis channel; its type elsewhere).</summary>
    public IReadOnlyList<string> ChannelNames { get; private set; } = [];

    /// <summary>Each reducer's configuration options, written into its state so a reader can make the same reducer.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, System.Text.Json.JsonElement>> ReducerOptions { get; private set; } = [];

    /// <summary>Every distinct channel, in order of first use.</summary>
    public IReadOnlyList<IResultChannel> Distinct => _ordered;

    /// <summary>Where the outputs report their troubles (a failing file, a lost Redis server).</summary>
    private TextWriter Log { get; }

    /// <summary>Where the channels opened are announced.</summary>
    private TextWriter Info { get; }

    /// <summary>
    /// Opens the channels of <paramref name="configuration"/>; <paramref name="zeroMq"/> makes the ZeroMQ publisher when
    /// one is needed. The outputs' troubles go to <paramref name="log"/>, the announcements to <paramref name="info"/> (default: the same).
    /// </summary>
    public static ResultChannels Open(MonitorConfiguration configuration, IReadOnlyList<string> types, TextWriter log, Func<IResultChannel>? zeroMq, TextWriter? info = null)
    {
        var channels = new ResultChannels(log, info);
        try
        {
            var perReducer = new List<IResultChannel>();
            var names = new List<string>();
            for (int i = 0; i < configuration.Reducers.Count; i++)
            {
                var output = configuration.Reducers[i].Output;
                perReducer.Add(channels.For(output, zeroMq));
                names.Add(output.Method == ReducerOutputMethod.Redis ? output.RedisChannel ?? types[i] : types[i]);
            }

            channels.PerReducer = perReducer;
            channels.ChannelNames = names;
            channels.ReducerOptions = [.. configuration.Reducers.Select(r => r.Options)];
            return channels;
        }
        catch
        {
            channels.Dispose();
            throw;
        }
    }

    /// <summary>One line per channel: sent, dropped, errors.</summary>
    public string Report() => string.Concat(_ordered.Select(c =>
        $"output {c.Describe()}: {c.Statistics.Sent} results sent, {c.Statistics.Dropped} dropped, {c.Statistics.Errors} errors{Environment.NewLine}"));

    public void Dispose()
    {
        foreach (var channel in _ordered)
        {
            try
            {
                channel.Dispose();
            }
            catch (IOException)
            {
                // A closed pipe or a full disk at the very end: counted and reported while writing.
            }
        }
    }

    private IResultChannel For(ReducerOutputConfiguration output, Func<IResultChannel>? zeroMq)
    {
        string key = output.Method switch
        {
            ReducerOutputMethod.Stdout => "stdout",
            ReducerOutputMethod.File => "file " + Path.GetFullPath(output.FilePath!),
            ReducerOutputMethod.Redis => $"redis {output.RedisServer}:{output.RedisPort}",
            _ => "zmq",
        };
        if (_byDestination.TryGetValue(key, out var existing))
        {
            return existing;
        }

        IResultChannel channel = output.Method switch
        {
            ReducerOutputMethod.Stdout => new StreamResultChannel(new BufferedStream(StandardOutput.Open(), 1 << 16), "stdout"),
            ReducerOutputMethod.File => new FileResultChannel(new FileResultChannelOptions
            {
                Path = Path.GetFullPath(output.FilePath!),
                MaxBytes = output.MaxFileBytes ?? 0,
                RotateEvery = output.RotateEvery ?? TimeSpan.Zero,
                MaxFiles = output.MaxFiles ?? 0,
                Log = Log,
            }),
            ReducerOutputMethod.Redis => new RedisPublisher(
                new RedisPublisherOptions { Host = output.RedisServer ?? ReducerOutputConfiguration.DefaultRedisServer, Port = output.RedisPort ?? ReducerOutputConfiguration.DefaultRedisPort },
                Log),
            _ => zeroMq?.Invoke() ?? throw new NotSupportedException("output zmq: the ZeroMQ publisher is not available."),
        };
        _byDestination[key] = channel;
        _ordered.Add(channel);
        if (output.Method is ReducerOutputMethod.Redis or ReducerOutputMethod.Zmq)
        {
            Info.WriteLine($"publishing on {channel.Describe()}");
        }

        return channel;
    }
}
