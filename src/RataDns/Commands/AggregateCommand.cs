using System.CommandLine;
using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.Aggregator;
using RataDns.Aggregator.History;
using RataDns.Aggregator.Web;
using RataDns.Transport.ZeroMq;

namespace RataDns.App.Commands;

/// <summary>
/// <c>ratadns aggregate</c>, Jerry's role: subscribes to many monitors over ZeroMQ (connecting to each, or binding
/// for monitors that connect), keeps their window results within a bounded history, merges them per server and
/// across servers over moving spans, and serves the HTTP API and the live dashboard. Runs until SIGINT/SIGTERM.
/// </summary>
public static class AggregateCommand
{
    public static Command Create()
    {
        var connect = new Option<string[]>("--connect")
        {
            Description = "A monitor's ZeroMQ endpoint to subscribe to (repeat for several), e.g. tcp://ns1:5556.",
            AllowMultipleArgumentsPerToken = true,
        };
        var bind = new Option<string[]>("--bind", "-b")
        {
            Description = "Bind this ZeroMQ endpoint for monitors that connect (their ZeroMq section: \"Connect\").",
            AllowMultipleArgumentsPerToken = true,
        };
        var http = new Option<string>("--http")
        {
            Description = "Where the HTTP API and the dashboard listen.",
            DefaultValueFactory = _ => AggregatorWebOptions.DefaultUrl,
        };
        var redis = new Option<string>("--redis") { Description = "Also take results from Redis pub/sub (monitors with OutputMethod redis): HOST:PORT, every channel." };
        var spans = new Option<string>("--spans") { Description = "The moving spans results are merged over, e.g. 1m,5m,15m (s, m, h, d).", DefaultValueFactory = _ => "1m,5m,15m" };
        var stale = new Option<double?>("--stale-seconds") { Description = "A monitor silent this long is shown stale (default: 3 of its windows, at least 10 s)." };
        var reducerAssembly = new Option<string[]>("--reducer-assembly")
        {
            Description = "An assembly of plugin reducers (as in the monitors' ReducerAssemblies), so their states merge exactly; repeat for several.",
            AllowMultipleArgumentsPerToken = true,
        };
        var history = new Option<string>("--history")
        {
            Description = "Keep every result in this SQLite file (or PostgreSQL: postgresql://user@host:port/db), so history survives a restart and reaches back over --history-retention; "
                + "\"none\": memory only (24 h). Default: $STATE_DIRECTORY/history.sqlite under systemd, else ratadns-history.sqlite here.",
        };
        var curveSecret = new Option<string>("--curve-secret-key")
        {
            Description = "CurveZMQ: this aggregator's secret key file (ratadns keygen); its public key is what monitors list in AllowedClientKeysFile. "
                + "Default with --curve-server-key: a key pair made for this run.",
        };
        var curveServer = new Option<string[]>("--curve-server-key")
        {
            Description = "CurveZMQ: a monitor's public key file (its CurvePublicKeyFile): ENDPOINT=FILE for that --connect endpoint, or FILE for every endpoint without one. Repeat for several.",
            AllowMultipleArgumentsPerToken = true,
        };
        var retention = new Option<string>("--history-retention") { Description = "How long --history keeps results (s, m, h, d), by packet time.", DefaultValueFactory = _ => "30d" };
        var command = new Command("aggregate", "Merge the results of many monitors and serve them: HTTP API, server-sent events and a live dashboard.")
        {
            connect, bind, http, redis, spans, stale, reducerAssembly, history, retention, curveSecret, curveServer,
        };
        command.SetAction(parse =>
        {
            using var usage = new CommandLog("ratadns aggregate", Console.Error, GlobalOptions.Read(parse));
            string[] connects = parse.GetValue(connect) ?? [];
            string[] binds = parse.GetValue(bind) ?? [];
            if (connects.Length > 0 && binds.Length > 0)
            {
                usage.Logger.LogError("give --connect (to monitors that bind) or --bind (for monitors that connect), not both.");
                return ExitCodes.Usage;
            }

            double? staleSeconds = parse.GetValue(stale);
            if (staleSeconds is <= 0)
            {
                usage.Logger.LogError("--stale-seconds {StaleSeconds}: a positive number of seconds.", staleSeconds);
                return ExitCodes.Usage;
            }

            (string Host, int Port)? redisServer = null;
            if (parse.GetValue(redis) is { } redisText)
            {
                int colon = redisText.LastIndexOf(':');
                if (colon <= 0 || !int.TryParse(redisText[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out int redisPort) || redisPort is < 1 or > 65535)
                {
                    usage.Logger.LogError("--redis {Redis}: expected HOST:PORT, e.g. 127.0.0.1:6379.", redisText);
                    return ExitCodes.Usage;
                }

                redisServer = (redisText[..colon], redisPort);
            }

            var spanList = new List<AggregatorSpan>();
            var parser = new AggregatorStore(new AggregatorOptions { Spans = [] });
            foreach (string name in (parse.GetValue(spans) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (parser.SpanLength(name) is not { } length)
                {
                    usage.Logger.LogError("--spans: '{Span}' is not a span (a number with s, m, h or d, e.g. 5m).", name);
                    return ExitCodes.Usage;
                }

                spanList.Add(new AggregatorSpan(name, length));
            }

            if (spanList.Count == 0)
            {
                usage.Logger.LogError("--spans: give at least one span, e.g. 1m,5m,15m.");
                return ExitCodes.Usage;
            }

            var assemblies = new List<Reducers.Plugins.PluginAssemblyReference>();
            foreach (string path in parse.GetValue(reducerAssembly) ?? [])
            {
                string full = Path.GetFullPath(path);
                if (!File.Exists(full))
                {
                    usage.Logger.LogError("--reducer-assembly {Path}: no such file.", path);
                    return ExitCodes.Usage;
                }

                assemblies.Add(new Reducers.Plugins.PluginAssemblyReference(full, "--reducer-assembly"));
            }

            string historyPath = parse.GetValue(history) ?? DefaultHistoryPath();
            if (parser.SpanLength(parse.GetValue(retention) ?? string.Empty) is not { } retentionLength)
            {
                usage.Logger.LogError("--history-retention {Retention}: not a span (a number with s, m, h or d, e.g. 30d).", parse.GetValue(retention));
                return ExitCodes.Usage;
            }

            CurveClientKeys? curve;
            try
            {
                curve = CurveKeys(parse.GetValue(curveSecret), parse.GetValue(curveServer) ?? [], connects.Length > 0 ? connects : binds, usage.Logger);
            }
            catch (IOException e)
            {
                usage.Logger.LogError("{Reason}", e.Message);
                return ExitCodes.Usage;
            }

            using var interrupt = Interrupt.OnCancelKeyOrTerm();
            return Run(
                new AggregateSettings
                {
                    Endpoints = connects.Length > 0 ? connects : binds.Length > 0 ? binds : ["tcp://127.0.0.1:5556"],
                    Bind = binds.Length > 0,
                    HttpUrl = parse.GetValue(http)!,
                    StaleAfter = staleSeconds is { } s ? TimeSpan.FromSeconds(s) : null,
                    Redis = redisServer,
                    Spans = spanList,
                    ReducerAssemblies = assemblies,
                    History = historyPath == "none" ? null : historyPath,
                    HistoryRetention = retentionLength,
                    Curve = curve,
                    Log = GlobalOptions.Read(parse),
                },
                Console.Error,
                interrupt.Token);
        });
        return command;
    }

    /// <summary>
    /// The CurveZMQ client keys of <c>--curve-secret-key</c> and <c>--curve-server-key</c> (ENDPOINT=FILE or FILE), or
    /// null when neither is given.
    /// </summary>
    /// <exception cref="IOException">A key file is missing or malformed, or a key names an endpoint not given.</exception>
    internal static CurveClientKeys? CurveKeys(string? secretKeyFile, IReadOnlyList<string> serverKeys, IReadOnlyList<string> endpoints, ILogger log)
    {
        if (serverKeys.Count == 0)
        {
            if (secretKeyFile is not null)
            {
                throw new IOException("--curve-secret-key: give each monitor's public key too (--curve-server-key ENDPOINT=FILE, or FILE for all).");
            }

            return null;
        }

        var perEndpoint = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        byte[]? forAll = null;
        foreach (string value in serverKeys)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            bool named = equals > 0 && value.AsSpan(0, equals).Contains("://", StringComparison.Ordinal);
            string file = named ? value[(equals + 1)..] : value;
            byte[] key = CurveKeyFiles.ReadKeyBytes(file, "--curve-server-key");
            if (!named)
            {
                if (forAll is not null)
                {
                    throw new IOException($"--curve-server-key {value}: a second key for every endpoint; name the endpoint of each (ENDPOINT=FILE).");
                }

                forAll = key;
                continue;
            }

            string endpoint = value[..equals];
            if (!endpoints.Contains(endpoint))
            {
                throw new IOException($"--curve-server-key {value}: {endpoint} is not one of the endpoints given (--connect {string.Join(", ", endpoints)}).");
            }

            perEndpoint[endpoint] = key;
        }

        var (secret, pub) = CurveClientKeys.LoadOrCreateKeyPair(secretKeyFile, "--curve-secret-key");
        var keys = new CurveClientKeys { SecretKey = secret, PublicKey = pub, ServerKeys = perEndpoint, DefaultServerKey = forAll };
        if (secretKeyFile is null)
        {
            log.LogInformation(
                "CurveZMQ: a client key pair made for this run (public {PublicKey}); monitors that list allowed clients need a lasting one: --curve-secret-key (ratadns keygen)",
                keys.PublicKeyZ85);
        }

        return keys;
    }

    /// <summary>Where history goes without <c>--history</c>: systemd's state directory, else the working directory.</summary>
    internal static string DefaultHistoryPath() =>
        Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } state
            ? Path.Combine(state.Split(':')[0], "history.sqlite")
            : "ratadns-history.sqlite";

