using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace RataDns.App.Logging;

/// <summary>How the diagnostic lines on standard error look: <c>ratadns CMD: message</c> or one JSON object a line.</summary>
internal enum LogFormat
{
    Text,
    Json,
}

/// <summary>The logging and progress settings of a run, from the global options.</summary>
/// <param name="MinimumLevel">Lines below this level are not written.</param>
/// <param name="Format">Text (today's lines) or JSON lines.</param>
/// <param name="Quiet">No progress bar and no end-of-run summary.</param>
internal sealed record LogSettings(LogLevel MinimumLevel = LogLevel.Information, LogFormat Format = LogFormat.Text, bool Quiet = false)
{
    /// <summary>The defaults: information and above, as text, with progress and summary.</summary>
    public static LogSettings Default { get; } = new();
}

/// <summary>
/// The options every subcommand takes (recursive options of the root command): <c>--log-level</c>,
/// <c>--log-format</c> and <c>--quiet</c>.
/// </summary>
internal static class GlobalOptions
{
    private static readonly string[] LevelNames = ["trace", "debug", "information", "warning", "error"];

    public static Option<string> LogLevelOption { get; } = Make(new Option<string>("--log-level")
    {
        Description = "Diagnostics at this level and above go to standard error: trace, debug, information (default), warning or error.",
        DefaultValueFactory = _ => "information",
        Recursive = true,
    }, LevelNames);

    public static Option<string> LogFormatOption { get; } = Make(new Option<string>("--log-format")
    {
        Description = "text (default: \"ratadns COMMAND: message\") or json (one object a line: timestamp, level, category, message and the message's fields).",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    }, ["text", "json"]);

    public static Option<bool> QuietOption { get; } = new("--quiet", "-q")
    {
        Description = "Only warnings and errors: no progress bar, no information lines, no summary at the end of a file (--log-level overrides).",
        Recursive = true,
    };

    /// <summary>Adds the global options to the root command.</summary>
    public static void AddTo(RootCommand root)
    {
        root.Options.Add(LogLevelOption);
        root.Options.Add(LogFormatOption);
        root.Options.Add(QuietOption);
    }

    /// <summary>The settings the command line asks for (the defaults when the options are not in this parse).</summary>
    public static LogSettings Read(ParseResult parse)
    {
        string? level = parse.GetValue(LogLevelOption);
        string? format = parse.GetValue(LogFormatOption);
        bool quiet = parse.GetValue(QuietOption);
        // -q keeps warnings and errors only, unless --log-level says otherwise.
        bool levelGiven = parse.GetResult(LogLevelOption) is { Implicit: false };
        return new LogSettings(
            level switch
            {
                "trace" => LogLevel.Trace,
                "debug" => LogLevel.Debug,
                "warning" => LogLevel.Warning,
                "error" => LogLevel.Error,
                _ => quiet && !levelGiven ? LogLevel.Warning : LogLevel.Information,
            },
            format == "json" ? LogFormat.Json : LogFormat.Text,
            quiet);
    }

    private static Option<string> Make(Option<string> option, string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
