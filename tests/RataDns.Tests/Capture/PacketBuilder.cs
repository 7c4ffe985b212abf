using System.Buffers.Binary;

namespace RataDns.Tests.Capture;

/// <summary>Test-only builders of link, IP and transport headers (checksums are left zero: the decoder ignores them).</summary>
internal static class PacketBuilder
{
    public static readonly byte[] Ipv4Source = [192, 0, 2, 1];
    public static readonly byte[] Ipv4Destination = [198, 51, 100, 53];
    public static readonly byte[] Ipv6Source = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    public static readonly byte[] Ipv6Destination = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];

    public static byte[] Udp(ushort sourcePort, ushort destinationPort, byte[] payload, int? lengthField = null)
    {
        var b = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(lengthField ?? b.Length));
        payload.CopyTo(b, 8);
        return b;
    }

    public static byte[] Tcp(ushort sourcePort, ushort destinationPort, uint sequence, byte flags, byte[] payload, int optionBytes = 0)
    {
        int header = 20 + optionBytes;
        var b = new byte[header + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), sequence);
        b[12] = (byte)(header / 4 << 4);
        b[13] = flags;
        for (int i = 20; i < header; i++)
        {
            b[i] = 1; // NOP options
        }

        payload.CopyTo(b, header);
        return b;
    }

    public static byte[] Ipv4(byte protocol, byte[] payload, int optionBytes = 0, ushort identification = 0, ushort flagsAndOffset = 0, int? totalLength = null)
    {
        int header = 20 + optionBytes;
        var b = new byte[header + payload.Length];
        b[0] = (byte)(0x40 | (header / 4));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)(totalLength ?? b.Length));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), identification);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), flagsAndOffset);
        b[8] = 64;
        b[9] = protocol;
        Ipv4Source.CopyTo(b, 12);
        Ipv4Destination.CopyTo(b, 16);
        for (int i = 20; i < header; i++)
        {
            b[i] = 1; // NOP options
        }

        payload.CopyTo(b, header);
        return b;
    }

    public static byte[] Ipv6(byte nextHeader, byte[] payload)
    {
        var b = new byte[40 + payload.Length];
        b[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)payload.Length);
        b[6] = nextHeader;
        b[7] = 64;
        Ipv6Source.CopyTo(b, 8);
        Ipv6Destination.CopyTo(b, 24);
        payload.CopyTo(b, 40);
        return b;
    }

    /// <summary>A hop-by-hop, routing or destination options header of <paramref name="units"/>+1 eight-byte units.</summary>
    public static byte[] Ipv6Options(byte nextHeader, byte[] payload, int units = 0)
    {
        var b = new byte[((units + 1) * 8) + payload.Length];
        b[0] = nextHeader;
        b[1] = (byte)units;
        b[2] = 1; // PadN option covering the rest
        b[3] = (byte)(((units + 1) * 8) - 4);
        payload.CopyTo(b, (units + 1) * 8);
        return b;
    }

    public static byte[] Ipv6Fragment(byte nextHeader, byte[] payload, int offsetBytes, bool more, uint identification)
    {
        var b = new byte[8 + payload.Length];
        b[0] = nextHeader;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)((offsetBytes / 8 << 3) | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), identification);
        payload.CopyTo(b, 8);
        return b;
    }

    public static byte[] Ethernet(ushort etherType, byte[] payload, params ushort[] tagTypes)
    {
        var b = new List<byte>();
        b.AddRange([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        foreach (ushort tpid in tagTypes)
        {
            b.AddRange([(byte)(tpid >> 8), (byte)tpid, 0x00, 0x64]);
        }

        b.AddRange([(byte)(etherType >> 8), (byte)etherType]);
        b.AddRange(payload);
        return [.. b];
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
