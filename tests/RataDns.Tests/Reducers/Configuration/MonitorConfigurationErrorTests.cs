using RataDns.Configuration;
using RataDns.Reducers.Configuration;

namespace RataDns.Tests.Reducers.Configuration;

/// <summary>Every wrong file is refused with the file name, the key's JSON path and the reason.</summary>
public class MonitorConfigurationErrorTests
{
    private const string Origin = "/etc/ratadns/monitor.json";
    private const string Reducers = """ "PreliminarReducers": [{"Name": "QueriesPerSecond"}] """;

    private static ConfigurationException Refuse(string json)
        => Assert.Throws<ConfigurationException>(() => MonitorConfigurationLoader.Parse(json, Origin));

    private static void AssertProblem(ConfigurationException error, string path, params string[] reasonParts)
    {
        Assert.StartsWith(Origin + ": ", error.Message);
        Assert.Equal(Origin, error.Origin);
        var problem = Assert.Single(error.Problems, p => p.Path == path);
        foreach (string part in reasonParts)
        {
            Assert.Contains(part, problem.Reason);
        }

        Assert.Contains($"{path}: {problem.Reason}", error.Message);
    }

    [Fact]
    public void Unknown_top_level_key_suggests_the_closest()
    {
        var error = Refuse($$"""{"WindowSise": 1000, {{Reducers}} }""");

        AssertProblem(error, "WindowSise", "unknown key", "did you mean WindowSize?");
    }

    [Fact]
    public void Unknown_key_without_a_close_match_has_no_suggestion()
    {
        var error = Refuse($$"""{"Colour": "blue", {{Reducers}} }""");

        AssertProblem(error, "Colour", "unknown key");
        Assert.DoesNotContain("did you mean", error.Message);
    }

    [Fact]
    public void Unknown_capture_key_is_reported_with_its_path()
    {
        var error = Refuse($$"""{"Capture": {"InputMetod": "stdin"}, {{Reducers}} }""");

        AssertProblem(error, "Capture.InputMetod", "unknown key", "did you mean InputMethod?");
    }

    [Fact]
    public void Misspelled_output_key_in_a_reducer_is_an_error_not_an_option()
    {
        var error = Refuse("""
            {"PreliminarReducers": [
              {"Name": "TopN"},
              {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisPrt": 6379}
            ]}
            """);

        AssertProblem(error, "PreliminarReducers[1].RedisPrt", "did you mean RedisPort?");
    }

    [Fact]
    public void Wrong_types_name_the_expected_and_found_types()
    {
        var error = Refuse("""
            {"ServerId": 7, "WindowSize": "1000", "Speed": "fast", "Promiscuous": "yes",
             "PreliminarReducers": [{"Name": "TopN"}, {"Name": "QueriesPerSecond", "OutputMethod": "redis", "RedisPort": "6379"}]}
            """);

        AssertProblem(error, "ServerId", "expected a string", "a number (7)");
        AssertProblem(error, "WindowSize", "expected a whole number", "a string (\"1000\")");
        AssertProblem(error, "Speed", "expected a number", "a string (\"fast\")");
        AssertProblem(error, "Promiscuous", "expected true or false");
        AssertProblem(error, "PreliminarReducers[1].RedisPort", "expected a whole number", "a string (\"6379\")");
        Assert.Contains("5 problems", error.Message);
    }

