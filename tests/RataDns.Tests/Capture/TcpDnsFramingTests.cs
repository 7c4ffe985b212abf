using RataDns.Capture;

namespace RataDns.Tests.Capture;

public sealed class TcpDnsFramingTests
{
    [Fact]
    public void Two_whole_messages_and_a_partial_third()
    {
        byte[] segment = [0, 3, 1, 2, 3, 0, 2, 4, 5, 0, 10, 6, 7, 8];
        var messages = new List<byte[]>();
        var e = TcpDnsFraming.Enumerate(segment);
        while (e.MoveNext())
        {
            messages.Add(e.Current.ToArray());
        }

        Assert.Equal([[1, 2, 3], [4, 5]], messages);
        Assert.Equal(9, e.Consumed);
        Assert.Equal(new byte[] { 0, 10, 6, 7, 8 }, e.Leftover.ToArray());
        Assert.Equal(10, e.LeftoverAnnouncedLength);
    }

    [Fact]
    public void A_lone_length_byte_is_leftover_with_no_announced_length()
    {
        byte[] segment = [0, 1, 9, 0];
        int count = 0;
        foreach (var message in TcpDnsFraming.Enumerate(segment))
        {
            Assert.Equal(new byte[] { 9 }, message.ToArray());
            count++;
        }

        Assert.Equal(1, count);
        var e = TcpDnsFraming.Enumerate(segment);
        Assert.True(e.MoveNext());
        Assert.False(e.MoveNext());
        Assert.Equal(new byte[] { 0 }, e.Leftover.ToArray());
        Assert.Equal(-1, e.LeftoverAnnouncedLength);
    }

    [Fact]
    public void Empty_payload_and_exact_fit()
    {
        var empty = TcpDnsFraming.Enumerate([]);
        Assert.False(empty.MoveNext());
        Assert.True(empty.Leftover.IsEmpty);

        var exact = TcpDnsFraming.Enumerate([0, 2, 7, 7]);
        Assert.True(exact.MoveNext());
        Assert.False(exact.MoveNext());
        Assert.True(exact.Leftover.IsEmpty);
        Assert.Equal(4, exact.Consumed);
    }
}
