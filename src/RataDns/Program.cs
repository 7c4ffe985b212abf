using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using RataDns.App.Commands;
using RataDns.App.Logging;

namespace RataDns.App;

/// <summary>The <c>ratadns</c> command line: one program, a subcommand per role.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = BuildRoot();
        var parsed = root.Parse(args);
        // --help answers even when the rest of the line is incomplete (monitor --help without --config).
        if (parsed.Errors.Count > 0 && parsed.Action is not ManualHelpAction)
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

    /// <summary>The root command: every subcommand, the global options, and <c>--help</c> with examples and exit status.</summary>
    internal static RootCommand BuildRoot()
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
        GlobalOptions.AddTo(root);
        foreach (var help in root.Options.OfType<HelpOption>())
        {
            if (help.Action is HelpAction standard)
            {
                help.Action = new ManualHelpAction(standard);
            }
        }

        return root;
    }

    /// <summary>
    /// The examples each subcommand's <c>--help</c> shows: real command lines (file names stand for the reader's own),
    /// each with what it does; <c>Live</c> ones need a network interface or a peer to run.
    /// </summary>
    internal static IReadOnlyDictionary<string, HelpExample[]> Examples { get; } = new Dictionary<string, HelpExample[]>(StringComparer.Ordinal)
    {
        ["serialize"] =
        [
            new("ratadns serialize --ndjson -o messages.json capture.pcap", "one JSON object a line, every DNS message of a file, addresses anonymized"),
            new("ratadns serialize --addresses plain --mnemonics --timestamps capture.pcap", "Speedy framing on standard output, plain addresses, A/IN mnemonics, capture times"),
            new("ratadns serialize --quiet --sections queries,answers --ndjson capture.pcap", "only the questions and answers, no progress bar or summary"),
            new("ratadns serialize -i eth0 --ndjson --duration 60", "live: one minute of eth0's DNS traffic (needs CAP_NET_RAW)", Live: true),
        ],
        ["gen"] =
        [
            new("ratadns gen -n 1000000 --seed 7 capture.pcap", "a million packets of realistic DNS traffic"),
            new("ratadns gen --flood names -n 200000 flood.pcap", "a random-subdomain flood: every query a new name, every answer NXDOMAIN"),
            new("ratadns gen --rate 50000 -n 100000 busy.pcap", "100,000 packets at 50,000 packets per second of capture time"),
        ],
        ["inspect"] =
        [
            new("ratadns inspect capture.pcap", "frames, DNS messages, what was not DNS and why, rcodes and qtypes of a file"),
            new("ratadns inspect --mdns --port 53 --port 5300 --quiet -r capture.pcap", "DNS on ports 53 and 5300 and mDNS, no progress bar or summary"),
            new("ratadns inspect -i any --duration 10 udp and host 192.0.2.53", "live: ten seconds of every interface, a tcpdump filter", Live: true),
            new("ratadns inspect --dnstap unix:/run/ratadns/dnstap.sock --duration 60", "a minute of the dnstap DNS servers write to this socket (Unbound's dnstap-socket-path, Knot's mod-dnstap sink)", Live: true),
        ],
        ["monitor"] =
        [
            new("ratadns monitor -c samples/monitor.json", "the sample configuration: the sample capture, one-second windows, results on standard output"),
            new("ratadns monitor -c samples/monitor.json --input-source capture.pcap --window 100000 --stats", "another file, windows of 100,000 DNS packets, statistics at the end"),
            new("ratadns monitor -c monitor.json --input-source eth0 --zmq-bind tcp://*:5556", "live on eth0, every reducer's results published on ZeroMQ port 5556", Live: true),
            new("ratadns monitor -i eth0 -c 10000 --port 5300", "tcpdump's habits: live on eth0, DNS on port 5300, stop after 10,000 packets (-c N); the default reducers on standard output", Live: true),
        ],
        ["keygen"] =
        [
            new("ratadns keygen monitor1", "writes monitor1.key (secret, mode 0600) and monitor1.pub, prints the public key"),
            new("ratadns keygen --force monitor1", "the same, replacing existing key files"),
        ],
        ["aggregate"] =
        [
            new("ratadns aggregate --connect tcp://ns1:5556 tcp://ns2:5556", "subscribe to two monitors that bind; dashboard and API on the default address", Live: true),
            new("ratadns aggregate --bind tcp://*:5556 --http http://127.0.0.1:8080 --spans 1m,15m,1h", "monitors connect here; the dashboard on port 8080, merged over 1, 15 and 60 minutes", Live: true),
            new("ratadns aggregate --connect tcp://ns1:5556 --curve-secret-key agg.key --curve-server-key tcp://ns1:5556=ns1.pub", "a CurveZMQ monitor: its public key, and this aggregator's key pair (agg.pub goes in the monitor's AllowedClientKeysFile)", Live: true),
        ],
    };

    /// <summary>The standard help, then EXAMPLES, ENVIRONMENT (commands that read files) and EXIT STATUS.</summary>
    private sealed class ManualHelpAction(HelpAction standard) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int result = standard.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            string name = parseResult.CommandResult.Command.Name;
            if (Examples.TryGetValue(name, out var examples))
            {
                output.WriteLine("Examples:");
                foreach (var example in examples)
                {
                    output.WriteLine($"  {example.CommandLine}");
                    output.WriteLine($"      {example.What}");
                }

                output.WriteLine();
            }

            if (name is "serialize" or "inspect" or "monitor")
            {
                output.WriteLine("Environment:");
                output.WriteLine($"  {Progress.ProgressPolicy.Variable}=1|0  force the progress bar on or off (default: on when standard error is a terminal,");
                output.WriteLine("                        for a file read at full speed; never with --quiet)");
                output.WriteLine();
            }

            output.WriteLine("Exit status:");
            output.WriteLine("  0  success");
            output.WriteLine("  1  the input was damaged (a truncated or corrupt record): the frames before it were processed");
            output.WriteLine("  2  usage: bad arguments or configuration, or an input or output that cannot be opened");
            output.WriteLine();
            return result;
        }
    }
}

/// <summary>An example of a subcommand's <c>--help</c>: the command line, what it does, and whether it needs live traffic or a peer.</summary>
internal sealed record HelpExample(string CommandLine, string What, bool Live = false);
