using BenchmarkDotNet.Attributes;

namespace RataDns.Bench;

/// <summary>
/// Whole-message parse of three real messages (bench/data) with RataDns.DnsWire, ARSoft.Tools.Net and DnsClient.NET.
/// Each method walks the header, every question and record, every name and the cheap typed RDATA
/// (see <see cref="MessageWalkers"/>).
/// </summary>
[MemoryDiagnoser]
public class DnsParseBenchmarks
{
    private byte[] _message = [];

    [ParamsSource(nameof(Messages))]
    public string Message { get; set; } = SampleMessages.QueryEdns;

    public static IEnumerable<string> Messages => SampleMessages.Names;

    [GlobalSetup]
    public void Setup() => _message = SampleMessages.Load(Message);

    [Benchmark(Baseline = true)]
    public int RataDnsWire() => MessageWalkers.RataDnsWire(_message);

    [Benchmark]
    public int ArSoftParse() => MessageWalkers.ArSoft(_message);

    [Benchmark]
    public int DnsClientPublicReader() => MessageWalkers.DnsClientPublicReader(_message);

    [Benchmark]
    public int DnsClientInternalParser() => MessageWalkers.DnsClientInternalParser(_message);
}
