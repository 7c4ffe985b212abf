using RataDns.DnsWire;
using RataDns.Tests.Support;
using RataDns.Transport.Speedy;

namespace RataDns.Tests.DnsWire;

/// <summary>
/// The allocation budget of the per-packet path is zero bytes: parsing a whole message (with typed RDATA, EDNS,
/// name formatting and hashing) and writing its Speedy JSON allocate nothing once warm. Counted with
/// GC.GetAllocatedBytesForCurrentThread, which is exact and independent of timing. The messages are the ones
/// captured from knot in bench/data (see bench/README.md).
/// </summary>
public class AllocationTests
{
    public static TheoryData<string> Messages => new() { "query-edns.bin", "response-compressed.bin", "response-dnssec-large.bin" };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Parsing_a_whole_message_allocates_nothing(string file)
    {
        var message = File.ReadAllBytes(Path.Combine(RepoPaths.Root, "bench", "data", file));
        var text = new byte[DnsPresentation.MaxRdataLength];
        Assert.Equal(DnsParseStatus.Ok, Walk(message, text, out _));

        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            Walk(message, text, out int s);
            sum += s;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(sum != 0);

        // Fewer bytes than messages means nothing per message; the runtime may allocate a few KB once while it
        // recompiles the loop (tiered JIT). bench --check-alloc measures the exact 0 after warm-up.
        Assert.True(allocated < 10_000, $"{allocated} bytes allocated for 10,000 parses");
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Writing_speedy_json_allocates_nothing(string file)
    {
        var message = File.ReadAllBytes(Path.Combine(RepoPaths.Root, "bench", "data", file));
        var writer = new SpeedyMessageWriter(new SpeedyOptions { Anonymizer = RataDns.Transport.AddressAnonymizer.WithRandomKey(), Timestamps = true, Counts = true });
        byte[] source = [192, 0, 2, 1];
        byte[] destination = [198, 51, 100, 53];
        for (int i = 0; i < 100; i++)
        {
            writer.Write(source, destination, message, i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            writer.Write(source, destination, message, i);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(writer.Json.Length > 50);
        Assert.True(allocated < 10_000, $"{allocated} bytes allocated for 10,000 messages");
    }

    private static DnsParseStatus Walk(byte[] message, byte[] text, out int sum)
    {
        var reader = new DnsMessageReader(message);
        sum = reader.Header.Id;
        while (reader.TryReadQuestion(out var q))
        {
            q.Name.TryFormat(text, out int n);
            sum += n + q.Name.GetCaseInsensitiveHash();
        }

        while (reader.TryReadRecord(out var r))
        {
            r.Name.TryFormat(text, out int n);
            sum += n + r.Name.GetCaseInsensitiveHash();
            DnsPresentation.TryFormatRdata(r, text, out int m);
            sum += m;
            if (EdnsRecord.TryRead(r, out var edns))
            {
                foreach (var option in edns.EnumerateOptions())
                {
                    sum += option.Code;
                }
            }
        }

        return reader.Status;
    }
}
