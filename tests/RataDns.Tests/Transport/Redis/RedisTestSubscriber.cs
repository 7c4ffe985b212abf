using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RataDns.Tests.Transport.Redis;

/// <summary>
/// A RESP2 client in SUBSCRIBE mode, written independently of the publisher: subscribes to some channels and keeps
/// every message (channel, payload bytes) in arrival order.
/// </summary>
internal sealed class RedisTestSubscriber : IDisposable
{
    private readonly TcpClient _client = new();
    private readonly BufferedStream _stream;
    private readonly Thread _reader;

    public RedisTestSubscriber(int port, params string[] channels)
    {
        _client.Connect(IPAddress.Loopback, port);
        _stream = new BufferedStream(_client.GetStream(), 65536);
        var command = new StringBuilder().Append('*').Append(channels.Length + 1).Append("\r\n$9\r\nSUBSCRIBE\r\n");
        foreach (var c in channels)
        {
            command.Append('$').Append(Encoding.UTF8.GetByteCount(c)).Append("\r\n").Append(c).Append("\r\n");
        }

        _stream.Write(Encoding.UTF8.GetBytes(command.ToString()));
        _stream.Flush();
        // One confirmation per channel: ["subscribe", channel, count]; after them the subscription is in place.
        for (int i = 0; i < channels.Length; i++)
        {
            var confirmation = (object?[])ReadValue()!;
            Assert.Equal("subscribe", Encoding.UTF8.GetString((byte[])confirmation[0]!));
        }

        _reader = new Thread(ReadMessages) { IsBackground = true, Name = "redis test subscriber" };
        _reader.Start();
    }

    public BlockingCollection<(string Channel, byte[] Payload)> Messages { get; } = [];

    /// <summary>Waits until <paramref name="count"/> messages arrived (or the timeout passed) and returns them all.</summary>
    public List<(string Channel, byte[] Payload)> WaitFor(int count, TimeSpan timeout)
    {
        var received = new List<(string, byte[])>();
        var deadline = DateTime.UtcNow + timeout;
        while (received.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !Messages.TryTake(out var m, left))
            {
                break;
            }

            received.Add(m);
        }

        return received;
    }

    public void Dispose()
    {
        _client.Dispose();
        _reader.Join(2000);
    }

    private void ReadMessages()
    {
        try
        {
            while (true)
            {
                var push = (object?[])ReadValue()!;
                if (Encoding.UTF8.GetString((byte[])push[0]!) == "message")
                {
                    Messages.Add((Encoding.UTF8.GetString((byte[])push[1]!), (byte[])push[2]!));
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or SocketException)
        {
            // Closed by Dispose or by the server going away.
        }
        finally
        {
            Messages.CompleteAdding();
        }
    }

    /// <summary>One RESP2 value: simple string, error or integer as string, bulk string as bytes, array as object?[].</summary>
    private object? ReadValue()
    {
        int type = _stream.ReadByte();
        string line = ReadLine();
        switch (type)
        {
            case '+' or '-' or ':':
                return line;
            case '$':
                int length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return null;
                }

                var bytes = new byte[length];
                _stream.ReadExactly(bytes);
                Assert.Equal((byte)'\r', _stream.ReadByte());
                Assert.Equal((byte)'\n', _stream.ReadByte());
                return bytes;
            case '*':
                int count = int.Parse(line, CultureInfo.InvariantCulture);
                var items = new object?[Math.Max(count, 0)];
                for (int i = 0; i < items.Length; i++)
                {
                    items[i] = ReadValue();
                }

                return items;
            case -1:
                throw new EndOfStreamException();
            default:
                throw new InvalidDataException($"unexpected RESP type byte {type}");
        }
    }

    private string ReadLine()
    {
        var line = new StringBuilder();
        while (true)
        {
            int b = _stream.ReadByte();
            if (b < 0)
            {
                throw new EndOfStreamException();
            }

            if (b == '\r')
            {
                Assert.Equal((byte)'\n', _stream.ReadByte());
                return line.ToString();
            }

            line.Append((char)b);
        }
    }
}
