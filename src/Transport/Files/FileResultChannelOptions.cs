namespace RataDns.Transport.Files;

/// <summary>Where a <see cref="FileResultChannel"/> writes, when it starts a new file, and how many old ones it keeps.</summary>
public sealed record FileResultChannelOptions
{
    /// <summary>The file results are appended to (created when missing, appended to when present).</summary>
    public required string Path { get; init; }

    /// <summary>
    /// Rotates before a result would make the file longer than this many bytes (0 = no limit). A result longer
    /// than the limit is written alone in a file of its own; a line is never split across files.
    /// </summary>
    public long MaxBytes { get; init; }

    /// <summary>
    /// Rotates at each multiple of this span since 1970 on the wall clock (an hour: on the hour), as time windows
    /// are aligned; <see cref="TimeSpan.Zero"/> = never. Checked at the end of each window, so a window's results
    /// stay in one file unless <see cref="MaxBytes"/> cuts it.
    /// </summary>
    public TimeSpan RotateEvery { get; init; }

    /// <summary>Rotated files kept; the oldest beyond this are deleted after each rotation (0 = keep all).</summary>
    public int MaxFiles { get; init; }

    /// <summary>The wall clock, for <see cref="RotateEvery"/> and the rotated files' names (tests inject one).</summary>
    public Func<DateTimeOffset> Clock { get; init; } = static () => DateTimeOffset.UtcNow;

    /// <summary>Where a failure (and the recovery after it) is reported, once per episode; null = nowhere.</summary>
    public TextWriter? Log { get; init; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Path);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxFiles);
        ArgumentOutOfRangeException.ThrowIfLessThan(RotateEvery, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(Clock);
    }
}
