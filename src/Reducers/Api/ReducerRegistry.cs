using RataDns.Reducers.Configuration;
using RataDns.Reducers.Counters;
using RataDns.Reducers.Extended;
using RataDns.Reducers.Original;
using RataDns.Reducers.Plugins;
using RataDns.Reducers.Summaries;

namespace RataDns.Reducers;

/// <summary>
/// Creates reducers by their RaTA DNS / Fievel type name (matched ignoring case; the result's <see cref="Reducer.Type"/>
/// is the canonical spelling) with their options from the configuration entry. Unknown names and unknown or
/// out-of-range options are <see cref="ConfigurationException"/>s naming the entry's path.
/// <para>
/// Options: TopN / TopNQ take <c>N</c> (default 5) and <c>Capacity</c> (names kept, default 10000); the name
/// counters and AlonePackets take <c>Capacity</c> (default 10000); QueriesWithUnderscoredName, PacketHasUnderscore
/// and QueriesSummary / PacketSummary take <c>Capacity</c> (distinct entries kept per window, default 1000). The
/// exact counters (RcodeCounter, QtypeCounter, OpcodeCounter, QclassCounter, TransportCounter, EdnsCounter,
/// MessageSizeHistogram) take no options.
/// </para>
/// <para>
/// Extended reducers: TldCounter, SldCounter, TopClients, TopNxdomainNames, TopRefusedNames and TopServfailNames
/// take <c>N</c> (entries written, default 20) and <c>Capacity</c> (keys kept by the Space-Saving summary, default
/// 10000; N &lt;= Capacity); ResponseLatency takes <c>TimeoutMs</c> (default 5000, 1..3600000) and
/// <c>PendingCapacity</c> (queries waiting for a response, default 65536); MalformedCounter takes <c>Examples</c>
/// (examples kept per reason, default 3, 0..100); DistinctCounter takes <c>Precision</c> (HyperLogLog p, default
/// 14, 4..16), <c>Seed</c> (any text; a fixed seed by default, so results repeat and sketches merge) and
/// <c>Sketch</c> (true: results carry the HyperLogLog registers, so an aggregator merges them exactly).
/// </para>
/// </summary>
public static class ReducerRegistry
{
    private const string CapacityOption = "Capacity";
    private const string NOption = "N";
    private const int MaxCapacity = 1 << 20;

    private static readonly (string Name, Func<ReducerConfiguration, Reducer> Create)[] Factories =
    [
        ("QueriesPerSecond", c => Rate(c, PacketRateReducer.RateKind.QueriesPerSecond)),
        ("AnswersPerSecond", c => Rate(c, PacketRateReducer.RateKind.AnswersPerSecond)),
        ("PacketsPerSecond", c => Rate(c, PacketRateReducer.RateKind.PacketsPerSecond)),
        ("PacketsQueriesAndAnswersPerSecond", c => Rate(c, PacketRateReducer.RateKind.PacketsQueriesAndAnswersPerSecond)),
        ("QueriesNameCounter", c => new NameCounterReducer(PacketSelection.Queries, Capacity(c, NameCounterReducer.DefaultCapacity))),
        ("AnswersNameCounter", c => new NameCounterReducer(PacketSelection.Answers, Capacity(c, NameCounterReducer.DefaultCapacity))),
        ("NameCounter", c => new NameCounterReducer(PacketSelection.All, Capacity(c, NameCounterReducer.DefaultCapacity))),
        ("TopN", c => CreateTopN(c, queriesOnly: false)),
        ("TopNQ", c => CreateTopN(c, queriesOnly: true)),
        ("QueriesWithUnderscoredName", c => new QueriesWithUnderscoredNameReducer(Capacity(c, 1000))),
        ("PacketHasUnderscore", c => new PacketHasUnderscoreReducer(Capacity(c, 1000))),
        ("QueriesSummary", c => new QueriesSummaryReducer(Capacity(c, QueriesSummaryReducer.DefaultCapacity), "QueriesSummary")),
        ("PacketSummary", c => new QueriesSummaryReducer(Capacity(c, QueriesSummaryReducer.DefaultCapacity), "PacketSummary")),
        ("AlonePackets", c => new AlonePacketsReducer(Capacity(c, AlonePacketsReducer.DefaultCapacity))),
        ("RcodeCounter", c => WithoutOptions(c, static () => new RcodeCounter())),
        ("QtypeCounter", c => WithoutOptions(c, static () => new QtypeCounter())),
        ("OpcodeCounter", c => WithoutOptions(c, static () => new OpcodeCounter())),
        ("QclassCounter", c => WithoutOptions(c, static () => new QclassCounter())),
        ("TransportCounter", c => WithoutOptions(c, static () => new TransportCounter())),
        ("EdnsCounter", c => WithoutOptions(c, static () => new EdnsCounter())),
        ("MessageSizeHistogram", c => WithoutOptions(c, static () => new MessageSizeHistogram())),
        ("TldCounter", c => CreateHeavyHitters(c, static (n, capacity) => new DomainLevelCounter(DomainLevelCounter.DomainLevel.TopLevel, n, capacity))),
        ("SldCounter", c => CreateHeavyHitters(c, static (n, capacity) => new DomainLevelCounter(DomainLevelCounter.DomainLevel.SecondLevel, n, capacity))),
        ("TopClients", c => CreateHeavyHitters(c, static (n, capacity) => new TopClientsReducer(n, capacity))),
        ("TopNxdomainNames", c => CreateHeavyHitters(c, static (n, capacity) => new TopRcodeNamesReducer(TopRcodeNamesReducer.Nxdomain, n, capacity))),
        ("TopRefusedNames", c => CreateHeavyHitters(c, static (n, capacity) => new TopRcodeNamesReducer(TopRcodeNamesReducer.Refused, n, capacity))),
        ("TopServfailNames", c => CreateHeavyHitters(c, static (n, capacity) => new TopRcodeNamesReducer(TopRcodeNamesReducer.Servfail, n, capacity))),
        ("ResponseLatency", CreateResponseLatency),
        ("MalformedCounter", CreateMalformedCounter),
        ("DistinctCounter", CreateDistinctCounter),
    ];

