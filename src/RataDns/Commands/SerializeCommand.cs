using System.CommandLine;
using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.Capture;
using RataDns.Transport;
using RataDns.Transport.Speedy;

namespace RataDns.App.Commands;

/// <summary>
/// <c>ratadns serialize</c>, the Speedy role: a pcap/pcapng file or stream in, one JSON message per DNS packet out.
/// </summary>
public static class SerializeCommand
{
    public static Command Create()
    {
        var source = new CaptureSourceOptions();
        var output = new Option<string>("--output", "-o")
        {
            Description = "Write to this file instead of standard output.",
        };
        var ndjson = new Option<bool>("--ndjson")
        {
            Description = "One JSON object per line instead of Speedy's <len>{json} framing.",
        };
        var sections = new Option<string>("--sections")
        {
            Description = "Comma-separated parts to write: source,dest,queries,answers,authorities,additionals (default: all).",
            DefaultValueFactory = _ => "all",
        };
        var addresses = new Option<string>("--addresses")
        {
            Description = "anonymized (8 hex digits of a keyed SipHash; the default) or plain.",
            DefaultValueFactory = _ => "anonymized",
        };
        addresses.AcceptOnlyFromAmong("anonymized", "plain");
        var anonKey = new Option<string>("--anon-key")
        {
            Description = "Anonymization key: 32 hex digits. Without a key, a random one is drawn for this run.",
        };
        var anonKeyFile = new Option<string>("--anon-key-file")
        {
            Description = "File holding the anonymization key (32 hex digits, or 16 raw bytes).",
        };
        var mnemonics = new Option<bool>("--mnemonics")
        {
            Description = "Write types and classes as mnemonics (A, IN) instead of decimal.",
        };
        var timestamps = new Option<bool>("--timestamps")
        {
            Description = "Add \"ts\": the capture time in seconds.nanoseconds (not part of Speedy's format).",
        };
        var counts = new Option<bool>("--counts")
        {
            Description = "Add the header's four section counts (qdcount, ancount, nscount, arcount).",
        };
        var ports = new Option<int[]>("--port")
        {
            Description = "A DNS port (repeat the option for several). Default: 53.",
        };
        var mdns = new Option<bool>("--mdns") { Description = "Also decode mDNS (port 5353)." };
        var llmnr = new Option<bool>("--llmnr") { Description = "Also decode LLMNR (port 5355)." };
        var stats = new Option<bool>("--stats")
        {
            Description = "Print the capture statistics to standard error at the end.",
        };

        var threads = new Option<int?>("--threads")
        {
            Description = "Threads formatting JSON, the output in input order whatever the number (default: one per CPU, at most "
                + $"{SerializeRunner.MaxThreads}, for a file; 1 for standard input and live capture, whose messages then come out as they arrive).",
        };

        var command = new Command("serialize", "Write one JSON message per DNS packet (Speedy's format).")
        {
            output, ndjson, sections, addresses, anonKey, anonKeyFile, mnemonics, timestamps, counts, ports, mdns, llmnr, stats, threads,
        };

        source.AddTo(command);
        command.SetAction(parse =>
        {
            SerializeSettings settings;
            try
            {
                settings = new SerializeSettings
                {
                    Source = source.Read(parse, parse.GetValue(ports)),
                    Output = parse.GetValue(output),
                    Ports = BuildPorts(parse.GetValue(ports), parse.GetValue(mdns), parse.GetValue(llmnr)),
                    PrintStatistics = parse.GetValue(stats),
                    Threads = parse.GetValue(threads) is { } n && n is < 1 or > 64
                        ? throw new ArgumentException($"--threads {n}: between 1 and 64.")
                        : parse.GetValue(threads),
                    Log = GlobalOptions.Read(parse),
                    Speedy = new SpeedyOptions
                    {
                        Framing = parse.GetValue(ndjson) ? SpeedyFraming.NewlineDelimited : SpeedyFraming.LengthPrefixed,
                        Sections = ParseSections(parse.GetValue(sections) ?? "all"),
                        Anonymizer = parse.GetValue(addresses) == "plain"
                            ? null
                            : BuildAnonymizer(parse.GetValue(anonKey), parse.GetValue(anonKeyFile)),
                        Mnemonics = parse.GetValue(mnemonics),
                        Timestamps = parse.GetValue(timestamps),
                        Counts = parse.GetValue(counts),
                    },
                };
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                using var log = new CommandLog("ratadns serialize", Console.Error, GlobalOptions.Read(parse));
                log.Logger.LogError("{Reason}", e.Message);
                return ExitCodes.Usage;
            }

            return SerializeRunner.Run(settings);
        });
        return command;
    }

    internal static DnsPortSet BuildPorts(int[]? ports, bool mdns, bool llmnr)
    {
        var list = new List<ushort>();
        foreach (int port in ports ?? [])
        {
            if (port is < 1 or > 65535)
            {
                throw new ArgumentException($"--port {port}: a port is between 1 and 65535.");
            }

            list.Add((ushort)port);
        }

        if (list.Count == 0)
        {
            list.Add(53);
        }

        if (mdns)
        {
            list.Add(5353);
        }

        if (llmnr)
        {
            list.Add(5355);
        }

        return new DnsPortSet(list);
    }

    internal static SpeedySections ParseSections(string text)
    {
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return SpeedySections.All;
        }

        var result = SpeedySections.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= part.ToLowerInvariant() switch
            {
                "source" => SpeedySections.Source,
                "dest" or "destination" => SpeedySections.Destination,
                "queries" => SpeedySections.Queries,
                "answers" => SpeedySections.Answers,
                "authorities" => SpeedySections.Authorities,
                "additionals" => SpeedySections.Additionals,
                _ => throw new FormatException(
                    $"--sections: unknown section '{part}' (known: source, dest, queries, answers, authorities, additionals, all)."),
            };
        }

        return result;
    }

    private static AddressAnonymizer BuildAnonymizer(string? keyHex, string? keyFile)
    {
        if (keyHex is not null && keyFile is not null)
        {
            throw new ArgumentException("--anon-key and --anon-key-file: give one of them, not both.");
        }

        if (keyHex is not null)
        {
            return AddressAnonymizer.FromKeyText(System.Text.Encoding.ASCII.GetBytes(keyHex), "--anon-key");
        }

        if (keyFile is not null)
        {
            return AddressAnonymizer.FromKeyText(File.ReadAllBytes(keyFile), keyFile);
        }

        return AddressAnonymizer.WithRandomKey();
    }
}

internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The capture ended with a damaged record: the frames before it were processed.</summary>
    public const int InputDamaged = 1;

    /// <summary>Bad arguments or configuration: nothing was processed.</summary>
    public const int Usage = 2;
}
