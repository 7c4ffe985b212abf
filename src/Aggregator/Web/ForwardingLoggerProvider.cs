using Microsoft.Extensions.Logging;

namespace RataDns.Aggregator.Web;

/// <summary>Hands ASP.NET Core's log lines to the program's own logging, one line each (an exception by its message).</summary>
internal sealed class ForwardingLoggerProvider(Action<LogLevel, string> write) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Forwarder(categoryName, write);

    public void Dispose()
    {
    }

    private sealed class Forwarder(string category, Action<LogLevel, string> write) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception).ReplaceLineEndings(" ");
            write(logLevel, exception is null ? $"http ({category}): {message}" : $"http ({category}): {message}: {exception.Message.ReplaceLineEndings(" ")}");
        }
    }
}