    /// <summary>
    /// The reducers a monitor runs when its configuration lists none: what an operator's dashboard shows (rates,
    /// top names and clients, clients by query type, rcode and qtype splits, NXDOMAIN names, underscored names,
    /// latency, malformed packets, EDNS and transport, distinct names and clients), with bounded memory.
    /// </summary>
    public static IReadOnlyList<string> DefaultSet { get; } =
    [
        "PacketsQueriesAndAnswersPerSecond", "TopNQ", "TopClients", "QueriesSummary", "RcodeCounter", "QtypeCounter",
        "TopNxdomainNames", "QueriesWithUnderscoredName", "ResponseLatency", "MalformedCounter", "EdnsCounter",
        "TransportCounter", "DistinctCounter",
    ];

    /// <summary>Every type name <see cref="Create"/> knows, in its canonical spelling.</summary>
    public static IReadOnlyList<string> KnownTypes { get; } = [.. Factories.Select(f => f.Name)];

    /// <summary>Whether <paramref name="name"/> is a known type (ignoring case).</summary>
    public static bool IsKnown(string name) => KnownTypes.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Creates the reducer <paramref name="configuration"/> names, with its options: a built-in one, or else a
    /// user's reducer from the entry's <c>Assembly</c> or the configuration's <c>ReducerAssemblies</c> (see
    /// <see cref="PluginReducerLoader"/>). Built-in names win: a plugin reducer may not take one.
    /// </summary>
    /// <exception cref="ConfigurationException">Unknown type (the message lists the known ones), a bad option, or a
    /// plugin assembly or reducer that cannot be used.</exception>
    public static Reducer Create(ReducerConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IReadOnlyList<PluginAssembly> plugins = PluginReducerLoader.LoadFor(configuration, KnownTypes);
        foreach (var (name, create) in Factories)
        {
            if (string.Equals(name, configuration.Name, StringComparison.OrdinalIgnoreCase))
            {
                if (configuration.Assembly is { } assembly)
                {
                    string reason = $"'{configuration.Name}' is a built-in reducer, not one of {Path.GetFileName(assembly.FullPath)} (which has: {string.Join(", ", PluginReducerLoader.NamesIn(plugins))}); remove \"Assembly\" to use the built-in one.";
                    throw new ConfigurationException(configuration.Origin, [new ConfigurationProblem($"{configuration.Path}.Name", reason)]);
                }

                return create(configuration);
            }
        }

        if (PluginReducerLoader.TryCreate(configuration, plugins) is { } plugin)
        {
            return plugin;
        }

        throw UnknownReducer(configuration, plugins);
    }

