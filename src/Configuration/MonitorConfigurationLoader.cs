using System.Globalization;
using System.Text.Json;
using RataDns.Reducers.Plugins;

using RataDns.Reducers;
using RataDns.Reducers.Configuration;

namespace RataDns.Configuration;

/// <summary>
/// Reads a <see cref="MonitorConfiguration"/> from JSON. Accepts RaTA DNS / Fievel files as they are: flat
/// (<c>InputMethod</c>, <c>InputSource</c>, <c>Speed</c>, <c>Filter</c> at the top level) or with those keys under
/// <c>"Capture"</c>; key names match ignoring case; comments and trailing commas are allowed. Every problem is
/// collected and reported at once in a <see cref="ConfigurationException"/> naming the file, the JSON path of each key
/// (e.g. <c>PreliminarReducers[1].RedisPort</c>) and the reason; unknown keys get a "did you mean" suggestion.
/// </summary>
/// <remarks>
/// Decisions: JSON <c>null</c> counts as absent; a key given twice (in any case) is an error; a capture key may sit at
/// the top level or under <c>Capture</c> but not both; <c>InputSource</c> is ignored for <c>stdin</c>; output keys of
/// another method (e.g. <c>RedisPort</c> with <c>stdout</c>) are accepted and ignored, as Fievel did; a reducer entry's
/// other keys are its options, except that a near-miss of an output key (e.g. <c>RedisPrt</c>) is an error; two
/// entries with the same name and the same destination are an error (their results could not be told apart), while
/// the same reducer to different destinations is fine. Assembly paths (an entry's <c>Assembly</c>, the top-level
/// <c>ReducerAssemblies</c>) are resolved against the configuration file's directory but only loaded when the
/// reducers are created (<see cref="ReducerRegistry.Create"/>), which reports their problems with the same paths.
/// </remarks>
public static class MonitorConfigurationLoader
{
    private const string ServerIdKey = "ServerId";
    private const string WindowSizeKey = "WindowSize";
    private const string WindowMillisecondsKey = "WindowMilliseconds";
    private const string CaptureKey = "Capture";
    private const string ReducersKey = "PreliminarReducers";
    private const string ReducersAliasKey = "Reducers";
    private const string WorkersKey = "Workers";
    private const string PortsKey = "Ports";
    private const string ZeroMqKey = "ZeroMq";
    private const string AnonymizationKeyFileKey = "AnonymizationKeyFile";
    private const string ReducerAssembliesKey = "ReducerAssemblies";

    private const string InputMethodKey = "InputMethod";
    private const string InputSourceKey = "InputSource";
    private const string SpeedKey = "Speed";
    private const string FilterKey = "Filter";
    private const string SnapLengthKey = "SnapLength";
    private const string PromiscuousKey = "Promiscuous";
    private const string BufferSizeMiBKey = "BufferSizeMiB";
    private const string ImmediateKey = "Immediate";
    private const string LoopKey = "Loop";
    private const string DurationSecondsKey = "DurationSeconds";

    private const string NameKey = "Name";
    private const string TypeKey = "Type";
    private const string AssemblyKey = "Assembly";
    private const string OutputMethodKey = "OutputMethod";
    private const string OutputFileKey = "OutputFile";
    private const string FileNameKey = "FileName";
    private const string RedisServerKey = "RedisServer";
    private const string RedisHostKey = "RedisHost";
    private const string RedisPortKey = "RedisPort";
    private const string RedisChannelKey = "RedisChannel";
    private const string MaxFileBytesKey = "MaxFileBytes";
    private const string RotateSecondsKey = "RotateSeconds";
    private const string MaxFilesKey = "MaxFiles";
    private const string OutputKey = "Output";

    /// <summary>The account to run as once the capture is open (like <c>--user</c>, tcpdump -Z).</summary>
    public const string UserKey = "User";

