using System.Buffers.Binary;
using RataDns.DnsWire;

namespace RataDns.Capture.Dnstap;

/// <summary>
/// The 12 bytes before the IP packet of a <see cref="LinkType.Dnstap"/> frame: what a dnstap message says that its
/// packet cannot. Byte 0 is the layout (1); byte 1 the <see cref="EncryptedTransport"/>; byte 2 the dnstap message
/// type; byte 3 zero; bytes 4-11 the server's query time of a response, nanoseconds since the Unix epoch,
/// little-endian (0: unknown).
/// </summary>
public static class DnstapPacketHeader
{
    public const int Size = 12;

    private const byte Layout = 1;

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, EncryptedTransport encryption, DnstapMessageType type, long serverQueryTimeNanoseconds)
    {
        destination[0] = Layout;
        destination[1] = (byte)encryption;
        destination[2] = (byte)type;
        destination[3] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], serverQueryTimeNanoseconds);
    }

    /// <summary>Reads the header; false (and nothing known) when it is too short or of another layout.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out EncryptedTransport encryption, out long serverQueryTimeNanoseconds)
    {
        encryption = EncryptedTransport.None;
        serverQueryTimeNanoseconds = 0;
        if (frame.Length < Size || frame[0] != Layout)
        {
            return false;
        }

        encryption = frame[1] <= (byte)EncryptedTransport.DnsCrypt ? (EncryptedTransport)frame[1] : EncryptedTransport.None;
        serverQueryTimeNanoseconds = Math.Max(0, BinaryPrimitives.ReadInt64LittleEndian(frame[4..]));
        return true;
    }

    /// <summary>The encrypted transport of a dnstap <c>socket_protocol</c>.</summary>
    public static EncryptedTransport EncryptionOf(DnstapProtocol protocol) => protocol switch
    {
        DnstapProtocol.Dot => EncryptedTransport.Tls,
        DnstapProtocol.Doh => EncryptedTransport.Https,
        DnstapProtocol.Doq => EncryptedTransport.Quic,
        DnstapProtocol.DnsCryptUdp or DnstapProtocol.DnsCryptTcp => EncryptedTransport.DnsCrypt,
        _ => EncryptedTransport.None,
    };
}
