using System.Diagnostics;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>The real <c>ratadns</c> program, run as a process: file and stdin input, damaged input, bad arguments.</summary>
public class SerializeCliTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [Fact]
    public void Stdin_gives_the_same_output_as_the_file()
    {
        var fromFile = Run(["serialize", "--addresses", "plain", Sample], null, out int exitFile, out _);
        var fromStdin = Run(["serialize", "--addresses", "plain", "-"], File.ReadAllBytes(Sample), out int exitStdin, out _);
        Assert.Equal(0, exitFile);
        Assert.Equal(0, exitStdin);
        Assert.True(fromFile.Length > 1000);
        Assert.Equal(fromFile, fromStdin);
    }

    [Fact]
    public void A_truncated_file_keeps_the_messages_before_the_cut_and_names_the_offset()
    {
        var bytes = File.ReadAllBytes(Sample);
        var cut = Path.Combine(Path.GetTempPath(), $"ratadns-cut-{Environment.ProcessId}.pcap");
        File.WriteAllBytes(cut, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        try
        {
            var full = Run(["serialize", "--ndjson", "--addresses", "plain", Sample], null, out _, out _);
            var half = Run(["serialize", "--ndjson", "--addresses", "plain", cut], null, out int exit, out var errors);
            Assert.Equal(1, exit);
            Assert.Matches("offset [0-9]+", errors);
            var fullLines = System.Text.Encoding.UTF8.GetString(full).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var halfLines = System.Text.Encoding.UTF8.GetString(half).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.InRange(halfLines.Length, (fullLines.Length / 2) - 50, fullLines.Length / 2 + 50);
            Assert.Equal(fullLines.Take(halfLines.Length), halfLines);
        }
        finally
        {
            File.Delete(cut);
        }
    }

    [Theory]
    [InlineData("--sections", "queries,bogus", "unknown section 'bogus'")]
    [InlineData("--anon-key", "1234", "32 hex digits")]
    [InlineData("--port", "70000", "between 1 and 65535")]
    public void Bad_arguments_are_clear_errors(string option, string value, string message)
    {
        Run(["serialize", option, value, Sample], null, out int exit, out var errors);
        Assert.Equal(2, exit);
        Assert.Contains(message, errors, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_capture_is_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratadns-notpcap-{Environment.ProcessId}.txt");
        File.WriteAllText(path, "hello, this is not a capture");
        try
        {
            Run(["serialize", path], null, out int exit, out var errors);
            Assert.Equal(2, exit);
            Assert.Contains(path, errors, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Run(string[] arguments, byte[]? stdin, out int exitCode, out string stderr)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ratadns.dll"));
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
        }

        process.StandardInput.Close();
        Assert.True(process.WaitForExit(60_000), "ratadns did not finish in 60 s");
        copy.GetAwaiter().GetResult();
        exitCode = process.ExitCode;
        stderr = errors.GetAwaiter().GetResult();
        return output.ToArray();
    }
}
