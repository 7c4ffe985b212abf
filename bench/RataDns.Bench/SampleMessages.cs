namespace RataDns.Bench;

/// <summary>
/// The real messages captured from knotd by bench/data/capture-messages.sh, embedded in this assembly.
/// </summary>
public static class SampleMessages
{
    public const string QueryEdns = "query-edns";
    public const string ResponseCompressed = "response-compressed";
    public const string ResponseDnssecLarge = "response-dnssec-large";

    public static IEnumerable<string> Names => [QueryEdns, ResponseCompressed, ResponseDnssecLarge];

    public static byte[] Load(string name)
    {
        using var stream = typeof(SampleMessages).Assembly.GetManifestResourceStream(name + ".bin")
            ?? throw new InvalidOperationException($"The embedded message {name}.bin is missing.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
