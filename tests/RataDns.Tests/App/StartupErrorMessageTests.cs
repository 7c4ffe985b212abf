using System.Net;
using System.Net.Sockets;
using RataDns.Tests.Aggregator;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// Start-up errors an operator meets (issue 16): each is one line on standard error that names the flag or the
/// address, exit 2, nothing on standard output; and <c>-q</c> keeps a clean run silent.
/// </summary>
[Collection(NetMqCollection.Name)]
public class StartupErrorMessageTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [Fact]
    public void A_zeromq_address_in_use_is_said_in_words_by_monitor_and_aggregate()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        Assert.Equal(2, Run(["monitor", "-c", Config(), "--zmq-bind", $"tcp://127.0.0.1:{port}", "-q"], out string stdout, out string stderr));
        Assert.Equal($"ratadns monitor: zmq bind tcp://127.0.0.1:{port}: the address is already in use (another ratadns, or another program, listens there)", stderr.Trim());

        Assert.Equal(2, Run(["aggregate", "--bind", $"tcp://127.0.0.1:{port}", "--http", "http://127.0.0.1:0", "--history", "none"], out stdout, out stderr));
        Assert.Contains("the address is already in use", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_http_address_in_use_is_one_line_on_standard_error_and_nothing_on_standard_output()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        Assert.Equal(2, Run(["aggregate", "--bind", "tcp://127.0.0.1:*", "--http", $"http://127.0.0.1:{port}", "--history", "none"], out string stdout, out string stderr));
        Assert.Equal(string.Empty, stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith($"ratadns aggregate: HTTP on http://127.0.0.1:{port}: ", StringComparison.Ordinal) && l.Contains("address already in use", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("      ", StringComparison.Ordinal) || l.Contains("fail:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_capture_file_is_no_such_file_in_every_command()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"ratadns-missing-{Environment.ProcessId}.pcap");
        foreach (string command in new[] { "inspect", "serialize" })
        {
            Assert.Equal(2, Run([command, missing], out _, out string stderr));
            Assert.Equal($"ratadns {command}: {missing}: no such file.", stderr.Trim());
        }
    }

    [Fact]
    public void An_interface_given_where_a_file_is_read_says_how_to_capture_on_it()
    {
        // The operator changed InputSource to "lo" and kept InputMethod "capture_file": the kernel's list of
        // interfaces (/sys/class/net) is the reference that lo is one.
        Assert.True(Directory.Exists("/sys/class/net/lo"));
        string config = Path.Combine(Path.GetTempPath(), $"ratadns-lo-file-{Environment.ProcessId}.json");
        File.WriteAllText(config, """{"ServerId": "x", "InputMethod": "capture_file", "InputSource": "lo"}""");
        try
        {
            Assert.Equal(2, Run(["monitor", "-c", config], out _, out string stderr));
            Assert.Equal("ratadns monitor: lo: no such file; it is a network interface: capture on it with -i lo (or InputMethod \"interface\" in the configuration).", stderr.Trim());
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void Input_source_on_the_command_line_takes_the_input_method_it_names()
    {
        // A live configuration given a file or standard input with --input-source reads it (it said "no capture
        // interface named '-'"); tshark counts the sample's responses.
        string config = Path.Combine(Path.GetTempPath(), $"ratadns-live-{Environment.ProcessId}.json");
        File.WriteAllText(config, """{"ServerId": "x", "InputMethod": "interface", "InputSource": "eth0", "PreliminarReducers": [{"Name": "RcodeCounter"}]}""");
        try
        {
            Assert.Equal(0, ExternalTool.Run("/usr/bin/tshark", ["-r", Sample, "-Y", "dns.flags.response == 1"], out string tshark, out _));
            long responses = tshark.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.Equal(0, Run(["monitor", "-c", config, "--input-source", Sample, "-q"], out string fromFile, out string stderr));
            Assert.Equal(responses, RcodeTotal(fromFile));
            Assert.Equal(0, ExternalTool.Run("/bin/sh", ["-c", "\"$0\" \"$1\" monitor -c \"$2\" --input-source - -q < \"$3\"", "dotnet", Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), config, Sample], out string fromStdin, out stderr));
            Assert.Equal(responses, RcodeTotal(fromStdin));
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static long RcodeTotal(string ndjson) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("data"))
            .Sum(d => d.EnumerateObject().Sum(p => p.Value.GetInt64()));

    [Fact]
    public void A_missing_key_file_names_its_configuration_key()
    {
        string config = Path.Combine(Path.GetTempPath(), $"ratadns-keys-{Environment.ProcessId}.json");
        string missing = Path.Combine(Path.GetTempPath(), $"ratadns-no-such-dir-{Environment.ProcessId}", "server.key");
        File.WriteAllText(config, $$$"""
            {"ServerId": "s", "InputMethod": "capture_file", "InputSource": "{{{Sample}}}",
             "ZeroMq": {"Bind": "tcp://127.0.0.1:*", "CurveSecretKeyFile": "{{{missing}}}"}, "Output": {"OutputMethod": "zmq"}}
            """);
        try
        {
            Assert.Equal(2, Run(["monitor", "-c", config], out _, out string stderr));
            Assert.Equal($"ratadns monitor: ZeroMq.CurveSecretKeyFile {missing}: no such file.", stderr.Trim());
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void Quiet_keeps_a_clean_run_silent_and_log_level_still_overrides_it()
    {
        Assert.Equal(0, Run(["monitor", "-c", Config(), "-q"], out string stdout, out string stderr));
        Assert.NotEmpty(stdout);
        Assert.Equal(string.Empty, stderr);

        Assert.Equal(0, Run(["monitor", "-c", Config(), "-q", "--log-level", "information"], out _, out stderr));
        Assert.Contains("worker", stderr, StringComparison.Ordinal);
    }

    private static string Config()
    {
        string config = Path.Combine(Path.GetTempPath(), $"ratadns-startup-{Environment.ProcessId}.json");
        File.WriteAllText(config, $$$"""{"ServerId": "s", "InputMethod": "capture_file", "InputSource": "{{{Sample}}}", "WindowMilliseconds": 1000}""");
        return config;
    }

    private static int Run(string[] arguments, out string stdout, out string stderr) =>
        ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ratadns.dll"), .. arguments], out stdout, out stderr);
}
