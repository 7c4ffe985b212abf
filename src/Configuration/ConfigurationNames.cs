using RataDns.Reducers.Configuration;

namespace RataDns.Configuration;

/// <summary>The spellings of enumerated values in configuration files and on the command line (matched ignoring case).</summary>
public static class ConfigurationNames
{
    private static readonly (string Name, CaptureInputMethod Value)[] InputMethods =
    [
        ("capture_file", CaptureInputMethod.CaptureFile),
        ("interface", CaptureInputMethod.Interface),
        ("stdin", CaptureInputMethod.Stdin),
        ("dnstap", CaptureInputMethod.Dnstap),
    ];

    private static readonly (string Name, ReducerOutputMethod Value)[] OutputMethods =
    [
        ("stdout", ReducerOutputMethod.Stdout),
        ("file", ReducerOutputMethod.File),
        ("redis", ReducerOutputMethod.Redis),
        ("zmq", ReducerOutputMethod.Zmq),
    ];

    /// <summary>The valid <c>InputMethod</c> values: capture_file, interface, stdin, dnstap.</summary>
    public static IReadOnlyList<string> InputMethodNames { get; } = [.. InputMethods.Select(m => m.Name)];

    /// <summary>The valid <c>OutputMethod</c> values: stdout, file, redis, zmq.</summary>
    public static IReadOnlyList<string> OutputMethodNames { get; } = [.. OutputMethods.Select(m => m.Name)];

    /// <summary>Reads an <c>InputMethod</c> value, ignoring case.</summary>
    public static bool TryParseInputMethod(string text, out CaptureInputMethod method)
    {
        foreach (var (name, value) in InputMethods)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                method = value;
                return true;
            }
        }

        method = default;
        return false;
    }

    /// <summary>Reads an <c>OutputMethod</c> value, ignoring case.</summary>
    public static bool TryParseOutputMethod(string text, out ReducerOutputMethod method)
    {
        foreach (var (name, value) in OutputMethods)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                method = value;
                return true;
            }
        }

        method = default;
        return false;
    }

    /// <summary>The configuration spelling of an input method (e.g. <c>capture_file</c>).</summary>
    public static string NameOf(CaptureInputMethod method) => InputMethods.First(m => m.Value == method).Name;

    /// <summary>The configuration spelling of an output method (e.g. <c>redis</c>).</summary>
    public static string NameOf(ReducerOutputMethod method) => OutputMethods.First(m => m.Value == method).Name;
}
