using ARSoft.Tools.Net;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DnsClient;
using RataDns.DnsWire;
using ArsoftMessage = ARSoft.Tools.Net.Dns.DnsMessage;

namespace RataDns.Bench;

/// <summary>
/// Per-name work a monitor does on every packet: turning a name at an offset into presentation text (Format) and
/// hashing it case-insensitively for a counter table (Hash). Every owner name, question name and SRV/MX/RRSIG name
/// of the message is processed once per call.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class DnsNameBenchmarks
{
    private byte[] _message = [];
    private int[] _nameOffsets = [];
    private string[] _nameStrings = [];
    private DomainName[] _arSoftNames = [];
    private readonly byte[] _formatBuffer = new byte[DnsName.MaxPresentationLength];

    [ParamsSource(nameof(Messages))]
    public string Message { get; set; } = SampleMessages.ResponseCompressed;

    public static IEnumerable<string> Messages => SampleMessages.Names;

    [GlobalSetup]
    public void Setup()
    {
        _message = SampleMessages.Load(Message);
        _nameOffsets = NameOffsets.Collect(_message);
        _nameStrings = [.. _nameOffsets.Select(o => new DnsDatagramReader(new ArraySegment<byte>(_message), o).ReadDnsName().Value)];
        var parsed = ArsoftMessage.Parse(_message);
        _arSoftNames =
        [
            .. parsed.Questions.Select(q => q.Name),
            .. parsed.AnswerRecords.Concat(parsed.AuthorityRecords).Concat(parsed.AdditionalRecords).Select(r => r.Name),
        ];
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Format")]
    public int FormatRataDns()
    {
        int sum = 0;
        foreach (int offset in _nameOffsets)
        {
            DnsName.TryRead(_message, offset, out var name);
            name.TryFormat(_formatBuffer, out int written);
            sum += written;
        }

        return sum;
    }

    /// <summary>DnsClient's public reader decoding the name at the same offset into a string.</summary>
    [Benchmark]
    [BenchmarkCategory("Format")]
    public int FormatDnsClientReadDnsName()
    {
        int sum = 0;
        foreach (int offset in _nameOffsets)
        {
            sum += new DnsDatagramReader(new ArraySegment<byte>(_message), offset).ReadDnsName().Value.Length;
        }

        return sum;
    }

    /// <summary>ARSoft's already-parsed DomainName objects (owner and question names only) to strings.</summary>
    [Benchmark]
    [BenchmarkCategory("Format")]
    public int FormatArSoftToString()
    {
        int sum = 0;
        foreach (var name in _arSoftNames)
        {
            sum += name.ToString().Length;
        }

        return sum;
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Hash")]
    public int HashRataDns()
    {
        int sum = 0;
        foreach (int offset in _nameOffsets)
        {
            DnsName.TryRead(_message, offset, out var name);
            sum += name.GetCaseInsensitiveHash();
        }

        return sum;
    }

    /// <summary>Best case for string keys: the names are already strings; OrdinalIgnoreCase hashing only.</summary>
    [Benchmark]
    [BenchmarkCategory("Hash")]
    public int HashPreformattedStringOrdinalIgnoreCase()
    {
        int sum = 0;
        foreach (string name in _nameStrings)
        {
            sum += StringComparer.OrdinalIgnoreCase.GetHashCode(name);
        }

        return sum;
    }

    /// <summary>The usual string path: decode the name (DnsClient's reader), lowercase it, hash the string.</summary>
    [Benchmark]
    [BenchmarkCategory("Hash")]
    public int HashDecodeLowerString()
    {
        int sum = 0;
        foreach (int offset in _nameOffsets)
        {
            string name = new DnsDatagramReader(new ArraySegment<byte>(_message), offset).ReadDnsName().Value;
            sum += name.ToLowerInvariant().GetHashCode();
        }

        return sum;
    }
}

/// <summary>Offsets of the names in a message: question names, owner names, and the SRV, MX and RRSIG names.</summary>
public static class NameOffsets
{
    public static int[] Collect(ReadOnlySpan<byte> message)
    {
        var offsets = new List<int>();
        var reader = new DnsMessageReader(message);
        while (reader.TryReadQuestion(out var question))
        {
            offsets.Add(question.Name.Offset);
        }

        while (reader.TryReadRecord(out var record))
        {
            offsets.Add(record.Name.Offset);
            // The typed readers trust the caller on the type, so dispatch on it.
            if (record.Type == DnsRecordType.SRV && DnsRdata.TryReadSrv(record, out var srv))
            {
                offsets.Add(srv.Target.Offset);
            }
            else if (record.Type == DnsRecordType.MX && DnsRdata.TryReadMx(record, out var mx))
            {
                offsets.Add(mx.Exchange.Offset);
            }
            else if (record.Type == DnsRecordType.RRSIG && DnsRdata.TryReadRrsig(record, out var sig))
            {
                offsets.Add(sig.SignerName.Offset);
            }
        }

        return [.. offsets];
    }
}
