namespace RataDns.Tests.Conformance;

/// <summary>
/// Tests that start real DNS servers, send them load with dnsperf and capture it with tcpdump run alone: beside the
/// rest of the suite on a 2-core machine, tcpdump lost packets to the kernel (a CI run saw 72 dropped), which would
/// spoil the comparison with the capture; and their load slowed the other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveServerCollection
{
    public const string Name = "Live DNS servers";
}
