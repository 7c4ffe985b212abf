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
            // A daemon started with SIGHUP ignored (nohup, some supervisors) inherits the ignore, and the runtime
            // leaves an ignored signal ignored: the reload would never come. Asking for a reload handler means SIGHUP
            // is wanted, so its disposition goes back to the default before the runtime installs its handler.
            if (OperatingSystem.IsLinux())
            {
                _ = ResetToDefault(SignalHangUp, IntPtr.Zero);
            }

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

    private const int SignalHangUp = 1;

    // signal(2); IntPtr.Zero is SIG_DFL.
    [DllImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static extern IntPtr ResetToDefault(int signal, IntPtr handler);

    private void Handle(PosixSignalContext context)
    {
        // The first signal stops the capture gracefully; the process then exits on its own.
        context.Cancel = true;
        _source.Cancel();
    }
}
