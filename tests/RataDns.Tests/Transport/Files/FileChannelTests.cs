using System.Text;
using RataDns.Transport.Files;
using RataDns.Transport.Publishing;

namespace RataDns.Tests.Transport.Files;

public sealed class FileChannelTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("ratadns-files-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static string Json(int i, int padding = 0) =>
        $"{{\"type\":\"T\",\"serverId\":\"s\",\"timeStamp\":{i},\"data\":\"{new string('x', padding)}\"}}";

    private static bool Publish(IResultChannel channel, string json) =>
        channel.Publish(new ResultEnvelope("T", "s", "T", Encoding.UTF8.GetBytes(json)));

    private static string[] Lines(string path) =>
        File.Exists(path) ? File.ReadAllLines(path) : [];

    [Fact]
    public void Writes_one_line_per_result_and_only_whole_windows()
    {
        string path = PathOf("out.ndjson");
        using var channel = new FileResultChannel(new FileResultChannelOptions { Path = path });

        Assert.True(Publish(channel, Json(1)));
        Assert.True(Publish(channel, Json(2)));
        Assert.Empty(Lines(path)); // a reader tailing the file sees nothing of an unfinished window
        channel.EndOfWindow();
        Assert.Equal([Json(1), Json(2)], Lines(path));

        Publish(channel, Json(3));
        Assert.Equal(2, Lines(path).Length);
        channel.EndOfWindow();
        Assert.Equal([Json(1), Json(2), Json(3)], Lines(path));
        Assert.EndsWith("\n", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(3, channel.Statistics.Sent);
        Assert.Equal(0, channel.Statistics.Dropped);
        Assert.Equal(0, channel.Statistics.Errors);
        Assert.Equal("file " + path, channel.Describe());
    }

    [Fact]
    public void Appends_to_a_file_that_exists()
    {
        string path = PathOf("out.ndjson");
        File.WriteAllText(path, "earlier\n");
        using (var channel = new FileResultChannel(new FileResultChannelOptions { Path = path }))
        {
            Publish(channel, Json(1));
            channel.EndOfWindow();
        }

        Assert.Equal(["earlier", Json(1)], Lines(path));
    }

    [Fact]
    public void Dispose_writes_what_was_published_after_the_last_window()
    {
        string path = PathOf("out.ndjson");
        var channel = new FileResultChannel(new FileResultChannelOptions { Path = path });
        Publish(channel, Json(1));
        channel.Dispose();
        channel.Dispose();
        Assert.Equal([Json(1)], Lines(path));
    }

    [Fact]
    public void Rotation_by_size_keeps_files_under_the_limit_and_every_line_whole_and_in_order()
    {
        const int maxBytes = 200;
        string path = PathOf("out.ndjson");
        var random = new Random(7);
        var expected = new List<string>();
        using (var channel = new FileResultChannel(new FileResultChannelOptions { Path = path, MaxBytes = maxBytes, Clock = () => Start }))
        {
            for (int window = 0; window < 30; window++)
            {
                int results = random.Next(0, 6);
                for (int r = 0; r < results; r++)
                {
                    // Mostly small lines, sometimes one longer than the limit.
                    int padding = random.Next(10) == 0 ? 300 : random.Next(0, 80);
                    string json = Json(expected.Count, padding);
                    expected.Add(json);
                    Publish(channel, json);
                }

                channel.EndOfWindow();
            }

            Assert.Equal(expected.Count, channel.Statistics.Sent);
            Assert.Equal(0, channel.Statistics.Errors);
        }

        var rotated = FileResultChannel.RotatedFiles(path);
        Assert.True(rotated.Count > 10, $"{rotated.Count} rotations"); // .1 ... .10 and beyond sort by number
        var files = rotated.Append(Path.GetFullPath(path)).ToList();
        var all = new List<string>();
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            string[] lines = Lines(file);
            Assert.EndsWith("\n", text, StringComparison.Ordinal);
            Assert.True(Encoding.UTF8.GetByteCount(text) <= maxBytes || lines.Length == 1, $"{file}: {text.Length} bytes in {lines.Length} lines");
            all.AddRange(lines);
        }

        Assert.Equal(expected, all);
        Assert.Equal(Path.GetFullPath(path) + ".20260101T000000Z", rotated[0]);
        Assert.Equal(Path.GetFullPath(path) + ".20260101T000000Z.1", rotated[1]);
    }

    [Fact]
    public void A_result_longer_than_the_limit_goes_alone_in_a_file()
    {
        string path = PathOf("out.ndjson");
        string big = Json(2, 500);
        using (var channel = new FileResultChannel(new FileResultChannelOptions { Path = path, MaxBytes = 100, Clock = () => Start }))
        {
            Publish(channel, Json(1));
            Publish(channel, big);
            Publish(channel, Json(3));
            channel.EndOfWindow();
        }

        var rotated = FileResultChannel.RotatedFiles(path);
        Assert.Equal(2, rotated.Count);
        Assert.Equal([Json(1)], Lines(rotated[0]));
        Assert.Equal([big], Lines(rotated[1]));
        Assert.Equal([Json(3)], Lines(path));
    }

    [Fact]
    public void Rotation_by_time_happens_on_clock_boundaries_between_windows()
    {
        string path = PathOf("out.ndjson");
        var now = Start.AddSeconds(10);
        using var channel = new FileResultChannel(new FileResultChannelOptions
        {
            Path = path,
            RotateEvery = TimeSpan.FromMinutes(1),
            Clock = () => now,
        });

        Publish(channel, Json(1));
        channel.EndOfWindow();
        now = Start.AddSeconds(59);
        Publish(channel, Json(2));
        channel.EndOfWindow();
        Assert.Empty(FileResultChannel.RotatedFiles(path));

        now = Start.AddSeconds(61); // the minute turned: the file of 00:00 is closed before this window is written
        Publish(channel, Json(3));
        channel.EndOfWindow();
        var rotated = FileResultChannel.RotatedFiles(path);
        Assert.Equal([Path.GetFullPath(path) + ".20260101T000101Z"], rotated);
        Assert.Equal([Json(1), Json(2)], Lines(rotated[0]));
        Assert.Equal([Json(3)], Lines(path));

        now = Start.AddMinutes(5); // windows without results: the file still rotates once it has something
        channel.EndOfWindow();
        Assert.Equal(2, FileResultChannel.RotatedFiles(path).Count);
        Assert.False(File.Exists(path));
        now = Start.AddMinutes(6).AddSeconds(30);
        channel.EndOfWindow(); // nothing written since: no empty file is rotated
        Assert.Equal(2, FileResultChannel.RotatedFiles(path).Count);
        Assert.Equal(3, channel.Statistics.Sent);
    }

    [Fact]
    public void Keeps_at_most_MaxFiles_rotated_files_deleting_the_oldest()
    {
        string path = PathOf("out.ndjson");
        File.WriteAllText(PathOf("out.ndjson.bak"), "not ours");
        var now = Start;
        using (var channel = new FileResultChannel(new FileResultChannelOptions
        {
            Path = path,
            RotateEvery = TimeSpan.FromSeconds(1),
            MaxFiles = 2,
            Clock = () => now,
        }))
        {
            for (int i = 0; i < 6; i++)
            {
                now = Start.AddSeconds(i);
                Publish(channel, Json(i));
                channel.EndOfWindow();
            }
        }

        var rotated = FileResultChannel.RotatedFiles(path);
        Assert.Equal([Path.GetFullPath(path) + ".20260101T000004Z", Path.GetFullPath(path) + ".20260101T000005Z"], rotated);
        Assert.Equal([Json(3)], Lines(rotated[0]));
        Assert.Equal([Json(4)], Lines(rotated[1]));
        Assert.Equal([Json(5)], Lines(path));
        Assert.True(File.Exists(PathOf("out.ndjson.bak")));
    }

    [Fact]
    public void An_unwritable_path_counts_errors_and_drops_reports_once_and_recovers()
    {
        string directory = PathOf("not-yet");
        string path = Path.Combine(directory, "out.ndjson");
        var log = new StringWriter();
        using var channel = new FileResultChannel(new FileResultChannelOptions { Path = path, Log = log });

        for (int window = 0; window < 3; window++)
        {
            Assert.True(Publish(channel, Json(window)));
            Publish(channel, Json(window));
            channel.EndOfWindow(); // no exception
        }

        Assert.Equal(3, channel.Statistics.Errors);
        Assert.Equal(6, channel.Statistics.Dropped);
        Assert.Equal(0, channel.Statistics.Sent);
        string[] reported = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(reported);
        Assert.Contains(path, reported[0], StringComparison.Ordinal);

        Directory.CreateDirectory(directory);
        Publish(channel, Json(10));
        channel.EndOfWindow();
        Assert.Equal([Json(10)], Lines(path));
        Assert.Equal(1, channel.Statistics.Sent);
        Assert.Equal(6, channel.Statistics.Dropped);
        reported = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, reported.Length);
        Assert.Contains("6 dropped", reported[1], StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_full_disk_counts_errors_and_drops_and_reports_once()
    {
        Skip.IfNot(File.Exists("/dev/full"), "/dev/full (every write fails with ENOSPC) is Linux's");
        var log = new StringWriter();
        using var channel = new FileResultChannel(new FileResultChannelOptions { Path = "/dev/full", Log = log });
        for (int window = 0; window < 3; window++)
        {
            Publish(channel, Json(window));
            channel.EndOfWindow();
        }

        Assert.Equal(3, channel.Statistics.Errors);
        Assert.Equal(3, channel.Statistics.Dropped);
        Assert.Equal(0, channel.Statistics.Sent);
        Assert.Single(log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_path_that_is_a_directory_is_an_error_not_an_exception()
    {
        using var channel = new FileResultChannel(new FileResultChannelOptions { Path = _directory });
        Publish(channel, Json(1));
        channel.EndOfWindow();
        Assert.Equal(1, channel.Statistics.Errors);
        Assert.Equal(1, channel.Statistics.Dropped);
    }

    [Fact]
    public void Options_out_of_range_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileResultChannel(new FileResultChannelOptions { Path = "x", MaxBytes = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileResultChannel(new FileResultChannelOptions { Path = "x", MaxFiles = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileResultChannel(new FileResultChannelOptions { Path = "x", RotateEvery = TimeSpan.FromSeconds(-1) }));
        Assert.Throws<ArgumentException>(() => new FileResultChannel(new FileResultChannelOptions { Path = " " }));
    }

    [Fact]
    public void Stream_channel_writes_lines_and_flushes_at_the_end_of_each_window()
    {
        var inner = new MemoryStream();
        var buffered = new BufferedStream(inner, 4096);
        using var channel = new StreamResultChannel(buffered, "stdout", leaveOpen: true);
        Publish(channel, Json(1));
        Assert.Equal(0, inner.Length);
        channel.EndOfWindow();
        Assert.Equal(Json(1) + "\n", Encoding.UTF8.GetString(inner.ToArray()));
        Assert.Equal(1, channel.Statistics.Sent);
        Assert.Equal("stdout", channel.Describe());
    }

    [Fact]
    public void Stream_channel_lets_a_write_error_propagate_after_counting_it()
    {
        using var channel = new StreamResultChannel(new FailingStream(), "pipe");
        Assert.Throws<IOException>(() => Publish(channel, Json(1)));
        Assert.Equal(1, channel.Statistics.Errors);
        Assert.Equal(1, channel.Statistics.Dropped);
        Assert.Throws<IOException>(channel.EndOfWindow);
        Assert.Equal(2, channel.Statistics.Errors);
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => throw new IOException("Broken pipe");

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("Broken pipe");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
        }
    }
}
