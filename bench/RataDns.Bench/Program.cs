using BenchmarkDotNet.Running;

namespace RataDns.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RataDns.Bench -- --filter '*Parse*'</c> runs BenchmarkDotNet;
/// <c>-- --check-alloc</c> runs the allocation budget check instead and exits non-zero when it fails;
/// <c>-- --reducer-costs FILE [MESSAGES]</c> times each reducer (see <see cref="ReducerCosts"/>);
/// <c>-- --publish-costs RESULTS.ndjson</c> times the encoders and ZeroMQ (see <see cref="PublishCosts"/>);
/// <c>-- --merge-costs FILE WINDOWS MESSAGES</c> times the aggregator's merge of states (see <see cref="MergeCosts"/>).
/// <c>-- --store-costs FILE WINDOWS MESSAGES SERVERS [sqlite:PATH] [postgresql://...]</c> times ingest and history writes (see <see cref="StoreCosts"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--check-alloc")
        {
            return AllocationBudget.Run(Console.Out);
        }

        if (args.Length > 1 && args[0] == "--publish-costs")
        {
            return PublishCosts.Run(args[1], Console.Out);
        }

        if (args.Length > 1 && args[0] == "--rank-costs")
        {
            return RankCosts.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 200_000, Console.Out);
        }

        if (args.Length > 3 && args[0] == "--merge-costs")
        {
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            return MergeCosts.Run(args[1], int.Parse(args[2], invariant), int.Parse(args[3], invariant), Console.Out);
        }

        if (args.Length > 4 && args[0] == "--store-costs")
        {
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            return StoreCosts.Run(args[1], int.Parse(args[2], invariant), int.Parse(args[3], invariant), int.Parse(args[4], invariant), args[5..], Console.Out);
        }

        if (args.Length > 1 && args[0] == "--reducer-costs")
        {
            return ReducerCosts.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 200_000, Console.Out);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
