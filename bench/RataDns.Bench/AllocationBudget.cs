using RataDns.DnsWire;

namespace RataDns.Bench;

/// <summary>
/// The allocation budget of the per-packet path: parsing a whole message, formatting its names and hashing them
/// must allocate 0 bytes. Each operation runs 100,000 times per sample message after a warm-up (so tiering and
/// static constructors are done) and the thread's allocated-bytes counter must not move.
/// </summary>
public static class AllocationBudget
{
    private const int Iterations = 100_000;

    public static int Run(TextWriter output)
    {
        bool ok = true;
        foreach (string name in SampleMessages.Names)
        {
            byte[] message = SampleMessages.Load(name);
            int[] nameOffsets = NameOffsets.Collect(message);
            if (MessageWalkers.RataDnsWire(message) < 0)
            {
                output.WriteLine($"FAIL {name}: the reader reports a malformed message");
                ok = false;
            }

            ok &= Check(output, name, "parse whole message", message, nameOffsets, static (m, _) => MessageWalkers.RataDnsWire(m));
            ok &= Check(output, name, "format every name", message, nameOffsets, FormatNames);
            ok &= Check(output, name, "hash every name", message, nameOffsets, HashNames);
        }

        output.WriteLine(ok ? "allocation budget: OK (0 bytes)" : "allocation budget: FAILED");
        return ok ? 0 : 1;
    }

    private delegate int Operation(ReadOnlySpan<byte> message, int[] nameOffsets);

    private static bool Check(TextWriter output, string message, string what, byte[] bytes, int[] nameOffsets, Operation operation)
    {
        int sink = 0;
        for (int i = 0; i < Iterations; i++)
        {
            sink += operation(bytes, nameOffsets);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++)
        {
            sink += operation(bytes, nameOffsets);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        bool ok = allocated == 0;
        output.WriteLine($"{(ok ? "ok  " : "FAIL")} {message,-22} {what,-20} {Iterations:N0} runs: {allocated} bytes allocated (checksum {sink})");
        return ok;
    }

    private static int FormatNames(ReadOnlySpan<byte> message, int[] nameOffsets)
    {
        Span<byte> buffer = stackalloc byte[DnsName.MaxPresentationLength];
        int sum = 0;
        foreach (int offset in nameOffsets)
        {
            DnsName.TryRead(message, offset, out var name);
            name.TryFormat(buffer, out int written);
            sum += written;
        }

        return sum;
    }

    private static int HashNames(ReadOnlySpan<byte> message, int[] nameOffsets)
    {
        int sum = 0;
        foreach (int offset in nameOffsets)
        {
            DnsName.TryRead(message, offset, out var name);
            sum += name.GetCaseInsensitiveHash();
        }

        return sum;
    }
}
