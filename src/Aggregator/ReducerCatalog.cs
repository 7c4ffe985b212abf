using System.Collections.Concurrent;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.Plugins;
using RataDns.Reducers.State;

namespace RataDns.Aggregator;

/// <summary>
/// The reducers the aggregator merges with: for a type and its options (as a state container names them), an
/// instance made by <see cref="ReducerRegistry.Create"/> exactly as a monitor makes it, built-in or from the plugin
/// assemblies given to the aggregator (<c>--reducer-assembly</c>), so windows and monitors merge with the reducer's
/// own <see cref="Reducer.Merge"/> and are written with its own <see cref="Reducer.WriteData"/>. A type that cannot be
/// made (unknown here, a plugin whose assembly was not given, options this build refuses) is remembered with the
/// reason, which the merged results and the log report. Thread-safe.
/// </summary>
/// <remarks>
/// The options come from the monitors (inside their states): distinct option sets are bounded
/// (<see cref="MaxConfigurations"/>), so a monitor that sends ever new options cannot make the aggregator build
/// reducers without end; each reducer's own option bounds (Capacity at most 2^20, ...) apply as on a monitor.
/// </remarks>
public sealed class ReducerCatalog(IReadOnlyList<PluginAssemblyReference>? reducerAssemblies = null)
{
    /// <summary>The most (type, options) pairs made into reducers; later ones are refused with a reason.</summary>
    public const int MaxConfigurations = 256;

    private readonly IReadOnlyList<PluginAssemblyReference> _assemblies = reducerAssemblies ?? [];
    private readonly ConcurrentDictionary<(string Type, string Options), Entry> _entries = new();

    /// <summary>The plugin assemblies reducers are looked for in (besides the built-in ones).</summary>
    public IReadOnlyList<PluginAssemblyReference> ReducerAssemblies => _assemblies;

    /// <summary>The reducer for <paramref name="type"/> with <paramref name="options"/>, or null with the reason.</summary>
    public Entry For(string type, IReadOnlyDictionary<string, JsonElement> options)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(options);
        var key = (type, ReducerState.CanonicalOptions(options));
        if (_entries.Count >= MaxConfigurations && !_entries.ContainsKey(key))
        {
            return new Entry(null, $"more than {MaxConfigurations} reducer configurations were received; {type} with options {key.Item2} is not made", key.Item2);
        }

        return _entries.GetOrAdd(key, static (key, state) => Create(key.Type, key.Item2, state.Options, state.Assemblies), (Options: options, Assemblies: _assemblies));
    }

    /// <summary>The reducer for <paramref name="type"/> with its default options (for its view-merge rule).</summary>
    public Entry For(string type) => For(type, new Dictionary<string, JsonElement>());

    private static Entry Create(string type, string optionsKey, IReadOnlyDictionary<string, JsonElement> options, IReadOnlyList<PluginAssemblyReference> assemblies)
    {
        try
        {
            var prototype = ReducerRegistry.Create(new ReducerConfiguration
            {
                Name = type,
                Options = options,
                ReducerAssemblies = assemblies,
                Path = type,
                Origin = "aggregator",
            });
            if (!string.Equals(prototype.Type, type, StringComparison.Ordinal))
            {
                return new Entry(null, $"'{type}' names the reducer {prototype.Type} here (spelled differently)", optionsKey);
            }

            return new Entry(prototype, null, optionsKey);
        }
        catch (ConfigurationException e)
        {
            string reason = assemblies.Count == 0 && !ReducerRegistry.IsKnown(type)
                ? $"{type} is not a built-in reducer and no plugin assembly was given (--reducer-assembly)"
                : e.Message;
            return new Entry(null, reason, optionsKey);
        }
    }

    /// <summary>A type and options made into a reducer (<see cref="Prototype"/>), or why not (<see cref="Problem"/>).</summary>
    public sealed class Entry(Reducer? prototype, string? problem, string optionsKey)
    {
        /// <summary>Instances kept for reuse by merges (a ResponseLatency instance holds megabytes of tables).</summary>
        private const int MaxPooled = 8;

        private readonly Lock _scratchLock = new();
        private readonly Stack<Reducer> _pool = new();
        private Reducer? _scratch;

        /// <summary>The reducer (never observes packets: instances for merging are made with CreateEmpty).</summary>
        public Reducer? Prototype { get; } = prototype;

        public string? Problem { get; } = problem;

        /// <summary>The options in canonical text (<see cref="ReducerState.CanonicalOptions"/>).</summary>
        public string OptionsKey { get; } = optionsKey;

        /// <summary>An empty instance to merge into (from the pool, or new); give it back with <see cref="Return"/>.</summary>
        public Reducer Rent()
        {
            var prototype = Prototype ?? throw new InvalidOperationException(Problem);
            lock (_pool)
            {
                if (_pool.TryPop(out var pooled))
                {
                    return pooled;
                }
            }

            return prototype.CreateEmpty();
        }

        /// <summary>Clears <paramref name="reducer"/> (rented from this entry) and keeps it for the next merge.</summary>
        public void Return(Reducer reducer)
        {
            ArgumentNullException.ThrowIfNull(reducer);
            reducer.Clear();
            lock (_pool)
            {
                if (_pool.Count < MaxPooled)
                {
                    _pool.Push(reducer);
                }
            }
        }

        /// <summary>How the type's views merge when there is no state.</summary>
        public ViewMergeRule ViewMerge => Prototype?.ViewMerge ?? ViewMergeRule.None;

        /// <summary>
        /// Reads <paramref name="header"/>'s value into a scratch instance, to check a state once as it arrives.
        /// </summary>
        /// <exception cref="InvalidDataException">The value is not a state of this reducer.</exception>
        public void Check(ReducerStateHeader header)
        {
            var prototype = Prototype ?? throw new InvalidOperationException(Problem);
            lock (_scratchLock)
            {
                _scratch ??= prototype.CreateEmpty();
                ReducerState.ReadInto(_scratch, header.Body);
                _scratch.Clear();
            }
        }
    }
}
