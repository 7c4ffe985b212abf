using RataDns.App.Commands;
using RataDns.Reducers;
using RataDns.Configuration;
using RataDns.Reducers.Configuration;
using RataDns.Engine;
using RataDns.Transport.Publishing;

namespace RataDns.App.Service;

/// <summary>
/// What <c>ratadns monitor</c> does as a daemon around <see cref="MonitorCommand.Run"/>: tells the service manager
/// when it is ready and when it stops (<see cref="SystemdNotifier"/>), changes to an unprivileged user once the
/// capture and the outputs are open (<see cref="PrivilegeDrop"/>), and reloads the reducers on SIGHUP.
/// </summary>
/// <remarks>
/// <para>
/// A reload re-reads the configuration file (with the command line's overrides applied again). If it has a problem
/// the error is logged, naming the key, and the run goes on with the reducers it has. Otherwise the new reducer set
/// takes over at the next window boundary (see <see cref="MonitorEngine.ReplaceReducers"/>); at that boundary, on
/// the merger thread, the old outputs are closed and the new configuration's outputs opened (files are appended to).
/// </para>
/// <para>
/// Keys that need a new capture or new threads are not applied: the input (<c>InputMethod</c>, <c>InputSource</c>,
/// <c>Filter</c>, <c>SnapLength</c>, <c>Promiscuous</c>, <c>BufferSizeMiB</c>, <c>Immediate</c>, <c>Speed</c>,
/// <c>Loop</c>, <c>DurationSeconds</c>), <c>Workers</c>, <c>Ports</c>, the window and <c>User</c>. A reload that
/// changes one of them logs "restart needed for ..." and keeps the running value; the rest is applied.
/// </para>
/// </remarks>
internal sealed class MonitorService : IDisposable
{
    private const string Prefix = "ratadns monitor: ";

    private readonly Func<(MonitorConfiguration Configuration, string? User)> _load;
    private readonly TextWriter _log;
    private readonly Lock _reloadGate = new();
    private readonly string? _user;
    private MonitorConfiguration? _running;
    private Func<MonitorConfiguration, Func<IResultChannel>>? _zeroMq;
    private MonitorEngine? _engine;
    private volatile ResultChannels? _outputs;

    /// <param name="load">Reads the configuration file and applies the command line, as at start-up (throws on a problem).</param>
    /// <param name="account">The user to become once the capture is open, or null.</param>
    /// <param name="user">The user as named in the configuration file (to notice a change on reload).</param>
    /// <param name="notifier">The service manager's notification socket.</param>
    /// <param name="log">Standard error.</param>
    public MonitorService(Func<(MonitorConfiguration, string?)> load, ServiceAccount? account, string? user, SystemdNotifier notifier, TextWriter log)
    {
        _load = load;
        Account = account;
        _user = user;
        Notifier = notifier;
        _log = log;
    }

    /// <summary>The account the process changes to, or null to stay as it is.</summary>
    public ServiceAccount? Account { get; }

    public SystemdNotifier Notifier { get; }

    /// <summary>The outputs in use now (after a reload, the new configuration's); the run disposes them at the end.</summary>
    public ResultChannels? Outputs => _outputs;

    /// <summary>Before the capture: the outputs of <paramref name="configuration"/> are open.</summary>
    public void OutputsOpened(MonitorConfiguration configuration, ResultChannels outputs, Func<MonitorConfiguration, Func<IResultChannel>> zeroMq)
    {
        _running = configuration;
        _outputs = outputs;
        _zeroMq = zeroMq;
    }

    /// <summary>
    /// The capture handle is open (or, for a file, the outputs): changes user when asked. Returns why that failed
    /// (the run must stop), or null.
    /// </summary>
    public string? CaptureOpened()
    {
        if (Account is not { } account)
        {
            return null;
        }

        // File outputs open at their first window, after the change: they must be the new user's to write.
        var files = (_running?.Reducers ?? [])
            .Where(r => r.Output.Method == ReducerOutputMethod.File && r.Output.FilePath is not null)
            .Select(r => Path.GetFullPath(r.Output.FilePath!))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var file in files)
        {
            if (PrivilegeDrop.PrepareOutputFile(file, account) is { } problem)
            {
                return problem;
            }
        }

        string? failure = PrivilegeDrop.Become(account);
        if (failure is not null)
        {
            return failure;
        }

        _log.WriteLine($"{Prefix}running as user {account.Name} (uid {account.Uid}, gid {account.Gid})");
        foreach (var file in files.Where(f => !PrivilegeDrop.CanWrite(f)))
        {
            _log.WriteLine($"{Prefix}output file {file} is not writable by {account.Name}: its results are dropped until it is.");
        }

