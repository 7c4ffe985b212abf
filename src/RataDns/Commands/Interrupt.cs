using System.Runtime.InteropServices;

namespace RataDns.App.Commands;

/// <summary>
/// A cancellation token that SIGINT (Ctrl-C) and SIGTERM trip, so a capture ends cleanly and says what it saw; with a
/// hang-up action, SIGHUP calls it (a reload) instead of ending the process.
/// </summary>
internal sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _int;
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration? _hangUp;

    private Interrupt(Action? onHangUp)
    {
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        if (onHangUp is not null)
        {
            _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                onHangUp();
            });
        }
    }

    public CancellationToken Token => _source.Token;

    public static Interrupt OnCancelKeyOrTerm(Action? onHangUp = null) => new(onHangUp);

    public void Dispose()
    {
        _int.Dispose();
        _term.Dispose();
        _hangUp?.Dispose();
        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        // The first signal stops the capture gracefully; the process then exits on its own.
        context.Cancel = true;
        _source.Cancel();
    }
}
