using RataDns.DnsWire;

namespace RataDns.Reducers;

/// <summary>
/// The hash every reducer table of this process uses for its keys (names, addresses): SipHash-1-3 under a key drawn
/// at random when the process starts, so a sender cannot choose names that collide in the tables (hash flooding),
/// and a question name is hashed once per message for every reducer (<see cref="SharedQuestion.NameHash"/>).
/// Never part of a result or a state: another process has another key.
/// </summary>
public static class KeyHash
{
    private static readonly ulong Key0;
    private static readonly ulong Key1;

#pragma warning disable CA1810 // two fields from one random draw
    static KeyHash()
    {
        (Key0, Key1) = HashKeys.New();
    }
#pragma warning restore CA1810

    /// <summary>The hash of <paramref name="key"/>.</summary>
    public static ulong Of(ReadOnlySpan<byte> key) => SipHash.Hash13(Key0, Key1, key);
}
