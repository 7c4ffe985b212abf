using System.Runtime.InteropServices;

namespace RataDns.App.Commands;

/// <summary>A cancellation token that SIGINT (Ctrl-C) and SIGTERM trip, so a capture ends cleanly and says what it saw.</summary>
internal sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _int;
    private readonly PosixSignalRegistration _term;

    private Interrupt()
    {
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    public CancellationToken Token => _source.Token;

    public static Interrupt OnCancelKeyOrTerm() => new();

    public void Dispose()
    {
        _int.Dispose();
        _term.Dispose();
        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        // The first signal stops the capture gracefully; the process then exits on its own.
        context.Cancel = true;
        _source.Cancel();
    }
}
