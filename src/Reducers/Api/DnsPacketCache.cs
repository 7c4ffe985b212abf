using System.Runtime.CompilerServices;
using RataDns.DnsWire;

namespace RataDns.Reducers;

/// <summary>
/// Where a view keeps what it reads once for every reducer of one message: the whole-message facts
/// (<see cref="DnsPacketView.Facts"/>) and the first question with its lowercased name and that name's hash
/// (<see cref="DnsPacketView.ReadQuestion"/>). The engine owns one per worker and calls <see cref="Clear"/> before each
/// message; nothing in it is allocated.
/// </summary>
public struct DnsPacketCache
{
    internal DnsMessageFacts Facts;
    internal QuestionSlot Question;

    /// <summary>Forgets the previous message (cheaply: the name bytes are not zeroed, only marked unread).</summary>
    public void Clear()
    {
        Facts = default;
        Question.Shape = QuestionShape.Unread;
    }

    /// <summary>The message's parse status when a reducer already walked it (<see cref="DnsPacketView.Facts"/>); null otherwise.</summary>
    public readonly DnsParseStatus? WalkedStatus => Facts.Computed ? Facts.Status : null;

    internal struct QuestionSlot
    {
        public QuestionShape Shape;
        public ushort Type;
        public ushort Class;
        public int NameLength;
        public ulong NameHash;
        public NameBytes Name;
    }

    [InlineArray(DnsName.MaxWireLength)]
    internal struct NameBytes
    {
        private byte _first;
    }
}

/// <summary>How many questions a message has, as <see cref="DnsPacketView.ReadQuestion"/> read them.</summary>
public enum QuestionShape : byte
{
    /// <summary>Not read yet (never returned).</summary>
    Unread,

    /// <summary>No question could be read: QDCOUNT is 0, the header is short, or the first question is damaged.</summary>
    None,

    /// <summary>Exactly one question, read whole.</summary>
    One,

    /// <summary>
    /// Two or more (QDCOUNT &gt; 1) and the first read whole: the first is given; a reducer that counts every question
    /// reads them with <see cref="DnsPacketView.CreateReader"/>. Also what a view without a cache answers (it keeps
    /// nothing to give): the reducer then reads the questions itself.
    /// </summary>
    Several,
}

/// <summary>The first question of a message as read once for every reducer: its name in lowercase wire form and its hash.</summary>
public readonly ref struct SharedQuestion
{
    internal SharedQuestion(ReadOnlySpan<byte> lowercaseName, ulong nameHash, ushort type, ushort @class)
    {
        LowercaseName = lowercaseName;
        NameHash = nameHash;
        Type = type;
        Class = @class;
    }

    /// <summary>The name in wire form (length-prefixed labels, ending with the root's 0), ASCII letters lowercased.</summary>
    public ReadOnlySpan<byte> LowercaseName { get; }

    /// <summary><see cref="KeyHash.Of"/> of <see cref="LowercaseName"/> (keyed per process).</summary>
    public ulong NameHash { get; }

    public ushort Type { get; }

    public ushort Class { get; }

    /// <summary>True when the question was read (a default value has no name).</summary>
    public bool IsRead => !LowercaseName.IsEmpty;
}
