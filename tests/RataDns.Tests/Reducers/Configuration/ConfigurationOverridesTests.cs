using RataDns.Configuration;
using RataDns.Reducers.Configuration;

namespace RataDns.Tests.Reducers.Configuration;

/// <summary>Command-line flags win over the file; bad flags are refused naming the flag.</summary>
public class ConfigurationOverridesTests
{
    private static MonitorConfiguration Flat() => MonitorConfigurationLoader.Parse(MonitorConfigurationLoaderTests.FlatFievel, "fievel.json");

    [Fact]
    public void Overrides_win_over_the_file()
    {
        var configuration = Flat().WithOverrides(new ConfigurationOverrides
        {
            ServerId = "server9",
            Window = WindowConfiguration.OfDuration(TimeSpan.FromMilliseconds(500)),
            InputMethod = CaptureInputMethod.Interface,
            InputSource = "eth1",
            Speed = 4,
            Filter = "udp port 53",
            Workers = 8,
        });

        Assert.Equal("server9", configuration.ServerId);
        Assert.Equal(TimeSpan.FromMilliseconds(500), configuration.Window.Duration);
        Assert.Null(configuration.Window.PacketCount);
        Assert.Equal(CaptureInputMethod.Interface, configuration.Capture.InputMethod);
        Assert.Equal("eth1", configuration.Capture.Interface);
        Assert.Equal(4, configuration.Capture.Speed);
        Assert.Equal("udp port 53", configuration.Capture.Filter);
        Assert.Equal(8, configuration.Workers);
    }

    [Fact]
    public void Empty_overrides_change_nothing()
    {
        var file = Flat();

        var configuration = file.WithOverrides(new ConfigurationOverrides());

        Assert.Equal(file.ServerId, configuration.ServerId);
        Assert.Same(file.Window, configuration.Window);
        Assert.Equal(file.Capture, configuration.Capture);
        Assert.Same(file.Reducers, configuration.Reducers);
    }

    [Fact]
    public void Input_source_alone_keeps_the_input_method()
    {
        var configuration = Flat().WithOverrides(new ConfigurationOverrides { InputSource = "/tmp/other.pcap" });

        Assert.Equal(CaptureInputMethod.CaptureFile, configuration.Capture.InputMethod);
        Assert.Equal("/tmp/other.pcap", configuration.Capture.Input);
    }

    [Fact]
    public void Switching_to_a_file_without_a_source_is_refused()
    {
        var stdin = MonitorConfigurationLoader.Parse("""{"PreliminarReducers": [{"Name": "TopN"}]}""", "c.json");

        var error = Assert.Throws<ConfigurationException>(
            () => stdin.WithOverrides(new ConfigurationOverrides { InputMethod = CaptureInputMethod.CaptureFile }));

        Assert.StartsWith("command line: --input-method: capture_file needs an input source", error.Message);
    }

    [Fact]
    public void Bad_flags_are_refused_naming_the_flag()
    {
        var error = Assert.Throws<ConfigurationException>(
            () => Flat().WithOverrides(new ConfigurationOverrides { ServerId = "", Speed = -2, Filter = " ", Workers = 0 }));

        Assert.Equal("command line", error.Origin);
        Assert.Equal(["--server-id", "--speed", "--filter", "--workers"], error.Problems.Select(p => p.Path));
        Assert.Contains("-2: the speed is 0", error.Message);
    }

    [Theory]
    [InlineData("1000", 1000, 0)]
    [InlineData("250ms", 0, 250)]
    [InlineData("1s", 0, 1000)]
    [InlineData("1.5s", 0, 1500)]
    [InlineData("5m", 0, 300_000)]
    [InlineData(" 2S ", 0, 2000)]
    public void Window_flag_parses_packets_or_time(string text, int packets, double milliseconds)
    {
        Assert.True(WindowConfiguration.TryParse(text, out var window, out string reason), reason);

        if (packets > 0)
        {
            Assert.Equal(packets, window!.PacketCount);
        }
        else
        {
            Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), window!.Duration);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("0s")]
    [InlineData("2d")]
    [InlineData("fast")]
    [InlineData("2000m")]
    public void Window_flag_rejects_nonsense(string text)
    {
        Assert.False(WindowConfiguration.TryParse(text, out var window, out string reason));
        Assert.Null(window);
        Assert.Contains($"'{text}'", reason);
    }

    [Fact]
    public void Input_method_names_parse_ignoring_case()
    {
        Assert.True(ConfigurationNames.TryParseInputMethod("CAPTURE_FILE", out var method));
        Assert.Equal(CaptureInputMethod.CaptureFile, method);
        Assert.False(ConfigurationNames.TryParseInputMethod("file", out _));
        Assert.Equal("capture_file", ConfigurationNames.NameOf(CaptureInputMethod.CaptureFile));
    }

    [Theory]
    [InlineData("WindowSise", "WindowSize", 1)]
    [InlineData("RedisPrt", "RedisPort", 1)]
    [InlineData("InptuMethod", "InputMethod", 1)]
    [InlineData("serverid", "ServerId", 0)]
    public void Edit_distance_counts_typos(string typed, string meant, int distance)
    {
        Assert.Equal(distance, KeySuggestion.Distance(typed, meant));
        Assert.Equal(meant, KeySuggestion.Closest(typed, MonitorConfigurationLoader.TopLevelKeys.Concat(MonitorConfigurationLoader.ReducerEntryKeys)));
    }
}
