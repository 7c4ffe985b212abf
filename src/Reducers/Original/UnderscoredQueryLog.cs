using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers.State;

namespace RataDns.Reducers.Original;

/// <summary>
/// The distinct queries that QueriesWithUnderscoredName and PacketHasUnderscore report: questions of queries
/// (QR = 0) whose name has a '_' in some label and whose type is A, NS, SOA or MX (names that cannot be host
/// names there, RFC 952/1123, so a sign of misconfiguration). Each distinct (sender, server, qname, qtype,
/// qclass) is kept once, up to a bound; the rest are counted in <see cref="Dropped"/>.
/// </summary>
internal sealed class UnderscoredQueryLog
{
    public const int DefaultCapacity = 1000;

    private readonly BoundedKeyTable _examples;

    public UnderscoredQueryLog(int capacity) => _examples = new BoundedKeyTable(capacity);

    public int Capacity => _examples.Capacity;

    public int Count => _examples.Count;

    /// <summary>Distinct queries not kept because the log was full.</summary>
    public long Dropped => _examples.Refused;

    public static bool Matches(in DnsQuestion question) =>
        question.Type is DnsRecordType.A or DnsRecordType.NS or DnsRecordType.SOA or DnsRecordType.MX
        && ReducerText.HasUnderscore(question.Name);

    /// <summary>As <see cref="Matches(in DnsQuestion)"/> for a question type and its name in wire form.</summary>
    public static bool Matches(ushort type, ReadOnlySpan<byte> wireName) =>
        type is DnsRecordType.A or DnsRecordType.NS or DnsRecordType.SOA or DnsRecordType.MX
        && ReducerText.HasUnderscore(wireName);

    /// <summary>Records one matching question of a query from <paramref name="packet"/>.</summary>
    public void Add(in DnsPacketView packet, in DnsQuestion question, Span<byte> keyBuffer)
    {
        int n = ReducerText.WriteAddress(keyBuffer, packet.SourceAddress);
        n += ReducerText.WriteAddress(keyBuffer[n..], packet.DestinationAddress);
        n += ReducerText.WriteUInt16(keyBuffer[n..], question.Type);
        n += ReducerText.WriteUInt16(keyBuffer[n..], question.Class);
        n += question.Name.CopyWireFormTo(keyBuffer[n..]);
        int entry = _examples.FindOrAdd(keyBuffer[..n]);
        if (entry >= 0)
        {
            _examples.ValueAt(entry)++;
        }
    }

    public void Merge(UnderscoredQueryLog other)
    {
        for (int i = 0; i < other._examples.Count; i++)
        {
            int entry = _examples.FindOrAdd(other._examples.KeyAt(i));
            if (entry >= 0)
            {
                _examples.ValueAt(entry) += other._examples.ValueAt(i);
            }
        }

        _examples.AddRefused(other._examples.Refused);
    }

    /// <summary>
    /// <c>[refused, [[key, count], ...]]</c>: the distinct queries in the order first seen with how often each was
    /// asked, and how many were refused; a key is <c>[sender length][sender][server length][server][qtype, 2 bytes]
    /// [qclass, 2 bytes][qname, wire form as sent]</c>.
    /// </summary>
    public void WriteState(ref MessagePackWriter writer) => KeyTableState.Write(ref writer, _examples);

    /// <summary>Reads what <see cref="WriteState"/> wrote (into a reset log).</summary>
    public void ReadState(ref MessagePackReader reader, string reducer) =>
        KeyTableState.Read(ref reader, _examples, IsQueryKey, 1, long.MaxValue, reducer, "the queries");

    private static bool IsQueryKey(ReadOnlySpan<byte> key) =>
        StateKeys.SkipAddress(ref key) && StateKeys.SkipAddress(ref key) && StateKeys.Skip(ref key, 4) && StateKeys.IsWireName(key);

    public void Reset() => _examples.Reset();

    /// <summary>Every kept query as text, sorted by (qname lowercase, sender, server, qname, qtype, qclass).</summary>
    public List<Example> ToExamples()
    {
        var result = new List<Example>(_examples.Count);
        for (int i = 0; i < _examples.Count; i++)
        {
            ReadOnlySpan<byte> key = _examples.KeyAt(i);
            int at = ReducerText.ReadAddress(key, out ReadOnlySpan<byte> sender);
            at += ReducerText.ReadAddress(key[at..], out ReadOnlySpan<byte> server);
            ushort type = ReducerText.ReadUInt16(key[at..]);
            ushort @class = ReducerText.ReadUInt16(key[(at + 2)..]);
            string name = ReducerText.FormatWireName(key[(at + 4)..]);
            result.Add(new Example(
                ReducerText.FormatAddress(sender),
                ReducerText.FormatAddress(server),
                name,
                name.ToLowerInvariant(),
                type,
                @class));
        }

        result.Sort(static (a, b) =>
        {
            int c = string.CompareOrdinal(a.LowercaseName, b.LowercaseName);
            c = c != 0 ? c : string.CompareOrdinal(a.Sender, b.Sender);
            c = c != 0 ? c : string.CompareOrdinal(a.Server, b.Server);
            c = c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
            c = c != 0 ? c : a.Type.CompareTo(b.Type);
            return c != 0 ? c : a.Class.CompareTo(b.Class);
        });
        return result;
    }

    /// <summary>One kept query. <see cref="LowercaseName"/> is ASCII-lowercased (escapes keep digits only).</summary>
    public sealed record Example(string Sender, string Server, string Name, string LowercaseName, ushort Type, ushort Class)
    {
        /// <summary><c>{"sender","server","query":{"qname","qtype","qclass"}}</c>; type and class as mnemonics.</summary>
        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("sender"u8, Sender);
            writer.WriteString("server"u8, Server);
            writer.WriteStartObject("query"u8);
            writer.WriteString("qname"u8, Name);
            writer.WriteString("qtype"u8, ReducerText.FormatType(Type));
            writer.WriteString("qclass"u8, ReducerText.FormatClass(Class));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
    }
}
