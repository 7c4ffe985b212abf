using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace RataDns.App.Logging;

/// <summary>
/// Writes every log entry as one line to a <see cref="TextWriter"/> (standard error, or a test's writer),
/// synchronously and under one lock, so lines from the reading, merger and output threads never mix and keep
/// their order with the reports written beside them. Text: <c>CATEGORY: message</c> (the category is the command,
/// e.g. <c>ratadns monitor</c>, so lines look as they always have). JSON: one object a line with
/// <c>timestamp</c>, <c>level</c>, <c>category</c>, <c>message</c>, the message template's fields, and
/// <c>exception</c> when there is one.
/// </summary>
/// <remarks>
/// Not the console provider of Microsoft.Extensions.Logging.Console: that one writes from a queue on its own
/// thread, to the process's console only, so its lines could land after the end-of-run report or the exit.
/// </remarks>
internal sealed class LineLoggerProvider(TextWriter writer, LogFormat format) : ILoggerProvider
{
    private readonly ArrayBufferWriter<byte> _json = new(512);

    /// <summary>The lock every writer of the same standard error takes (log lines, progress bar, reports).</summary>
    public object Sync { get; } = new();

    /// <summary>A line drawn in place (the progress bar) that is erased before a log line is written; or null.</summary>
    public IStatusLine? Status { get; set; }

    public TextWriter Writer => writer;

    public ILogger CreateLogger(string categoryName) => new LineLogger(this, categoryName);

    public void Dispose() => writer.Flush();

    /// <summary>Writes raw text (a multi-line report) as it is, after erasing the status line.</summary>
    public void WriteRaw(string text)
    {
        lock (Sync)
        {
            Status?.Erase(writer);
            writer.Write(text);
            writer.Flush();
        }
    }

    private void Write<TState>(string category, LogLevel level, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception);
        lock (Sync)
        {
            Status?.Erase(writer);
            if (format == LogFormat.Text)
            {
                writer.Write(category);
                writer.Write(": ");
                writer.WriteLine(exception is null ? message : $"{message} ({exception.Message})");
            }
            else
            {
                _json.ResetWrittenCount();
                using (var json = new Utf8JsonWriter(_json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    json.WriteStartObject();
                    json.WriteString("timestamp", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
                    json.WriteString("level", LevelName(level));
                    json.WriteString("category", category);
                    json.WriteString("message", message);
                    if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
                    {
                        foreach (var (key, value) in fields)
                        {
                            if (key is "{OriginalFormat}" or "timestamp" or "level" or "category" or "message" or "exception")
                            {
                                continue;
                            }

                            WriteField(json, key, value);
                        }
                    }

                    if (exception is not null)
                    {
                        json.WriteString("exception", exception.ToString());
                    }

                    json.WriteEndObject();
                }

                writer.WriteLine(Encoding.UTF8.GetString(_json.WrittenSpan));
            }

            writer.Flush();
        }
    }

    private static void WriteField(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int or long or short or byte or uint or ushort or ulong:
                json.WriteNumber(key, Convert.ToDecimal(value, CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d):
                json.WriteNumber(key, d);
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>The level as <c>--log-level</c> spells it.</summary>
    internal static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };

    private sealed class LineLogger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // The factory filters by the minimum level; this provider writes whatever reaches it.
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, state, exception, formatter);
            }
        }
    }
}

/// <summary>A line redrawn in place on standard error (the progress bar), erased before anything else is written there.</summary>
internal interface IStatusLine
{
    /// <summary>Erases the line if it is shown; called under the writer's lock.</summary>
    void Erase(TextWriter writer);
}
