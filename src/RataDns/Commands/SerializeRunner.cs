using RataDns.Capture;
using RataDns.Transport.Speedy;

namespace RataDns.App.Commands;

internal sealed class SerializeSettings
{
    public required string Input { get; init; }
    public string? Output { get; init; }
    public required DnsPortSet Ports { get; init; }
    public required SpeedyOptions Speedy { get; init; }
    public bool PrintStatistics { get; init; }
}

/// <summary>Reads a capture, decodes each frame, and writes each DNS message through a <see cref="SpeedyStreamWriter"/>.</summary>
internal static class SerializeRunner
{
    public static int Run(SerializeSettings settings)
    {
        Stream output;
        try
        {
            output = settings.Output is null
                ? StandardOutput.Open()
                : new FileStream(settings.Output, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"ratadns serialize: cannot write {settings.Output}: {e.Message}");
            return ExitCodes.Usage;
        }

        try
        {
            using (output)
            {
                return Run(settings, settings.Input == "-" ? Console.OpenStandardInput() : null, output, Console.Error);
            }
        }
        catch (OutputClosedException)
        {
            // The reader of our output is gone (e.g. "| head"): nothing more to do, and nothing to complain about.
            return ExitCodes.Ok;
        }
    }

    /// <summary>
    /// Serializes <see cref="SerializeSettings.Input"/> (or <paramref name="input"/> when given) into
    /// <paramref name="output"/>; messages for people go to <paramref name="errors"/>. Returns the exit code.
    /// </summary>
    public static int Run(SerializeSettings settings, Stream? input, Stream output, TextWriter errors)
    {
        var statistics = new CaptureStatistics();
        CaptureReadError? error;
        using (var writer = new SpeedyStreamWriter(output, settings.Speedy))
        {
            var handler = new SerializeFrameHandler(writer, settings.Ports, statistics);
            try
            {
                if (input is not null)
                {
                    var reader = new CaptureStreamReader(input);
                    reader.ReadAllAsync(handler).GetAwaiter().GetResult();
                    error = reader.Error;
                }
                else
                {
                    using var reader = CaptureFileReader.Open(settings.Input);
                    reader.ReadAll(ref handler);
                    error = reader.Error;
                }
            }
            catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
            {
                writer.Flush();
                errors.WriteLine($"ratadns serialize: {e.Message}");
                return ExitCodes.Usage;
            }
        }

        if (settings.PrintStatistics)
        {
            errors.Write(statistics.ToText());
        }

        if (error is not null)
        {
            errors.WriteLine($"ratadns serialize: {settings.Input}: {error.Message}; the {statistics.Frames} frames before it were processed.");
            return ExitCodes.InputDamaged;
        }

        return ExitCodes.Ok;
    }
}

/// <summary>Per-frame work of <c>serialize</c>: link layer to DNS, then one Speedy message per DNS message.</summary>
internal struct SerializeFrameHandler : ICaptureFrameHandler
{
    private readonly SpeedyStreamWriter _writer;
    private readonly DnsPortSet _ports;
    private readonly CaptureStatistics _statistics;

    public SerializeFrameHandler(SpeedyStreamWriter writer, DnsPortSet ports, CaptureStatistics statistics)
    {
        _writer = writer;
        _ports = ports;
        _statistics = statistics;
    }

    public readonly void OnFrame(in CapturedFrame frame)
    {
        _statistics.Frames++;
        var status = PacketDecoder.Decode(in frame, _ports, out var packet);
        if (status == PacketDecodeStatus.Snapped && packet.Transport == TransportProtocol.Udp)
        {
            // The capture's snap length cut the datagram: the DNS message is kept, and reads as truncated.
            _statistics.SnappedDatagrams++;
        }
        else if (status != PacketDecodeStatus.Ok)
        {
            _statistics.CountUndecoded(status);
            return;
        }

        if (packet.Transport == TransportProtocol.Udp)
        {
            if (packet.Payload.IsEmpty)
            {
                // Nothing to parse: a probe or a scan, not a DNS message.
                _statistics.EmptyUdpPayloads++;
                return;
            }

            Emit(packet, packet.Payload, frame.TimestampNanoseconds);
            return;
        }

        // Without stream reassembly (issue 3) a segment is used only when whole messages tile it exactly: a
        // segment that continues or starts a split message could otherwise be misread as a message of its own.
        var probe = TcpDnsFraming.Enumerate(packet.Payload);
        while (probe.MoveNext())
        {
        }

        if (!probe.Leftover.IsEmpty || probe.Consumed == 0)
        {
            if (!packet.Payload.IsEmpty)
            {
                _statistics.TcpPartialSegments++;
            }

            return;
        }

        foreach (var message in TcpDnsFraming.Enumerate(packet.Payload))
        {
            Emit(packet, message, frame.TimestampNanoseconds);
        }
    }

    private readonly void Emit(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestamp)
    {
        var parse = _writer.Write(packet.SourceAddress, packet.DestinationAddress, message, timestamp);
        _statistics.CountMessage(packet.Transport, packet.IpVersion, parse);
    }
}
