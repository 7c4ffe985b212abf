using RataDns.App.Commands;
using RataDns.Configuration;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// <c>ratadns monitor --file-reader</c>: the one worker reading a file itself gives the capture thread's results byte
/// for byte (which the tshark conformance tests check, in both modes, on the corpus); auto picks it for light reducer
/// sets on one worker only; a request the worker cannot meet is refused with one clear line.
/// </summary>
public class MonitorFileReaderTests
{
    private static readonly string Sample = Path.Combine(RepoPaths.Root, "samples", "sample.pcap");

    [Theory]
    [InlineData("\"WindowSize\": 250")]
    [InlineData("\"WindowMilliseconds\": 500")]
    public void The_worker_reading_the_sample_writes_what_the_capture_thread_writes_with_every_reducer(string window)
    {
        var outputs = new List<string>();
        var logs = new List<string>();
        foreach (var reader in new[] { FileReader.CaptureThread, FileReader.Worker })
        {
            string output = Path.GetTempFileName();
            try
            {
                string reducers = string.Join(", ", RataDns.Reducers.ReducerRegistry.KnownTypes.Select(n => $$"""{"Name": "{{n}}", "OutputMethod": "file", "OutputFile": "{{output}}"}"""));
                var configuration = MonitorConfigurationLoader.Parse(
                    $$"""{"ServerId": "s", {{window}}, "Workers": 1, "InputMethod": "capture_file", "InputSource": "{{Sample}}", "Loop": 2, "PreliminarReducers": [{{reducers}}]}""",
                    "test.json");
                var errors = new StringWriter();
                Assert.Equal(ExitCodes.Ok, MonitorCommand.Run(configuration, null, errors, default, new MonitorRunOptions { PinThreads = false, FileReader = reader }));
                outputs.Add(File.ReadAllText(output));
                logs.Add(errors.ToString());
            }
            finally
            {
                File.Delete(output);
            }
        }

        Assert.DoesNotContain("reads the file itself", logs[0], StringComparison.Ordinal);
        Assert.Contains("the worker reads the file itself", logs[1], StringComparison.Ordinal);
        Assert.True(outputs[0].Length > 10_000, $"only {outputs[0].Length} bytes of results");
        Assert.Equal(outputs[0], outputs[1]);
    }

    [Theory]
    [InlineData(3, null, true)]
    [InlineData(4, null, false)]
    [InlineData(2, 2, false)]
    [InlineData(2, 1, true)]
    public void Auto_lets_the_worker_read_for_a_light_reducer_set_on_one_worker(int reducerCount, int? workers, bool itself)
    {
        string[] names = ["QueriesPerSecond", "TopNQ", "RcodeCounter", "QtypeCounter"];
        var run = Run(names[..reducerCount], workers, FileReader.Auto);
        Assert.Equal(ExitCodes.Ok, run.Exit);
        bool oneWorker = (workers ?? RataDns.Engine.MonitorEngineOptions.DefaultWorkers) == 1;
        Assert.Equal(itself && oneWorker, run.Log.Contains("the worker reads the file itself", StringComparison.Ordinal));
    }

    [Fact]
    public void Asking_the_worker_to_read_with_two_workers_is_refused_with_one_line()
    {
        // The results go to ZeroMQ, whose socket is opened with the outputs: the refusal comes before any of them.
        bool opened = false;
        var run = Run(["QueriesPerSecond"], workers: 2, FileReader.Worker, zeroMq: () =>
        {
            opened = true;
            throw new IOException("the ZeroMQ output was opened");
        });
        Assert.Equal(ExitCodes.Usage, run.Exit);
        Assert.Contains("--file-reader worker: the file is read by one worker; Workers is 2.", run.Log, StringComparison.Ordinal);
        Assert.Single(run.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(opened, "the refused run opened its outputs");
    }

    [Fact]
    public void Asking_the_worker_to_read_standard_input_is_refused()
    {
        var run = Run(["QueriesPerSecond"], workers: null, FileReader.Worker, input: "-");
        Assert.Equal(ExitCodes.Usage, run.Exit);
        Assert.Contains("--file-reader worker: only a file replayed as fast as possible", run.Log, StringComparison.Ordinal);
    }

    private static (int Exit, string Log) Run(string[] reducerNames, int? workers, FileReader reader, string? input = null, Func<RataDns.Transport.Publishing.IResultChannel>? zeroMq = null)
    {
        string output = Path.GetTempFileName();
        try
        {
            string method = zeroMq is null ? "\"file\", \"OutputFile\": \"" + output + "\"" : "\"zmq\"";
            string reducers = string.Join(", ", reducerNames.Select(n => $$"""{"Name": "{{n}}", "OutputMethod": {{method}}}"""));
            string workersKey = workers is { } w ? $"\"Workers\": {w}, " : string.Empty;
            var configuration = MonitorConfigurationLoader.Parse(
                $$"""{"ServerId": "s", "WindowSize": 500, {{workersKey}}"InputMethod": "capture_file", "InputSource": "{{input ?? Sample}}", "PreliminarReducers": [{{reducers}}]}""",
                "test.json");
            var errors = new StringWriter();
            using var empty = new MemoryStream();
            int exit = MonitorCommand.Run(configuration, input == "-" ? empty : null, errors, default, new MonitorRunOptions { PinThreads = false, FileReader = reader, ZeroMq = zeroMq });
            return (exit, errors.ToString());
        }
        finally
        {
            File.Delete(output);
        }
    }
}