        return null;
    }

    /// <summary>The engine runs and the capture starts: READY=1.</summary>
    public void Started(MonitorEngine engine, string source)
    {
        lock (_reloadGate)
        {
            _engine = engine;
        }

        Notifier.Ready($"capturing from {source}");
    }

    /// <summary>SIGHUP: reloads on a thread of its own (the signal handler returns at once).</summary>
    public void RequestReload()
    {
        var thread = new Thread(Reload) { Name = "ratadns reload", IsBackground = true };
        thread.Start();
    }

    /// <summary>Re-reads the configuration and hands a valid reducer set to the engine for the next window boundary.</summary>
    public void Reload()
    {
        lock (_reloadGate)
        {
            if (_engine is not { } engine || _running is not { } running || _zeroMq is not { } zeroMq)
            {
                _log.WriteLine($"{Prefix}SIGHUP before the capture started: ignored.");
                return;
            }

            Notifier.Reloading();
            MonitorConfiguration fresh;
            string? user;
            List<Reducer> reducers;
            try
            {
                (fresh, user) = _load();
                reducers = [.. fresh.Reducers.Select(ReducerRegistry.Create)];
            }
            catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException or NotSupportedException)
            {
                _log.WriteLine($"{Prefix}reload failed, the running configuration is kept: {e.Message}");
                Notifier.Ready("reload failed, running the previous configuration");
                return;
            }

            var restart = RestartNeeded(running, fresh, user);
            if (restart.Count > 0)
            {
                _log.WriteLine($"{Prefix}reload: restart needed for {string.Join(", ", restart)} (the running value is kept).");
            }

            var applied = fresh with { Capture = running.Capture, Window = running.Window, Workers = running.Workers, Ports = running.Ports };
            var sink = new ReloadedWindowSink();
            string names = string.Join(", ", reducers.Select(r => r.Type));
            bool replaced = engine.ReplaceReducers(reducers, sink, sequence => SwitchOutputs(applied, reducers, sink, zeroMq, sequence, names));
            _running = applied;
            _log.WriteLine($"{Prefix}reload: configuration valid{(replaced ? " (replaces a reload not yet applied)" : string.Empty)}; reducers {names} take over at the next window boundary.");
            Notifier.Ready($"reloaded: {names}");
        }
    }

    public void Dispose() => Notifier.Dispose();

    /// <summary>The keys whose change needs a new capture, threads or user.</summary>
    private List<string> RestartNeeded(MonitorConfiguration running, MonitorConfiguration fresh, string? user)
    {
        var keys = new List<string>();
        CaptureConfiguration a = running.Capture, b = fresh.Capture;
        if (a.InputMethod != b.InputMethod || a.InputSource != b.InputSource)
        {
            keys.Add("InputMethod/InputSource");
        }

        void Check(bool same, string key)
        {
            if (!same)
            {
                keys.Add(key);
            }
        }

        Check(a.Filter == b.Filter, "Filter");
        Check(a.SnapLength == b.SnapLength, "SnapLength");
        Check(a.Promiscuous == b.Promiscuous, "Promiscuous");
        Check(a.BufferSizeMiB == b.BufferSizeMiB, "BufferSizeMiB");
        Check(a.Immediate == b.Immediate, "Immediate");
        Check(a.Speed.Equals(b.Speed), "Speed");
        Check(a.Loop == b.Loop, "Loop");
        Check(a.Duration == b.Duration, "DurationSeconds");
        Check(running.Window.Equals(fresh.Window), "the window (WindowSize/WindowMilliseconds)");
        Check(running.Workers == fresh.Workers, "Workers");
        Check(running.Ports.SequenceEqual(fresh.Ports), "Ports");
        Check(string.Equals(_user, user, StringComparison.Ordinal), "User");
        return keys;
    }

    /// <summary>Merger thread, at the boundary: closes the old outputs and opens the new configuration's.</summary>
    private void SwitchOutputs(MonitorConfiguration applied, List<Reducer> reducers, ReloadedWindowSink sink, Func<MonitorConfiguration, Func<IResultChannel>> zeroMq, long sequence, string names)
    {
        _outputs?.Dispose();
        try
        {
            var outputs = ResultChannels.Open(applied, [.. reducers.Select(r => r.Type)], new PrefixedLog(_log, Prefix), zeroMq(applied));
            sink.Attach(new WindowEnvelopeWriter(applied.ServerId, outputs));
            _outputs = outputs;
            _log.WriteLine($"{Prefix}reload: from window {sequence} on, reducers {names}.");
        }
        catch (Exception e) when (e is ConfigurationException or NotSupportedException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            _outputs = ResultChannels.Open(applied with { Reducers = [] }, [], _log, null);
            _log.WriteLine($"{Prefix}reload: cannot open the new outputs ({e.Message}); results from window {sequence} on are dropped until a reload succeeds.");
        }
    }

    /// <summary>The sink of a reloaded reducer set: its writer is attached when its outputs open, at the boundary.</summary>
    private sealed class ReloadedWindowSink : IWindowResultSink
    {
        private WindowEnvelopeWriter? _writer;

        public void Attach(WindowEnvelopeWriter writer) => _writer = writer;

        public void OnWindow(in WindowSummary window, IReadOnlyList<Reducer> results) => _writer?.OnWindow(in window, results);

        public void Complete() => _writer?.Complete();
    }
}
