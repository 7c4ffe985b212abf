using System.CommandLine;
using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.App.Gen;

namespace RataDns.App.Commands;

/// <summary><c>ratadns gen</c>: writes a synthetic but realistic DNS capture, for benchmarks and samples.</summary>
public static class GenCommand
{
    /// <summary>The values of <c>--flood</c> and the floods they name.</summary>
    private static readonly (string Name, SyntheticFlood Kind)[] FloodKinds =
    [
        ("names", SyntheticFlood.Names),
        ("clients", SyntheticFlood.Clients),
        ("tcp", SyntheticFlood.Tcp),
        ("fragments", SyntheticFlood.Fragments),
    ];

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
            Description = $"A random-subdomain flood instead: every query a new name under {SyntheticCapture.FloodZone}, every response NXDOMAIN (the same as --flood names).",
        };
        var flood = new Option<string>("--flood")
        {
            Description = "A flood instead: names (every query a new name, NXDOMAIN), clients (every query from a new client), "
                + "tcp (SYN then half a length-prefixed query from a new client and port, never completed), "
                + "fragments (only the first IPv4 fragment of large UDP responses, never completed).",
        };
        flood.AcceptOnlyFromAmong(FloodKinds.Select(k => k.Name).ToArray());
        var command = new Command("gen", "Write a synthetic DNS capture (Zipf-like names, many clients, UDP and TCP, v4 and v6).")
        {
            output, packets, seed, rate, uniqueNames, flood,
        };
        command.SetAction(parse =>
        {
            using var log = new CommandLog("ratadns gen", Console.Error, GlobalOptions.Read(parse));
            long n = parse.GetValue(packets);
            double r = parse.GetValue(rate);
            if (n < 0 || r <= 0)
            {
                log.Logger.LogError("--packets must be 0 or more and --rate above 0.");
                return ExitCodes.Usage;
            }

            var kind = FloodKinds.FirstOrDefault(k => k.Name == parse.GetValue(flood)).Kind;
            if (parse.GetValue(uniqueNames))
            {
                if (kind is not (SyntheticFlood.None or SyntheticFlood.Names))
                {
                    log.Logger.LogError("--unique-names is --flood names; it cannot be combined with another --flood.");
                    return ExitCodes.Usage;
                }

                kind = SyntheticFlood.Names;
            }

            try
            {
                long written = SyntheticCapture.Write(parse.GetValue(output)!, n, parse.GetValue(seed), r, flood: kind);
                log.Logger.LogInformation("wrote {Packets} packets to {Output}", written, parse.GetValue(output));
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Logger.LogError("{Reason}", e.Message);
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