    /// <summary>The keys that may sit at the top level or under <c>Capture</c>.</summary>
    public static IReadOnlyList<string> CaptureKeys { get; } =
    [
        InputMethodKey, InputSourceKey, SpeedKey, FilterKey, SnapLengthKey, PromiscuousKey, BufferSizeMiBKey,
        ImmediateKey, LoopKey, DurationSecondsKey,
    ];

    /// <summary>The keys accepted at the top level.</summary>
    public static IReadOnlyList<string> TopLevelKeys { get; } =
    [
        ServerIdKey, WindowSizeKey, WindowMillisecondsKey, CaptureKey, ReducersKey, ReducersAliasKey, WorkersKey,
        PortsKey, ZeroMqKey, AnonymizationKeyFileKey, ReducerAssembliesKey, OutputKey, UserKey, .. CaptureKeys,
    ];

    /// <summary>The keys of an output (on a reducer entry, or in the top-level <c>Output</c> default).</summary>
    public static IReadOnlyList<string> OutputKeys { get; } =
    [
        OutputMethodKey, OutputFileKey, FileNameKey, RedisServerKey, RedisHostKey, RedisPortKey, RedisChannelKey,
        MaxFileBytesKey, RotateSecondsKey, MaxFilesKey,
    ];

    /// <summary>The keys of a reducer entry that describe it and its output; the others are its options.</summary>
    public static IReadOnlyList<string> ReducerEntryKeys { get; } =
    [
        NameKey, TypeKey, AssemblyKey, .. OutputKeys,
    ];

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and checks the configuration file at <paramref name="path"/>.</summary>
    /// <exception cref="ConfigurationException">The file cannot be read, is not JSON, or has problems.</exception>
    public static MonitorConfiguration Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ConfigurationException(path, [new(string.Empty, $"cannot read the configuration file: {e.Message}")], e);
        }

        return Parse(json, path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory());
    }

    /// <summary>
    /// Reads and checks a configuration; <paramref name="origin"/> (usually the file name) prefixes messages; relative
    /// assembly paths are taken from the current directory.
    /// </summary>
    /// <exception cref="ConfigurationException">The text is not JSON, or has problems.</exception>
    public static MonitorConfiguration Parse(string json, string origin) => Parse(json, origin, Directory.GetCurrentDirectory());

    /// <summary>
    /// Reads and checks a configuration; <paramref name="origin"/> (usually the file name) prefixes messages; relative
    /// assembly paths are taken from <paramref name="baseDirectory"/> (the configuration file's directory).
    /// </summary>
    /// <exception cref="ConfigurationException">The text is not JSON, or has problems.</exception>
    public static MonitorConfiguration Parse(string json, string origin, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            // LineNumber and BytePositionInLine are zero-based; the column counts UTF-8 bytes.
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            string reason = e.Message;
            int position = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (position > 0)
            {
                reason = reason[..position];
            }

            throw new ConfigurationException(origin, [new(string.Empty, $"malformed JSON at line {line}, column {column}: {reason}")], e);
        }

        using (document)
        {
            var problems = new List<ConfigurationProblem>();
            MonitorConfiguration? configuration = Read(document.RootElement, origin, baseDirectory, problems);
            if (problems.Count > 0 || configuration is null)
            {
                throw new ConfigurationException(origin, problems);
            }

            return configuration;
        }
    }

    private static MonitorConfiguration? Read(JsonElement rootElement, string origin, string baseDirectory, List<ConfigurationProblem> problems)
    {
        if (ConfigurationObjectReader.Open(rootElement, string.Empty, problems) is not { } root)
        {
            problems[^1] = new(string.Empty, $"the configuration must be a JSON object, found {ConfigurationObjectReader.Describe(rootElement)}.");
            return null;
        }

        string serverId = root.TakeString(ServerIdKey) ?? Environment.MachineName;
        WindowConfiguration window = ReadWindow(root);
        CaptureConfiguration capture = ReadCapture(root);
        ReducerOutputConfiguration? defaultOutput = ReadDefaultOutput(root);
        IReadOnlyList<ReducerConfiguration> reducers = ReadReducers(root, origin, baseDirectory, defaultOutput);
        int? workers = root.TakeInt32(WorkersKey, 1, MonitorConfiguration.MaxWorkers, $"between 1 and {MonitorConfiguration.MaxWorkers} worker threads.");
        IReadOnlyList<int> ports = ReadPorts(root) ?? MonitorConfiguration.DefaultPorts;
        ZeroMqConfiguration? zeroMq = ReadZeroMq(root, baseDirectory);

        string? anonymizationKeyFile = root.TakeString(AnonymizationKeyFileKey);
        string? user = root.TakeString(UserKey);
        IReadOnlyList<PluginAssemblyReference> assemblies = ReadAssemblies(root, baseDirectory);
        root.ReportUnknown(TopLevelKeys);
        if (assemblies.Count > 0)
        {
            reducers = [.. reducers.Select(r => r with { ReducerAssemblies = assemblies })];
        }

        return new MonitorConfiguration
        {
            ServerId = serverId,
            Window = window,
            Capture = capture,
            Reducers = reducers,
            Workers = workers,
            Ports = ports,
            ZeroMq = zeroMq,
            AnonymizationKeyFile = anonymizationKeyFile,
            User = user,
            ReducerAssemblies = [.. assemblies.Select(a => a.FullPath)],
            Origin = origin,
        };
    }

    private static WindowConfiguration ReadWindow(ConfigurationObjectReader root)
    {
        bool bothGiven = root.Has(WindowSizeKey) && root.Has(WindowMillisecondsKey);
        int? packets = root.TakeInt32(WindowSizeKey, 1, int.MaxValue, "a window holds at least 1 packet.");
        double? milliseconds = root.TakeDouble(
            WindowMillisecondsKey,
            ms => ms > 0 && ms <= WindowConfiguration.MaxDuration.TotalMilliseconds,
            "a time window is positive and at most one day (86400000 ms).");
        if (bothGiven)
        {
            root.Problems.Add(new(
                root.ChildPath(root.SpellingOf(WindowMillisecondsKey)),
                $"both {root.SpellingOf(WindowSizeKey)} (packets) and {root.SpellingOf(WindowMillisecondsKey)} (time) are given; a window is one or the other, keep one."));
        }

        if (packets is { } count)
        {
            return WindowConfiguration.OfPackets(count);
        }

        return milliseconds is { } ms ? WindowConfiguration.OfDuration(TimeSpan.FromMilliseconds(ms)) : MonitorConfiguration.DefaultWindow;
    }

    private static CaptureConfiguration ReadCapture(ConfigurationObjectReader root)
    {
        ConfigurationObjectReader? nested = null;
        if (root.TryTake([CaptureKey], out JsonElement captureElement, out string capturePath))
        {
            nested = ConfigurationObjectReader.Open(captureElement, capturePath, root.Problems);
        }

        // Each capture key is read from Capture if it is there, else from the top level; both is an error.
        ConfigurationObjectReader From(string key)
        {
            if (nested is null || !nested.Has(key))
            {
                return root;
            }

            if (root.Has(key))
            {
                root.Problems.Add(new(
                    nested.ChildPath(nested.SpellingOf(key)),
                    $"also given at the top level as '{root.SpellingOf(key)}'; keep one."));
                _ = root.TryTake([key], out _, out _);
            }

            return nested;
        }

        var defaults = new CaptureConfiguration();
        ConfigurationObjectReader methodReader = From(InputMethodKey);
        CaptureInputMethod method = defaults.InputMethod;
        if (methodReader.TryTake([InputMethodKey], out JsonElement methodValue, out string methodPath))
        {
            if (methodValue.ValueKind != JsonValueKind.String)
            {
                root.Problems.Add(new(methodPath, $"expected a string, found {ConfigurationObjectReader.Describe(methodValue)}."));
            }
            else if (!ConfigurationNames.TryParseInputMethod(methodValue.GetString()!, out method))
            {
                string text = methodValue.GetString()!;
                root.Problems.Add(new(
                    methodPath,
                    $"unknown input method '{text}'{KeySuggestion.Hint(text, ConfigurationNames.InputMethodNames)}; valid: {string.Join(", ", ConfigurationNames.InputMethodNames)}."));
            }
        }

        ConfigurationObjectReader sourceReader = From(InputSourceKey);
        string? source = sourceReader.TakeString(InputSourceKey);
        if (source is null && !sourceReader.Has(InputSourceKey) && method != CaptureInputMethod.Stdin)
        {
            string what = method switch
            {
                CaptureInputMethod.CaptureFile => "the pcap or pcapng file to read",
                CaptureInputMethod.Dnstap => "the socket to listen on, unix:PATH or tcp://ADDRESS:PORT, or a Frame Streams file",
                _ => "the interface to capture on",
            };
            root.Problems.Add(new(
                methodReader.ChildPath(InputSourceKey),
                $"required when InputMethod is {ConfigurationNames.NameOf(method)} ({what})."));
        }

        double? durationSeconds = From(DurationSecondsKey).TakeDouble(
            DurationSecondsKey, s => s > 0 && s <= TimeSpan.MaxValue.TotalSeconds / 2, "a positive number of seconds.");

        var capture = new CaptureConfiguration
        {
            InputMethod = method,
            InputSource = source,
            Speed = From(SpeedKey).TakeDouble(SpeedKey, s => s >= 0, "the speed is 0 (as fast as possible), 1 (the capture's own timing) or n (n times faster).") ?? defaults.Speed,
            Filter = From(FilterKey).TakeString(FilterKey) ?? defaults.Filter,
            SnapLength = From(SnapLengthKey).TakeInt32(SnapLengthKey, 64, 262144, "between 64 and 262144 bytes.") ?? defaults.SnapLength,
            Promiscuous = From(PromiscuousKey).TakeBoolean(PromiscuousKey) ?? defaults.Promiscuous,
            BufferSizeMiB = From(BufferSizeMiBKey).TakeInt32(BufferSizeMiBKey, 1, 2047, "between 1 and 2047 MiB.") ?? defaults.BufferSizeMiB,
            Immediate = From(ImmediateKey).TakeBoolean(ImmediateKey) ?? defaults.Immediate,
            Loop = From(LoopKey).TakeInt32(LoopKey, 1, int.MaxValue, "read the file at least once.") ?? defaults.Loop,
            Duration = durationSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : defaults.Duration,
        };
        nested?.ReportUnknown(CaptureKeys);
        return capture;
    }

    /// <summary>The keys of the <c>ZeroMq</c> section.</summary>
    public static IReadOnlyList<string> ZeroMqKeys { get; } =
    [
        "Bind", "Connect", "Encoding", "SendHighWatermark", "QueueCapacity", "CurveSecretKeyFile", "CurvePublicKeyFile",
        "AllowedClientKeysFile", "State",
    ];

    private static ZeroMqConfiguration? ReadZeroMq(ConfigurationObjectReader root, string baseDirectory)
    {
        if (!root.TryTake([ZeroMqKey], out JsonElement element, out string path)
            || ConfigurationObjectReader.Open(element, path, root.Problems) is not { } section)
        {
            return null;
        }

        List<string>? Endpoints(string key)
        {
            if (!section.TryTake([key], out JsonElement value, out string valuePath))
            {
                return null;
            }

            var list = value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : new List<JsonElement> { value };
            if (list.Count == 0 || list.Any(e => e.ValueKind != JsonValueKind.String || !e.GetString()!.Contains("://", StringComparison.Ordinal)))
            {
                section.Problems.Add(new(valuePath, "expected an endpoint such as \"tcp://127.0.0.1:5556\", or a list of them."));
                return null;
            }

            return [.. list.Select(e => e.GetString()!)];
        }

        var bind = Endpoints("Bind");
        var connect = Endpoints("Connect");
        if (bind is not null && connect is not null)
        {
            section.Problems.Add(new(section.ChildPath("Connect"), "give Bind (the monitor listens) or Connect (the monitor connects to an aggregator), not both."));
        }

        bool json = false;
        if (section.TakeString("Encoding") is { } encoding)
        {
            if (encoding.Equals("json", StringComparison.OrdinalIgnoreCase))
            {
                json = true;
            }
            else if (!encoding.Equals("msgpack", StringComparison.OrdinalIgnoreCase) && !encoding.Equals("messagepack", StringComparison.OrdinalIgnoreCase))
            {
                section.Problems.Add(new(section.ChildPath("Encoding"), $"unknown encoding '{encoding}'; valid: msgpack, json."));
            }
        }

        int? hwm = section.TakeInt32("SendHighWatermark", 1, 10_000_000, "between 1 and 10000000 messages.");
        int? queue = section.TakeInt32("QueueCapacity", 2, 1 << 20, "a power of two between 2 and 1048576.");
        if (queue is { } q && (q & (q - 1)) != 0)
        {
            section.Problems.Add(new(section.ChildPath("QueueCapacity"), $"{q} is not a power of two."));
        }

        string? Resolve(string key) => section.TakeString(key) is { } file ? Path.GetFullPath(file, baseDirectory) : null;
        var result = new ZeroMqConfiguration
        {
            Endpoints = connect ?? bind ?? [ZeroMqConfiguration.DefaultEndpoint],
            Bind = connect is null,
            Json = json,
            State = section.TakeBoolean("State") ?? true,
            SendHighWatermark = hwm,
            QueueCapacity = queue,
            CurveSecretKeyFile = Resolve("CurveSecretKeyFile"),
            CurvePublicKeyFile = Resolve("CurvePublicKeyFile"),
            AllowedClientKeysFile = Resolve("AllowedClientKeysFile"),
        };
        section.ReportUnknown(ZeroMqKeys);
        return result;
    }

    private static ReducerOutputConfiguration? ReadDefaultOutput(ConfigurationObjectReader root)
    {
        if (!root.TryTake([OutputKey], out JsonElement element, out string path)
            || ConfigurationObjectReader.Open(element, path, root.Problems) is not { } output)
        {
            return null;
        }

        var result = ReadOutput(output, reducerName: null, fallback: null);
        output.ReportUnknown(OutputKeys);
        return result;
    }

    /// <summary>
    /// Reads the output keys of an entry (or of the top-level <c>Output</c>). An entry without <c>OutputMethod</c>
    /// takes <paramref name="fallback"/> (the top-level default) when there is one, else standard output. A Redis
    /// channel defaults to the reducer's name.
    /// </summary>
    private static ReducerOutputConfiguration ReadOutput(ConfigurationObjectReader entry, string? reducerName, ReducerOutputConfiguration? fallback)
    {
        ReducerOutputMethod method = ReducerOutputMethod.Stdout;
        bool methodGiven = entry.TryTake([OutputMethodKey], out JsonElement methodValue, out string methodPath);
        if (methodGiven)
        {
            if (methodValue.ValueKind != JsonValueKind.String)
            {
                entry.Problems.Add(new(methodPath, $"expected a string, found {ConfigurationObjectReader.Describe(methodValue)}."));
            }
            else if (!ConfigurationNames.TryParseOutputMethod(methodValue.GetString()!, out method))
            {
                string text = methodValue.GetString()!;
                entry.Problems.Add(new(
                    methodPath,
                    $"unknown output method '{text}'{KeySuggestion.Hint(text, ConfigurationNames.OutputMethodNames)}; valid: {string.Join(", ", ConfigurationNames.OutputMethodNames)}."));
            }
        }

        string? file = entry.TakeString(OutputFileKey, FileNameKey);
        string? redisServer = entry.TakeString(RedisServerKey, RedisHostKey);
        int? redisPort = entry.TakeInt32(RedisPortKey, 1, 65535, "a TCP port between 1 and 65535.");
        string? redisChannel = entry.TakeString(RedisChannelKey);
        double? maxBytes = entry.TakeDouble(MaxFileBytesKey, b => b >= 1024 && b == Math.Floor(b), "a whole number of bytes, at least 1024 (0 or absent: no size limit).");
        double? rotateSeconds = entry.TakeDouble(RotateSecondsKey, s => s >= 1 && s <= 31 * 86400, "between 1 second and 31 days.");
        int? maxFiles = entry.TakeInt32(MaxFilesKey, 0, 100_000, "how many rotated files to keep, 0 for all.");
        if (!methodGiven && fallback is not null)
        {
            return fallback with
            {
                RedisChannel = fallback.Method == ReducerOutputMethod.Redis ? redisChannel ?? reducerName : null,
            };
        }

        if (method == ReducerOutputMethod.File && file is null && !entry.Has(OutputFileKey) && !entry.Has(FileNameKey))
        {
            entry.Problems.Add(new(entry.ChildPath(OutputFileKey), "required when OutputMethod is file (the file results are appended to)."));
        }

        return method switch
        {
            ReducerOutputMethod.File => new ReducerOutputConfiguration
            {
                Method = method,
                FilePath = file,
                MaxFileBytes = maxBytes is { } b ? (long)b : null,
                RotateEvery = rotateSeconds is { } r ? TimeSpan.FromSeconds(r) : null,
                MaxFiles = maxFiles,
            },
            ReducerOutputMethod.Redis => new ReducerOutputConfiguration
            {
                Method = method,
                RedisServer = redisServer ?? ReducerOutputConfiguration.DefaultRedisServer,
                RedisPort = redisPort ?? ReducerOutputConfiguration.DefaultRedisPort,
                RedisChannel = redisChannel ?? reducerName,
            },
            _ => new ReducerOutputConfiguration { Method = method },
        };
    }

    private static IReadOnlyList<ReducerConfiguration> ReadReducers(ConfigurationObjectReader root, string origin, string baseDirectory, ReducerOutputConfiguration? defaultOutput)
    {
        if (!root.TryTake([ReducersKey, ReducersAliasKey], out JsonElement list, out string listPath))
        {
            // No list at all: the default set, to the default output (standard output unless Output says otherwise).
            return [.. ReducerRegistry.DefaultSet.Select(name => new ReducerConfiguration
            {
                Name = name,
                Path = $"{ReducersKey} (default: {name})",
                Origin = origin,
                Output = defaultOutput is null ? new ReducerOutputConfiguration() : defaultOutput with
                {
                    RedisChannel = defaultOutput.Method == ReducerOutputMethod.Redis ? name : null,
                },
            })];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            root.Problems.Add(new(listPath, $"expected an array of reducers, found {ConfigurationObjectReader.Describe(list)}."));
            return [];
        }

        if (list.GetArrayLength() == 0)
        {
            root.Problems.Add(new(listPath, "at least one reducer is needed."));
            return [];
        }

        var reducers = new List<ReducerConfiguration>();
        var destinations = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int index = 0;
        foreach (JsonElement entryElement in list.EnumerateArray())
        {
            string entryPath = $"{listPath}[{index.ToString(CultureInfo.InvariantCulture)}]";
            index++;
            if (ConfigurationObjectReader.Open(entryElement, entryPath, root.Problems) is not { } entry)
            {
                continue;
            }

            if (ReadReducer(entry, origin, baseDirectory, defaultOutput) is not { } reducer)
            {
                continue;
            }

            string destination = $"{reducer.Name}\n{reducer.Output.Describe()}";
            if (destinations.TryGetValue(destination, out string? firstPath))
            {
                root.Problems.Add(new(
                    entryPath,
                    $"{reducer.Name} already writes to {reducer.Output.Describe()} ({firstPath}); their results could not be told apart. Give one another output."));
                continue;
            }

            destinations.Add(destination, entryPath);
            reducers.Add(reducer);
        }

        return reducers;
    }

    private static ReducerConfiguration? ReadReducer(ConfigurationObjectReader entry, string origin, string baseDirectory, ReducerOutputConfiguration? defaultOutput)
    {
        string? name = entry.TakeString(NameKey, TypeKey);
        if (name is null && !entry.Has(NameKey) && !entry.Has(TypeKey))
        {
            entry.Problems.Add(new(entry.ChildPath(NameKey), "required: the reducer's type, e.g. \"QueriesPerSecond\" (\"Type\" is accepted too)."));
        }

        PluginAssemblyReference? assembly = null;
        if (entry.TakeString(AssemblyKey) is { } assemblyText)
        {
            string assemblyPath = entry.ChildPath(entry.SpellingOf(AssemblyKey));
            assembly = ResolveAssembly(assemblyText, assemblyPath, baseDirectory, entry.Problems);
        }

        var output = ReadOutput(entry, name, defaultOutput);

        var options = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonProperty option in entry.Remaining())
        {
            if (KeySuggestion.Closest(option.Name, ReducerEntryKeys) is { } near)
            {
                entry.Problems.Add(new(entry.ChildPath(option.Name), $"unknown key (did you mean {near}?)."));
                continue;
            }

            options.Add(option.Name, option.Value.Clone());
        }

        if (name is null)
        {
            return null;
        }

        return new ReducerConfiguration
        {
            Name = name,
            Assembly = assembly,
            Output = output,
            Options = options,
            Path = entry.Path,
            Origin = origin,
        };
    }

    private static List<int>? ReadPorts(ConfigurationObjectReader root)
    {
        if (!root.TryTake([PortsKey], out JsonElement list, out string path))
        {
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            root.Problems.Add(new(path, $"expected a non-empty array of ports such as [53, 5353], found {ConfigurationObjectReader.Describe(list)}."));
            return null;
        }

        var ports = new List<int>();
        int index = 0;
        foreach (JsonElement element in list.EnumerateArray())
        {
            string itemPath = $"{path}[{index.ToString(CultureInfo.InvariantCulture)}]";
            index++;
            if (ConfigurationObjectReader.ReadInt32(element, itemPath, 1, 65535, "a port between 1 and 65535.", root.Problems) is not { } port)
            {
                continue;
            }

            if (ports.Contains(port))
            {
                root.Problems.Add(new(itemPath, $"port {port} is listed twice."));
                continue;
            }

            ports.Add(port);
        }

        return ports;
    }

    /// <summary><c>ReducerAssemblies</c>: a list of paths, each resolved against <paramref name="baseDirectory"/>.</summary>
    private static List<PluginAssemblyReference> ReadAssemblies(ConfigurationObjectReader root, string baseDirectory)
    {
        var assemblies = new List<PluginAssemblyReference>();
        if (!root.TryTake([ReducerAssembliesKey], out JsonElement list, out string path))
        {
            return assemblies;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            root.Problems.Add(new(path, $"expected an array of assembly paths, found {ConfigurationObjectReader.Describe(list)}."));
            return assemblies;
        }

        int index = 0;
        foreach (JsonElement element in list.EnumerateArray())
        {
            string itemPath = $"{path}[{index.ToString(CultureInfo.InvariantCulture)}]";
            index++;
            if (element.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(element.GetString()))
            {
                root.Problems.Add(new(itemPath, $"expected a non-empty string, found {ConfigurationObjectReader.Describe(element)}."));
                continue;
            }

            if (ResolveAssembly(element.GetString()!, itemPath, baseDirectory, root.Problems) is not { } assembly)
            {
                continue;
            }

            if (assemblies.Find(a => a.FullPath == assembly.FullPath) is { } first)
            {
                root.Problems.Add(new(itemPath, $"{assembly.FullPath} is already listed ({first.ConfigurationPath})."));
                continue;
            }

            assemblies.Add(assembly);
        }

        return assemblies;
    }

    /// <summary>An assembly path as written, made absolute against <paramref name="baseDirectory"/> (not loaded yet).</summary>
    private static PluginAssemblyReference? ResolveAssembly(string text, string path, string baseDirectory, List<ConfigurationProblem> problems)
    {
        try
        {
            return new PluginAssemblyReference(Path.GetFullPath(text, baseDirectory), path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            problems.Add(new(path, $"not a usable file path: {e.Message}"));
            return null;
        }
    }
}
