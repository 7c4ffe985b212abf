using System.Buffers.Binary;

namespace RataDns.Tests.Support;

/// <summary>Record boundaries in a classic pcap file, to feed a capture to a process in parts.</summary>
internal static class PcapRecords
{
    /// <summary>
    /// The first record boundary at or after <paramref name="target"/>, how many records come before it, and how
    /// many the file holds.
    /// </summary>
    public static (int Offset, long Before, long Total) Boundary(byte[] pcap, int target)
    {
        bool littleEndian = pcap[0] == 0xd4; // a1b2c3d4 (or the nanosecond a1b23c4d) written little-endian
        int offset = 24;
        int cut = -1;
        long before = 0;
        long records = 0;
        while (offset < pcap.Length)
        {
            if (cut < 0 && offset >= target)
            {
                (cut, before) = (offset, records);
            }

            var length = pcap.AsSpan(offset + 8, 4);
            offset += 16 + (int)(littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(length) : BinaryPrimitives.ReadUInt32BigEndian(length));
            records++;
        }

        Assert.True(cut > 0 && before > 0 && before < records, "no record boundary inside the file");
        return (cut, before, records);
    }
}
