using Microsoft.Extensions.Logging;

namespace RataDns.App.Logging;

/// <summary>
/// The log of one command run: an <see cref="ILogger"/> whose category is the command's name
/// (<c>ratadns monitor</c>), writing to standard error (or a test's writer) at the <c>--log-level</c> and in the
/// <c>--log-format</c> asked for. Results never go through it: they go to their outputs.
/// </summary>
internal sealed class CommandLog : IDisposable
{
    private readonly ILoggerFactory _factory;
    private readonly LineLoggerProvider _provider;

    public CommandLog(string command, TextWriter errors, LogSettings? settings = null)
    {
        Settings = settings ?? LogSettings.Default;
        _provider = new LineLoggerProvider(errors, Settings.Format);
        var provider = _provider;
        var minimum = Settings.MinimumLevel;
        // The factory made directly, not through LoggerFactory.Create: that builds a dependency-injection container
        // for one provider and a level: about 15 ms of every command's start-up (`monitor` on an empty capture,
        // 3 x 7 interleaved runs: 185 ms against 199).
        _factory = new LoggerFactory([provider], new LoggerFilterOptions { MinLevel = minimum });
        Logger = _factory.CreateLogger(command);
    }

    public LogSettings Settings { get; }

    public ILogger Logger { get; }

    /// <summary>The writer, its lock and status line, for the progress bar that shares standard error.</summary>
    internal LineLoggerProvider Output => _provider;

    /// <summary>
    /// A <see cref="TextWriter"/> for the libraries that take one (engine placement, output channels): each line
    /// written becomes a log entry at <paramref name="level"/>.
    /// </summary>
    public TextWriter AsWriter(LogLevel level) => new LoggerTextWriter(Logger, level);

    /// <summary>
    /// A multi-line report asked for on the command line (<c>--stats</c>): written as it is in text format; in JSON,
    /// each line becomes an information entry, so every line of standard error stays one JSON object.
    /// </summary>
    public void Report(string text)
    {
        if (Settings.Format == LogFormat.Text)
        {
            _provider.WriteRaw(text);
            return;
        }

        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Logger.LogInformation("{Report}", line.TrimEnd('\r'));
        }
    }

    public void Dispose() => _factory.Dispose();
}

/// <summary>Turns each line written into a log entry at one level (for code that logs to a <see cref="TextWriter"/>).</summary>
internal sealed class LoggerTextWriter(ILogger logger, LogLevel level) : TextWriter
{
    private readonly System.Text.StringBuilder _pending = new();

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void WriteLine(string? value)
    {
        lock (_pending)
        {
            if (_pending.Length > 0)
            {
                value = _pending.Append(value).ToString();
                _pending.Clear();
            }
        }

        // The line is the message as it is (not a template: braces in it are text).
        logger.Log(level, default, (value ?? string.Empty).TrimEnd('\r'), null, static (line, _) => line);
    }

    public override void Write(char value)
    {
        if (value == '\n')
        {
            WriteLine(string.Empty);
            return;
        }

        lock (_pending)
        {
            _pending.Append(value);
        }
    }
}
