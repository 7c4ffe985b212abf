namespace RataDns.Tests.Aggregator;

/// <summary>
/// The aggregator's tests with NetMQ sockets run alone: a monitor run in this process ends with
/// <c>NetMQConfig.Cleanup</c>, which terminates every NetMQ socket of the process, a subscriber's too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetMqCollection
{
    public const string Name = "Aggregator NetMQ";
}
