using System.CommandLine;
using RataDns.App.Commands;

namespace RataDns.App;

/// <summary>The <c>ratadns</c> command line: one program, a subcommand per role.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("RataDns: a fast DNS traffic monitor (capture, serialize, reduce, aggregate).")
        {
            SerializeCommand.Create(),
            GenCommand.Create(),
            InspectCommand.Create(),
            MonitorCommand.Create(),
            KeygenCommand.Create(),
            AggregateCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"ratadns: {error.Message}");
            }

            Console.Error.WriteLine("Try 'ratadns --help' or 'ratadns COMMAND --help'.");
            return 2;
        }

        // The commands handle SIGINT and SIGTERM themselves (a capture ends cleanly and reports what it saw).
        int exitCode = parsed.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null });

        // NetMQ sends on background threads: before the process ends, let sockets closed with a linger send what
        // they hold (the last window's results). Only here, at the end of the process: it ends every NetMQ socket.
        NetMQ.NetMQConfig.Cleanup(block: true);

        // Undocumented, for bench/monitor.sh: the bytes this process allocated in all, start-up included.
        if (Environment.GetEnvironmentVariable("RATADNS_REPORT_ALLOCATIONS") == "1")
        {
            Console.Error.WriteLine($"allocated bytes: {GC.GetTotalAllocatedBytes(precise: true)}");
        }

        return exitCode;
    }
}
