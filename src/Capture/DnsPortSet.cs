namespace RataDns.Capture;

/// <summary>
/// The ports that mark a packet as DNS: a 65536-bit bitmap, so a lookup is one shift and one mask.
/// Immutable once built, so one instance can be shared by all workers.
/// </summary>
public sealed class DnsPortSet
{
    private readonly ulong[] _bits = new ulong[65536 / 64];

    public DnsPortSet(IEnumerable<ushort> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        foreach (ushort port in ports)
        {
            _bits[port >> 6] |= 1UL << (port & 63);
        }
    }

    /// <summary>Port 53 only (RFC 1035 4.2).</summary>
    public static DnsPortSet Default { get; } = new([53]);

    public bool Contains(ushort port) => (_bits[port >> 6] & (1UL << (port & 63))) != 0;
}
