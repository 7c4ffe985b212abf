namespace RataDns.Configuration;

/// <summary>Fievel's <c>InputMethod</c> values.</summary>
public enum CaptureInputMethod
{
    /// <summary><c>stdin</c>: a pcap stream on standard input (e.g. <c>tcpdump -U -w -</c>).</summary>
    Stdin,

    /// <summary><c>capture_file</c>: a pcap or pcapng file named by <c>InputSource</c>.</summary>
    CaptureFile,

    /// <summary><c>interface</c>: live capture through libpcap on the interface named by <c>InputSource</c>.</summary>
    Interface,

    /// <summary>
    /// <c>dnstap</c>: DNS servers' dnstap, received on the socket named by <c>InputSource</c> (<c>unix:PATH</c> or
    /// <c>tcp://ADDRESS:PORT</c>), or read from the Frame Streams file it names.
    /// </summary>
    Dnstap,
}

/// <summary>
/// Where packets come from and how they are read, as written in the configuration file. A plain record: the app
/// maps it onto its own capture settings. Defaults are those of <c>ratadns</c>'s command-line flags.
/// </summary>
public sealed record CaptureConfiguration
{
    /// <summary>The default BPF filter of a live capture.</summary>
    public const string DefaultFilter = "port 53";

    /// <summary><c>InputMethod</c>; default <see cref="CaptureInputMethod.Stdin"/> (as Fievel did when it was absent).</summary>
    public CaptureInputMethod InputMethod { get; init; } = CaptureInputMethod.Stdin;

    /// <summary><c>InputSource</c>: the file for <c>capture_file</c>, the interface for <c>interface</c>, the socket (or file) for <c>dnstap</c>; unused for <c>stdin</c>.</summary>
    public string? InputSource { get; init; }

    /// <summary><c>Filter</c>: BPF filter for live capture; default <c>port 53</c>.</summary>
    public string Filter { get; init; } = DefaultFilter;

    /// <summary><c>SnapLength</c>: bytes captured per packet (live), 64 to 262144; default 65535.</summary>
    public int SnapLength { get; init; } = 65535;

    /// <summary><c>Promiscuous</c>: put the interface in promiscuous mode; default false.</summary>
    public bool Promiscuous { get; init; }

    /// <summary><c>BufferSizeMiB</c>: kernel capture buffer in MiB, 1 to 2047; default 32.</summary>
    public int BufferSizeMiB { get; init; } = 32;

    /// <summary><c>Immediate</c>: libpcap immediate mode (each packet at once) instead of blocks; default false.</summary>
    public bool Immediate { get; init; }

    /// <summary><c>Speed</c>: replay speed for files: 0 as fast as possible (default), 1 the capture's timing, n times faster.</summary>
    public double Speed { get; init; }

    /// <summary><c>Loop</c>: how many times a file is read; default 1.</summary>
    public int Loop { get; init; } = 1;

    /// <summary><c>DurationSeconds</c>: stop a live capture after this long; null (default) runs until interrupted.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>The file to read, or "-" for standard input; null for a live capture.</summary>
    public string? Input => InputMethod switch
    {
        CaptureInputMethod.CaptureFile => InputSource,
        CaptureInputMethod.Dnstap when !IsSocket(InputSource) => InputSource,
        CaptureInputMethod.Stdin => "-",
        _ => null,
    };

    /// <summary>The interface of a live capture, or null.</summary>
    public string? Interface => InputMethod == CaptureInputMethod.Interface ? InputSource : null;

    /// <summary>The dnstap socket listened on (<c>unix:PATH</c> or <c>tcp://ADDRESS:PORT</c>), or null.</summary>
    public string? DnstapSocket => InputMethod == CaptureInputMethod.Dnstap && IsSocket(InputSource) ? InputSource : null;

    /// <summary>Whether <paramref name="source"/> names a dnstap socket rather than a file.</summary>
    public static bool IsSocket(string? source) =>
        source is not null && (source.StartsWith("unix:", StringComparison.Ordinal) || source.StartsWith("tcp://", StringComparison.Ordinal));

    /// <summary><see cref="BufferSizeMiB"/> in bytes.</summary>
    public int KernelBufferBytes => BufferSizeMiB << 20;
}
