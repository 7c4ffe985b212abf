namespace RataDns.App.Service;

/// <summary>The change to the <c>--user</c> account failed after the capture was opened: the run stops before reading.</summary>
internal sealed class PrivilegeDropException : Exception
{
    public PrivilegeDropException(string message)
        : base(message)
    {
    }

    /// <summary>Throws when <paramref name="failure"/> (from <see cref="MonitorService.CaptureOpened"/>) names a failure.</summary>
    public static void ThrowIfFailed(string? failure)
    {
        if (failure is not null)
        {
            throw new PrivilegeDropException(failure);
        }
    }
}
