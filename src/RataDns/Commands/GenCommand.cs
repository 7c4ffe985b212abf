using System.CommandLine;
using RataDns.App.Gen;

namespace RataDns.App.Commands;

/// <summary><c>ratadns gen</c>: writes a synthetic but realistic DNS capture, for benchmarks and samples.</summary>
public static class GenCommand
{
    public static Command Create()
    {
        var output = new Argument<string>("output") { Description = "The pcap file to write." };
        var packets = new Option<long>("--packets", "-n")
        {
            Description = "How many packets (queries and responses each count one).",
            DefaultValueFactory = _ => 10_000,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the traffic model.", DefaultValueFactory = _ => 1 };
        var rate = new Option<double>("--rate")
        {
            Description = "Mean packets per second of capture time.",
            DefaultValueFactory = _ => 10_000,
        };
        var uniqueNames = new Option<bool>("--unique-names")
        {
            Description = $"A random-subdomain flood instead: every query a new name under {SyntheticCapture.FloodZone}, every response NXDOMAIN.",
        };
        var command = new Command("gen", "Write a synthetic DNS capture (Zipf-like names, many clients, UDP and TCP, v4 and v6).")
        {
            output, packets, seed, rate, uniqueNames,
        };
        command.SetAction(parse =>
        {
            long n = parse.GetValue(packets);
            double r = parse.GetValue(rate);
            if (n < 0 || r <= 0)
            {
                Console.Error.WriteLine("ratadns gen: --packets must be 0 or more and --rate above 0.");
                return ExitCodes.Usage;
            }

            try
            {
                long written = SyntheticCapture.Write(parse.GetValue(output)!, n, parse.GetValue(seed), r, uniqueNames: parse.GetValue(uniqueNames));
                Console.Error.WriteLine($"ratadns gen: wrote {written} packets to {parse.GetValue(output)}");
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"ratadns gen: {e.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
