namespace RataDns.Capture.Tcp;

/// <summary>Receives the DNS messages that a <see cref="TcpDnsReassembler"/> rebuilds from TCP streams.</summary>
public interface ITcpMessageHandler
{
    /// <summary>
    /// One DNS message, without its 2-byte length prefix. <paramref name="segment"/> is the packet that completed
    /// it (its addresses and ports give the direction), or <c>default</c> when <see cref="TcpDnsReassembler.Flush"/>
    /// delivers it. <paramref name="message"/> is valid only during the call.
    /// </summary>
    void OnMessage(in DecodedPacket segment, ReadOnlySpan<byte> message, long timestampNanoseconds);
}