    [Fact]
    public void Fractional_window_size_is_refused()
    {
        AssertProblem(Refuse($$"""{"WindowSize": 2.5, {{Reducers}} }"""), "WindowSize", "expected a whole number", "2.5");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Window_size_must_be_positive(int size)
    {
        AssertProblem(Refuse($$"""{"WindowSize": {{size}}, {{Reducers}} }"""), "WindowSize", $"{size}", "at least 1 packet");
    }

    [Fact]
    public void Window_milliseconds_must_be_positive()
    {
        AssertProblem(Refuse($$"""{"WindowMilliseconds": 0, {{Reducers}} }"""), "WindowMilliseconds", "positive");
    }

    [Fact]
    public void Window_size_and_window_milliseconds_together_are_refused()
    {
        var error = Refuse($$"""{"WindowSize": 1000, "WindowMilliseconds": 500, {{Reducers}} }""");

        AssertProblem(error, "WindowMilliseconds", "WindowSize", "keep one");
    }

    [Fact]
    public void Negative_speed_is_refused()
    {
        AssertProblem(Refuse($$"""{"Capture": {"Speed": -1}, {{Reducers}} }"""), "Capture.Speed", "-1", "0 (as fast as possible)");
    }

    [Fact]
    public void Unknown_input_method_lists_the_valid_ones()
    {
        var error = Refuse($$"""{"InputMethod": "pcap", {{Reducers}} }""");

        AssertProblem(error, "InputMethod", "unknown input method 'pcap'", "capture_file, interface, stdin");
    }

    [Fact]
    public void Misspelled_input_method_suggests_the_closest()
    {
        AssertProblem(Refuse($$"""{"InputMethod": "capture-file", {{Reducers}} }"""), "InputMethod", "did you mean capture_file?");
    }

    [Fact]
    public void Capture_file_without_input_source_is_refused()
    {
        AssertProblem(Refuse($$"""{"InputMethod": "capture_file", {{Reducers}} }"""), "InputSource", "required", "capture_file");
        AssertProblem(
            Refuse($$"""{"Capture": {"InputMethod": "interface"}, {{Reducers}} }"""), "Capture.InputSource", "required", "interface");
    }

    [Fact]
    public void Capture_key_both_at_top_level_and_nested_is_refused()
    {
        var error = Refuse($$"""{"Speed": 1, "Capture": {"speed": 2}, {{Reducers}} }""");

        AssertProblem(error, "Capture.speed", "also given at the top level", "keep one");
    }

    [Fact]
    public void Key_given_twice_in_different_case_is_refused()
    {
        AssertProblem(Refuse($$"""{"ServerId": "a", "serverid": "b", {{Reducers}} }"""), "serverid", "given twice", "'ServerId'");
    }

    [Fact]
    public void Name_and_type_together_are_refused()
    {
        var error = Refuse("""{"PreliminarReducers": [{"Name": "TopN", "Type": "TopNQ"}]}""");

        AssertProblem(error, "PreliminarReducers[0].Type", "'Name' and 'Type' mean the same");
    }

    [Fact]
    public void Reducer_without_name_is_refused()
    {
        AssertProblem(Refuse("""{"PreliminarReducers": [{"OutputMethod": "stdout"}]}"""), "PreliminarReducers[0].Name", "required");
    }

    [Fact]
    public void Unknown_output_method_lists_the_valid_ones()
    {
        var error = Refuse("""{"PreliminarReducers": [{"Name": "TopN", "OutputMethod": "kafka"}]}""");

        AssertProblem(error, "PreliminarReducers[0].OutputMethod", "'kafka'", "stdout, file, redis, zmq");
    }

    [Fact]
    public void File_output_without_a_file_is_refused()
    {
        AssertProblem(
            Refuse("""{"PreliminarReducers": [{"Name": "TopN", "OutputMethod": "file"}]}"""),
            "PreliminarReducers[0].OutputFile",
            "required");
    }

    [Fact]
    public void Redis_port_out_of_range_is_refused()
    {
        AssertProblem(
            Refuse("""{"PreliminarReducers": [{"Name": "TopN", "OutputMethod": "redis", "RedisPort": 70000}]}"""),
            "PreliminarReducers[0].RedisPort",
            "70000",
            "between 1 and 65535");
    }

    [Fact]
    public void Same_reducer_to_the_same_output_twice_is_refused()
    {
        var error = Refuse("""
            {"PreliminarReducers": [
              {"Name": "TopN", "OutputMethod": "redis"},
              {"Name": "QueriesPerSecond"},
              {"Name": "topn", "N": 10, "OutputMethod": "redis", "RedisServer": "localhost", "RedisPort": 6379}
            ]}
            """);

        AssertProblem(error, "PreliminarReducers[2]", "already writes to redis localhost:6379", "PreliminarReducers[0]");
    }

    [Fact]
    public void Missing_or_empty_reducer_list_is_refused()
    {
        AssertProblem(Refuse("""{"PreliminarReducers": []}"""), "PreliminarReducers", "at least one reducer");
        AssertProblem(Refuse("""{"PreliminarReducers": {"Name": "TopN"}}"""), "PreliminarReducers", "expected an array");
    }

    [Fact]
    public void Reducer_entry_that_is_not_an_object_is_refused()
    {
        AssertProblem(Refuse("""{"PreliminarReducers": ["TopN"]}"""), "PreliminarReducers[0]", "expected an object", "\"TopN\"");
    }

    [Fact]
    public void Bad_ports_are_refused()
    {
        var error = Refuse($$"""{"Ports": [53, 0, 53], {{Reducers}} }""");

        AssertProblem(error, "Ports[1]", "between 1 and 65535");
        AssertProblem(error, "Ports[2]", "listed twice");
    }

    [Fact]
    public void Capture_limits_are_checked()
    {
        var error = Refuse($$"""{"SnapLength": 10, "BufferSizeMiB": 0, "Loop": 0, "Workers": 0, "DurationSeconds": -1, {{Reducers}} }""");

        AssertProblem(error, "SnapLength", "between 64 and 262144");
        AssertProblem(error, "BufferSizeMiB", "MiB");
        AssertProblem(error, "Loop", "at least once");
        AssertProblem(error, "Workers", "worker threads");
        AssertProblem(error, "DurationSeconds", "positive");
    }

    [Fact]
    public void Empty_server_id_is_refused()
    {
        AssertProblem(Refuse($$"""{"ServerId": " ", {{Reducers}} }"""), "ServerId", "must not be empty");
    }

    [Fact]
    public void Zero_mq_must_be_an_object()
    {
        AssertProblem(Refuse($$"""{"ZeroMq": "tcp://*:5556", {{Reducers}} }"""), "ZeroMq", "expected an object");
    }

    [Fact]
    public void Malformed_json_gives_line_and_column()
    {
        const string json = "{\n  \"ServerId\": \"s\",\n  \"WindowSize\": 10 \"Speed\": 1\n}";

        var error = Refuse(json);

        Assert.Equal($"{Origin}: malformed JSON at line 3, column 20: {error.Problems[0].Reason["malformed JSON at line 3, column 20: ".Length..]}", error.Message);
        Assert.DoesNotContain("LineNumber", error.Message);
        Assert.IsType<System.Text.Json.JsonException>(error.InnerException, exactMatch: false);
    }

    [Fact]
    public void Root_that_is_not_an_object_is_refused()
    {
        Assert.Contains("must be a JSON object, found an array", Refuse("[1, 2]").Message);
    }

    [Fact]
    public void Missing_file_is_reported_with_its_name()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ratadns-missing-{Guid.NewGuid():N}.json");

        var error = Assert.Throws<ConfigurationException>(() => MonitorConfigurationLoader.Load(path));

        Assert.StartsWith($"{path}: cannot read the configuration file", error.Message);
    }

    [Fact]
    public void Reducers_read_their_own_options_with_paths_in_errors()
    {
        var configuration = MonitorConfigurationLoader.Parse(
            """{"PreliminarReducers": [{"Name": "QueriesPerSecond"}, {"Name": "TopN", "N": "five", "Limit": 3}]}""", Origin);
        var topN = configuration.Reducers[1];

        var wrongType = Assert.Throws<ConfigurationException>(() => topN.GetInt32Option("N", 10, min: 1));
        AssertProblem(wrongType, "PreliminarReducers[1].N", "expected a whole number", "\"five\"");

        var unknown = Assert.Throws<ConfigurationException>(() => topN.RejectUnknownOptions("N", "Limits"));
        AssertProblem(unknown, "PreliminarReducers[1].Limit", "did you mean Limits?", "TopN takes N, Limits");
    }
}