    internal static int Run(AggregateSettings settings, TextWriter errors, CancellationToken cancellation, Action<AggregateRun>? started = null)
    {
        using var commandLog = new CommandLog("ratadns aggregate", errors, settings.Log);
        var log = commandLog.Logger;
        var catalog = new ReducerCatalog(settings.ReducerAssemblies);
        var defaults = new AggregatorOptions();
        ResultArchive? archive = null;
        if (settings.History is { } historyPath)
        {
            var archiveOptions = new ResultArchiveOptions
            {
                Retention = settings.HistoryRetention,
                Catalog = catalog,
                Warn = message => log.LogWarning("{Problem}", message),
            };
            try
            {
                if (PostgresResultArchive.Names(historyPath))
                {
                    archive = PostgresResultArchive.Open(historyPath, archiveOptions, out string? unreachable);
                    if (unreachable is not null)
                    {
                        log.LogWarning("history {Archive}: {Reason}; results wait in memory and are written once it answers.", archive.Describe(), unreachable);
                    }
                }
                else
                {
                    archive = SqliteResultArchive.Open(historyPath, archiveOptions);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                log.LogError("--history {Path}: {Reason}", historyPath, e.Message);
                return ExitCodes.Usage;
            }
        }

        using var archiveLifetime = archive;
        var store = new AggregatorStore(defaults with
        {
            Archive = archive,
            StaleAfter = settings.StaleAfter,
            Spans = settings.Spans is { Count: > 0 } spans ? spans : defaults.Spans,
            Catalog = catalog,
            Warn = message => log.LogWarning("{Problem}", message),
        });
        if (archive is not null)
        {
            try
            {
                int restored = store.Restore(archive);
                log.LogInformation("history in {Archive} (kept {Retention} d): {Restored} results of the last {Hours} h restored", archive.Describe(), archive.Retention.TotalDays, restored, defaults.HistoryLength.TotalHours);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or Microsoft.Data.Sqlite.SqliteException or TimeoutException or InvalidOperationException)
            {
                log.LogWarning("history in {Archive}: nothing restored ({Reason}); new results are still written.", archive.Describe(), e.Message);
            }
        }

        ZeroMqResultSubscriber subscriber;
        try
        {
            subscriber = new ZeroMqResultSubscriber(store, new SubscriberSocketOptions
            {
                Endpoints = settings.Endpoints,
                Bind = settings.Bind,
                Curve = settings.Curve,
                Warn = message => log.LogWarning("{Problem}", message),
                Info = message => log.LogInformation("{News}", message),
            });
        }
        catch (Exception e) when (e is IOException or ArgumentException or NetMQ.NetMQException)
        {
            log.LogError("{Reason}", e.Message);
            return ExitCodes.Usage;
        }

        using var redis = settings.Redis is { } server
            ? new RedisResultSubscriber(store, new RedisSubscriberOptions { Host = server.Host, Port = server.Port, Warn = message => log.LogWarning("{Problem}", message) })
            : null;
        if (redis is not null)
        {
            log.LogInformation("taking results from {Redis}", redis.Describe());
        }

        using (subscriber)
        {
            var metrics = new AggregatorMetrics(store);
            var app = AggregatorWeb.Build(store, new AggregatorWebOptions
            {
                Urls = [settings.HttpUrl],
                Metrics = metrics.Registry,
                Log = (level, message) => log.Log(level, "{Http}", message),
            });
            try
            {
                app.StartAsync(cancellation).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UriFormatException)
            {
                log.LogError("HTTP on {Http}: {Reason}", settings.HttpUrl, e.Message);
                return ExitCodes.Usage;
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Ok;
            }

            var urls = AggregatorWeb.BoundAddresses(app);
            log.LogInformation("{Mode} {Endpoints}; dashboard and API on {Urls}", settings.Bind ? "listening for monitors on" : "subscribed to", string.Join(", ", subscriber.Endpoints), string.Join(", ", urls));
            started?.Invoke(new AggregateRun(store, subscriber, urls));
            try
            {
                cancellation.WaitHandle.WaitOne();
            }
            finally
            {
                app.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
                app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            log.LogInformation("{Received} results received, {Undecodable} undecodable, {States} states merged, {StateErrors} unusable states, {Monitors} monitors.", subscriber.Received, subscriber.DecodeErrors, store.States, store.StateErrors, store.Monitors().Count);
            return ExitCodes.Ok;
        }
    }
}

/// <summary>How <see cref="AggregateCommand.Run"/> subscribes and serves.</summary>
internal sealed record AggregateSettings
{
    public required IReadOnlyList<string> Endpoints { get; init; }

    public bool Bind { get; init; }

    public string HttpUrl { get; init; } = AggregatorWebOptions.DefaultUrl;

    public TimeSpan? StaleAfter { get; init; }

    /// <summary>The moving spans (null: the store's default 1, 5 and 15 minutes).</summary>
    public IReadOnlyList<AggregatorSpan>? Spans { get; init; }

    /// <summary>Plugin reducer assemblies (<c>--reducer-assembly</c>).</summary>
    public IReadOnlyList<Reducers.Plugins.PluginAssemblyReference> ReducerAssemblies { get; init; } = [];

    /// <summary>The SQLite file history is kept in; null keeps it in memory only.</summary>
    public string? History { get; init; }

    /// <summary>How long <see cref="History"/> keeps results.</summary>
    public TimeSpan HistoryRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>CurveZMQ client keys (<c>--curve-secret-key</c>, <c>--curve-server-key</c>), or null.</summary>
    public CurveClientKeys? Curve { get; init; }

    /// <summary>A Redis server whose pub/sub results are taken too (every channel).</summary>
    public (string Host, int Port)? Redis { get; init; }

    /// <summary>Log level, format and <c>--quiet</c> (null: information, text).</summary>
    public App.Logging.LogSettings? Log { get; init; }
}

/// <summary>A running aggregator (for tests): its store, subscriber and HTTP addresses.</summary>
internal sealed record AggregateRun(AggregatorStore Store, ZeroMqResultSubscriber Subscriber, IReadOnlyList<Uri> HttpAddresses);
