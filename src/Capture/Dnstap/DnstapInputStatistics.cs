using System.Globalization;

namespace RataDns.Capture.Dnstap;

/// <summary>
/// What a dnstap input read: frames, the messages that became packets, and what could not. One thread writes at a
/// time (a file's reader, or a socket's writers under the input's lock), so the counters are plain increments;
/// readers on other threads (metrics, the end-of-run line) see values that may be a message behind.
/// </summary>
public sealed class DnstapInputStatistics
{
    private long _frames;
    private long _messages;
    private long _notMessages;
    private long _withoutDns;
    private long _undecodable;

    /// <summary>Data frames read (one dnstap payload each).</summary>
    public long Frames => Volatile.Read(ref _frames);

    /// <summary>Messages that became packets for the pipeline.</summary>
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Payloads of a type other than MESSAGE (dnstap defines no other yet), skipped.</summary>
    public long NotMessages => Volatile.Read(ref _notMessages);

    /// <summary>Messages without the DNS message of their direction, or of no known socket family, skipped.</summary>
    public long WithoutDns => Volatile.Read(ref _withoutDns);

    /// <summary>Payloads that are not valid <c>dnstap.Dnstap</c> protobuf, skipped.</summary>
    public long Undecodable => Volatile.Read(ref _undecodable);

    /// <summary>Writers that connected (sockets only).</summary>
    public long Writers => Receiver?.Accepted ?? 0;

    /// <summary>Writers whose stream broke the rules and lost their connection (sockets only).</summary>
    public long BrokenStreams => Receiver?.Broken ?? 0;

    /// <summary>The socket's receiver, whose connection counts these are (null for a file).</summary>
    internal FrameStreamReceiver? Receiver { get; set; }

    internal void CountFrame() => _frames++;

    internal void CountMessage() => _messages++;

    internal void CountNotMessage() => _notMessages++;

    internal void CountWithoutDns() => _withoutDns++;

    internal void CountUndecodable() => _undecodable++;

    /// <summary>One line: "dnstap: 1,234 messages (from 2 writers); skipped: 3 without a DNS message, 1 undecodable".</summary>
    public string Summary()
    {
        var c = CultureInfo.InvariantCulture;
        string line = string.Format(c, "dnstap: {0:N0} messages", Messages);
        if (Writers > 0)
        {
            line += string.Format(c, " from {0:N0} writer{1}", Writers, Writers == 1 ? "" : "s");
        }

        var skipped = new List<string>();
        if (WithoutDns > 0)
        {
            skipped.Add(string.Format(c, "{0:N0} without a DNS message", WithoutDns));
        }

        if (NotMessages > 0)
        {
            skipped.Add(string.Format(c, "{0:N0} not of type MESSAGE", NotMessages));
        }

        if (Undecodable > 0)
        {
            skipped.Add(string.Format(c, "{0:N0} undecodable", Undecodable));
        }

        if (BrokenStreams > 0)
        {
            skipped.Add(string.Format(c, "{0:N0} writer stream{1} broken", BrokenStreams, BrokenStreams == 1 ? "" : "s"));
        }

        return skipped.Count == 0 ? line : $"{line}; skipped: {string.Join(", ", skipped)}";
    }
}
