using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RataDns.DnsWire;

namespace RataDns.Capture;

/// <summary>
/// What decoding a frame found, kept as offsets into the frame's bytes so the thread that handles the frame next can
/// rebuild the <see cref="DecodedPacket"/> without decoding it again: the monitor's capture thread decodes each frame
/// to choose its worker and count it, and hands the hint on with the frame through the ring. Set only for the usual
/// case, a whole UDP datagram on a DNS port (<see cref="PacketDecodeStatus.Ok"/>, not a fragment, every part inside
/// the frame); anything else is left empty and decoded again where it is handled. 32 bytes, no references.
/// </summary>
public struct FrameDecodeHint
{
    private ushort _sourceAddress;
    private ushort _destinationAddress;
    private ushort _ipPayload;
    private ushort _ipPayloadLength;
    private ushort _payload;
    private ushort _payloadLength;
    private ushort _sourcePort;
    private ushort _destinationPort;
    private uint _fragmentIdentification;
    private byte _ipVersion;
    private byte _ipProtocol;
    private byte _ipHeaderCount;

    /// <summary>True when the hint holds a decode (false for the default value).</summary>
    public readonly bool IsSet => _ipVersion != 0;

    /// <summary>The hint of <paramref name="packet"/>, decoded from <paramref name="frame"/> with <paramref name="status"/>; empty when it is not the usual case.</summary>
    public static FrameDecodeHint From(PacketDecodeStatus status, in DecodedPacket packet, ReadOnlySpan<byte> frame)
    {
        int addressLength = packet.IpVersion == 4 ? 4 : 16;
        if (status != PacketDecodeStatus.Ok
            || packet.Transport != TransportProtocol.Udp
            || packet.Encryption != EncryptedTransport.None
            || packet.ServerQueryTimeNanoseconds != 0
            || packet.IpVersion is not (4 or 6)
            || packet.SourceAddress.Length != addressLength
            || packet.DestinationAddress.Length != addressLength
            || packet.FragmentOffset != 0
            || packet.MoreFragments
            || packet.TcpFlags != 0
            || packet.TcpSequence != 0
            || (uint)packet.IpHeaderCount > byte.MaxValue
            || frame.Length > ushort.MaxValue)
        {
            return default;
        }

        int source = OffsetIn(frame, packet.SourceAddress);
        int destination = OffsetIn(frame, packet.DestinationAddress);
        int ipPayload = OffsetIn(frame, packet.IpPayload);
        int payload = OffsetIn(frame, packet.Payload);
        if ((source | destination | ipPayload | payload) < 0)
        {
            return default;
        }

        return new FrameDecodeHint
        {
            _sourceAddress = (ushort)source,
            _destinationAddress = (ushort)destination,
            _ipPayload = (ushort)ipPayload,
            _ipPayloadLength = (ushort)packet.IpPayload.Length,
            _payload = (ushort)payload,
            _payloadLength = (ushort)packet.Payload.Length,
            _sourcePort = packet.SourcePort,
            _destinationPort = packet.DestinationPort,
            _fragmentIdentification = packet.FragmentIdentification,
            _ipVersion = packet.IpVersion,
            _ipProtocol = packet.IpProtocol,
            _ipHeaderCount = (byte)packet.IpHeaderCount,
        };
    }

    /// <summary>
    /// Rebuilds the decode of <paramref name="frame"/> (the same bytes the hint was made from). False when the hint is
    /// empty or does not fit the frame (then decode it).
    /// </summary>
    public readonly bool TryRebuild(ReadOnlySpan<byte> frame, out DecodedPacket packet)
    {
        int addressLength = _ipVersion == 4 ? 4 : 16;
        if (!IsSet
            || _sourceAddress + addressLength > frame.Length
            || _destinationAddress + addressLength > frame.Length
            || _ipPayload + _ipPayloadLength > frame.Length
            || _payload + _payloadLength > frame.Length)
        {
            packet = default;
            return false;
        }

        var builder = new PacketDecoder.Builder
        {
            IpVersion = _ipVersion,
            SourceAddress = frame.Slice(_sourceAddress, addressLength),
            DestinationAddress = frame.Slice(_destinationAddress, addressLength),
            IpProtocol = _ipProtocol,
            IpPayload = frame.Slice(_ipPayload, _ipPayloadLength),
            IpHeaderCount = _ipHeaderCount,
            SourcePort = _sourcePort,
            DestinationPort = _destinationPort,
            Transport = TransportProtocol.Udp,
            Payload = frame.Slice(_payload, _payloadLength),
            FragmentIdentification = _fragmentIdentification,
        };
        packet = new DecodedPacket(in builder);
        return true;
    }

    /// <summary>Where <paramref name="part"/> starts in <paramref name="frame"/>, or -1 when it is not inside it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // four per frame on the capture thread; the JIT left them calls
    private static int OffsetIn(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> part)
    {
        if (part.IsEmpty)
        {
            return frame.IsEmpty ? 0 : -1;
        }

        nint offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(frame), ref MemoryMarshal.GetReference(part));
        return offset >= 0 && offset + part.Length <= frame.Length ? (int)offset : -1;
    }
}
