using BenchmarkDotNet.Running;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --filter '*Parse*'</c> runs BenchmarkDotNet;
/// <c>-- --check-alloc</c> runs the allocation budget check instead and exits non-zero when it fails.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--check-alloc")
        {
            return AllocationBudget.Run(Console.Out);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
