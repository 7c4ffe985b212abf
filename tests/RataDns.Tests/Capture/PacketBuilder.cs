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

    /// <summary>A PPPoE session header (RFC 2516: ver/type 0x11, code 0, session id, length) and the PPP Protocol field.</summary>
    public static byte[] Pppoe(ushort pppProtocol, byte[] payload, bool compressProtocol = false, byte code = 0)
    {
        byte[] protocol = compressProtocol ? [(byte)pppProtocol] : [(byte)(pppProtocol >> 8), (byte)pppProtocol];
        int length = protocol.Length + payload.Length;
        return Concat([0x11, code, 0x12, 0x34, (byte)(length >> 8), (byte)length], protocol, payload);
    }

    /// <summary>MPLS label stack entries (RFC 3032), the last with the bottom-of-stack bit unless <paramref name="bottom"/> is false.</summary>
    public static byte[] Mpls(byte[] payload, int labels, bool bottom = true)
    {
        var b = new byte[(4 * labels) + payload.Length];
        for (int i = 0; i < labels; i++)
        {
            uint entry = ((uint)(100 + i) << 12) | 64u;
            if (bottom && i == labels - 1)
            {
                entry |= 0x100;
            }

            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 * i), entry);
        }

        payload.CopyTo(b, 4 * labels);
        return b;
    }

    /// <summary>A GRE header (RFC 2784/2890) with the optional checksum, key and sequence fields as asked.</summary>
    public static byte[] Gre(ushort protocolType, byte[] payload, bool checksum = false, bool key = false, bool sequence = false, int version = 0)
    {
        var b = new List<byte>();
        int flags = (checksum ? 0x8000 : 0) | (key ? 0x2000 : 0) | (sequence ? 0x1000 : 0) | version;
        b.AddRange([(byte)(flags >> 8), (byte)flags, (byte)(protocolType >> 8), (byte)protocolType]);
        if (checksum)
        {
            b.AddRange([0xAB, 0xCD, 0, 0]);
        }

        if (key)
        {
            b.AddRange([0, 0, 0x10, 0x01]);
        }

        if (sequence)
        {
            b.AddRange([0, 0, 0, 7]);
        }

        b.AddRange(payload);
        return [.. b];
    }

    /// <summary>A VXLAN header (RFC 7348 5): flags (I set), VNI 42.</summary>
    public static byte[] Vxlan(byte[] innerEthernet, byte flags = 0x08) => Concat([flags, 0, 0, 0, 0, 0, 42, 0], innerEthernet);

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