    private static ConfigurationException UnknownReducer(ReducerConfiguration configuration, IReadOnlyList<PluginAssembly> plugins)
    {
        List<string> pluginNames = [.. PluginReducerLoader.NamesIn(plugins)];
        string reason;
        if (configuration.Assembly is { } assembly)
        {
            reason = $"{Path.GetFileName(assembly.FullPath)} has no reducer '{configuration.Name}'{KeySuggestion.Hint(configuration.Name, pluginNames)}; it has: {string.Join(", ", pluginNames)}.";
        }
        else
        {
            string fromPlugins = pluginNames.Count == 0 ? string.Empty : $"; from ReducerAssemblies: {string.Join(", ", pluginNames)}";
            reason = $"unknown reducer '{configuration.Name}'{KeySuggestion.Hint(configuration.Name, [.. KnownTypes, .. pluginNames])}; known reducers: {string.Join(", ", KnownTypes)}{fromPlugins}.";
        }

        return new ConfigurationException(configuration.Origin, [new ConfigurationProblem($"{configuration.Path}.Name", reason)]);
    }

    private static PacketRateReducer Rate(ReducerConfiguration configuration, PacketRateReducer.RateKind kind)
    {
        configuration.RejectUnknownOptions();
        return new PacketRateReducer(kind);
    }

    private static Reducer WithoutOptions(ReducerConfiguration configuration, Func<Reducer> create)
    {
        configuration.RejectUnknownOptions();
        return create();
    }

    private static int Capacity(ReducerConfiguration configuration, int defaultValue)
    {
        configuration.RejectUnknownOptions(CapacityOption);
        return configuration.GetInt32Option(CapacityOption, defaultValue, 1, MaxCapacity);
    }

    private static TopNReducer CreateTopN(ReducerConfiguration configuration, bool queriesOnly)
    {
        configuration.RejectUnknownOptions(NOption, CapacityOption);
        int capacity = configuration.GetInt32Option(CapacityOption, NameCounterReducer.DefaultCapacity, 1, MaxCapacity);
        int n = configuration.GetInt32Option(NOption, TopNReducer.DefaultN, 1, capacity);
        return new TopNReducer(queriesOnly, n, capacity);
    }

    private static Reducer CreateHeavyHitters(ReducerConfiguration configuration, Func<int, int, Reducer> create)
    {
        configuration.RejectUnknownOptions(NOption, CapacityOption);
        int capacity = configuration.GetInt32Option(CapacityOption, HeavyHitterReducer.DefaultCapacity, 1, MaxCapacity);
        int n = configuration.GetInt32Option(NOption, Math.Min(HeavyHitterReducer.DefaultN, capacity), 1, capacity);
        return create(n, capacity);
    }

    private static ResponseLatencyReducer CreateResponseLatency(ReducerConfiguration configuration)
    {
        configuration.RejectUnknownOptions("TimeoutMs", "PendingCapacity");
        int timeout = configuration.GetInt32Option("TimeoutMs", ResponseLatencyReducer.DefaultTimeoutMilliseconds, 1, ResponseLatencyReducer.MaxTimeoutMilliseconds);
        int capacity = configuration.GetInt32Option("PendingCapacity", ResponseLatencyReducer.DefaultPendingCapacity, 1, MaxCapacity);
        return new ResponseLatencyReducer(timeout, capacity);
    }

    private static MalformedCounter CreateMalformedCounter(ReducerConfiguration configuration)
    {
        configuration.RejectUnknownOptions("Examples");
        return new MalformedCounter(configuration.GetInt32Option("Examples", MalformedCounter.DefaultExamples, 0, MalformedCounter.MaxExamples));
    }

    private static DistinctCounter CreateDistinctCounter(ReducerConfiguration configuration)
    {
        configuration.RejectUnknownOptions("Precision", "Seed", "Sketch");
        int precision = configuration.GetInt32Option("Precision", HyperLogLog.DefaultPrecision, HyperLogLog.MinPrecision, HyperLogLog.MaxPrecision);
        ulong seed = DistinctCounter.DefaultSeed;
        if (configuration.GetStringOption("Seed") is { } text)
        {
            // Any text: its SipHash under a fixed key. The same text on every monitor makes their sketches mergeable.
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            seed = DnsWire.SipHash.Hash24(0x5241544144_4E53UL, 0x44697374696E6374UL, bytes);
        }

        return new DistinctCounter(precision, seed, configuration.GetBooleanOption("Sketch", false));
    }
}
