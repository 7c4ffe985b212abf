using RataDns.App.Commands;
using RataDns.Capture;
using RataDns.DnsWire;
using RataDns.Tests.Capture;
using RataDns.Tests.Support;
using RataDns.Transport;
using RataDns.Transport.Speedy;

namespace RataDns.Tests.Transport;

/// <summary>
/// The serializer's formatter threads: the same bytes as one thread whatever their number (the one-thread writer is
/// the one checked against tshark), the same parse statuses, and a failing output stops them with its error.
/// </summary>
public sealed class SpeedyParallelWriterTests
{
    private static readonly byte[] Client = [192, 0, 2, 7];
    private static readonly byte[] Server = [198, 51, 100, 53];

    [Theory]
    [InlineData(1, SpeedyFraming.LengthPrefixed)]
    [InlineData(2, SpeedyFraming.LengthPrefixed)]
    [InlineData(3, SpeedyFraming.NewlineDelimited)]
    [InlineData(7, SpeedyFraming.NewlineDelimited)]
    public void Any_number_of_threads_writes_the_bytes_and_statuses_of_one(int threads, SpeedyFraming framing)
    {
        var options = new SpeedyOptions { Framing = framing, Timestamps = true, Counts = true, Anonymizer = AddressAnonymizer.WithRandomKey() };
        var messages = Messages(5_000);
        using var expected = new MemoryStream();
        var expectedStatuses = new long[16];
        using (var single = new SpeedyStreamWriter(expected, options))
        {
            for (int i = 0; i < messages.Count; i++)
            {
                expectedStatuses[(int)single.Write(Client, Server, messages[i], i * 1_000L)]++;
            }
        }

        using var actual = new MemoryStream();
        long[] statuses;
        long malformed;
        using (var parallel = new SpeedyParallelWriter(actual, options, threads))
        {
            for (int i = 0; i < messages.Count; i++)
            {
                Assert.Equal(DnsParseStatus.Ok, parallel.Write(Client, Server, messages[i], i * 1_000L));
            }

            parallel.Flush();
            statuses = parallel.StatusCounts.ToArray();
            malformed = parallel.Malformed;
            Assert.Equal(messages.Count, parallel.MessagesWritten);
        }

        Assert.True(expected.Length > 100_000);
        Assert.Equal(expected.ToArray(), actual.ToArray());
        Assert.Equal(expectedStatuses, statuses);
        Assert.Equal(messages.Count - expectedStatuses[(int)DnsParseStatus.Ok], malformed);
        Assert.True(malformed > 500, $"only {malformed} malformed messages: the mix should hold many");
    }

    [Fact]
    public void A_stream_that_fails_stops_the_writer_with_its_error_and_dispose_still_returns()
    {
        var messages = Messages(1_000);
        var stream = new FailingStream(failAfterBytes: 200_000);
        var writer = new SpeedyParallelWriter(stream, new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited }, threads: 2);
        var error = Assert.Throws<IOException>(() =>
        {
            for (int round = 0; round < 1_000; round++)
            {
                foreach (var message in messages)
                {
                    writer.Write(Client, Server, message, 0);
                }
            }

            writer.Flush();
        });
        Assert.Equal("disk full", error.Message);
        writer.Dispose(); // formatter threads stop; nothing more is written
        Assert.True(stream.Written <= 200_000 + (2 << 20), $"{stream.Written} bytes written after the failure");
    }

    /// <summary>
    /// The whole command on a capture mixing good and damaged messages: 3 formatter threads give the output and the
    /// statistics (malformed counts by reason) of 1.
    /// </summary>
    [Fact]
    public void Serialize_with_threads_gives_the_output_and_statistics_of_one_thread()
    {
        var builder = new PcapBuilder(bigEndian: false, nanoseconds: false, LinkType.Ethernet);
        var messages = Messages(4_000);
        for (int i = 0; i < messages.Count; i++)
        {
            var udp = PacketBuilder.Udp((ushort)(40_000 + (i % 1_000)), 53, messages[i]);
            builder.Add(1_700_000_000 + (uint)(i / 100), (uint)(i % 100) * 10_000, PacketBuilder.Ethernet(0x0800, PacketBuilder.Ipv4(17, udp)));
        }

        string path = CaptureTestIo.WriteTemp(builder.ToArray());
        try
        {
            var (oneOutput, oneErrors, oneExit) = Serialize(path, threads: 1);
            var (threeOutput, threeErrors, threeExit) = Serialize(path, threads: 3);
            Assert.Equal(0, oneExit);
            Assert.Equal(0, threeExit);
            Assert.Equal(oneOutput, threeOutput);
            Assert.Contains("malformed", oneErrors, StringComparison.Ordinal);
            Assert.Equal(StatisticsLines(oneErrors), StatisticsLines(threeErrors));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (byte[] Output, string Errors, int Exit) Serialize(string path, int threads)
    {
        var settings = new SerializeSettings
        {
            Source = new CaptureSourceSettings { Input = path },
            Ports = new DnsPortSet([53]),
            Speedy = new SpeedyOptions { Framing = SpeedyFraming.NewlineDelimited },
            PrintStatistics = true,
            Threads = threads,
        };
        using var output = new MemoryStream();
        using var errors = new StringWriter();
        int exit = SerializeRunner.Run(settings, null, output, errors);
        return (output.ToArray(), errors.ToString(), exit);
    }

    /// <summary>The statistics report's "name: value" lines (the run's timing lines differ from run to run).</summary>
    private static string[] StatisticsLines(string errors) =>
        [.. errors.Split('\n').Where(line => line.Contains(": ", StringComparison.Ordinal) && !line.Contains(" in ", StringComparison.Ordinal))];

    /// <summary>Queries and responses, one in six cut short, others with a damaged last byte or trailing bytes.</summary>
    private static List<byte[]> Messages(int count)
    {
        var random = new Random(7);
        var list = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            var b = new TestMessageBuilder { Id = (ushort)i, Flags = (ushort)(i % 2 == 0 ? 0x0100 : 0x8180) };
            b.Question($"host{i % 97}.zone{i % 13}.example", (ushort)(i % 3 == 0 ? 28 : 1));
            if (i % 2 == 1)
            {
                b.Section(1);
                b.Record($"host{i % 97}.zone{i % 13}.example", 1, 1, 300, r => r.Bytes([192, 0, 2, (byte)i]));
            }

            byte[] message = b.ToArray();
            switch (i % 6)
            {
                case 1:
                    message = message[..random.Next(2, message.Length)]; // cut anywhere
                    break;
                case 3:
                    message[^1] ^= 0xFF; // a damaged last byte (a count, a class or RDATA)
                    break;
                case 5:
                    message = [.. message, .. new byte[] { 0xC0, 0xFF }]; // trailing bytes: a pointer past the end
                    break;
            }

            list.Add(message);
        }

        return list;
    }

    private sealed class FailingStream(long failAfterBytes) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Written + count > failAfterBytes)
            {
                throw new IOException("disk full");
            }

            Written += count;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
