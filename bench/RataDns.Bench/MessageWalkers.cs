using System.Linq.Expressions;
using System.Reflection;
using DnsClient;
using RataDns.DnsWire;
using Ar = ARSoft.Tools.Net.Dns;
using Dc = DnsClient.Protocol;
using DnsClientQuestion = DnsClient.DnsQuestion;

namespace RataDns.Bench;

/// <summary>
/// Parses a whole message with each library and touches what a monitor would use: the header, every question and
/// record, the length of every name, and the typed RDATA and EDNS options where they are cheap to reach. Each walk
/// returns a checksum so the JIT cannot drop the work.
/// </summary>
public static class MessageWalkers
{
    /// <summary>RataDns.DnsWire: a forward-only ref struct reader over the span; allocates nothing.</summary>
    public static int RataDnsWire(ReadOnlySpan<byte> message)
    {
        var reader = new DnsMessageReader(message);
        int sum = reader.Header.Id + reader.Header.Flags;
        while (reader.TryReadQuestion(out var question))
        {
            sum += question.Name.Length + question.Type + question.Class;
        }

        while (reader.TryReadRecord(out var record))
        {
            sum += record.Name.Length + record.Type + record.Class + (int)record.Ttl + record.RdataLength;
            switch (record.Type)
            {
                case DnsRecordType.A:
                case DnsRecordType.AAAA:
                    if (DnsRdata.TryReadAddress(record, out var address))
                    {
                        sum += address[^1];
                    }

                    break;
                case DnsRecordType.SRV:
                    if (DnsRdata.TryReadSrv(record, out var srv))
                    {
                        sum += srv.Port + srv.Target.Length;
                    }

                    break;
                case DnsRecordType.MX:
                    if (DnsRdata.TryReadMx(record, out var mx))
                    {
                        sum += mx.Preference + mx.Exchange.Length;
                    }

                    break;
                case DnsRecordType.RRSIG:
                    if (DnsRdata.TryReadRrsig(record, out var sig))
                    {
                        sum += sig.KeyTag + sig.SignerName.Length + sig.Signature.Length;
                    }

                    break;
                case DnsRecordType.OPT:
                    if (EdnsRecord.TryRead(record, out var edns))
                    {
                        sum += edns.UdpPayloadSize + (edns.DnssecOk ? 1 : 0);
                        foreach (var option in edns.EnumerateOptions())
                        {
                            sum += option.Code + option.Data.Length;
                        }
                    }

                    break;
                default:
                    break;
            }
        }

        return reader.Status == DnsParseStatus.Ok ? sum : -1;
    }

    /// <summary>ARSoft.Tools.Net: the public <c>DnsMessage.Parse(byte[])</c>, which builds typed record objects.</summary>
    public static int ArSoft(byte[] message)
    {
        var parsed = Ar.DnsMessage.Parse(message);
        int sum = parsed.TransactionID + (int)parsed.ReturnCode;
        foreach (var question in parsed.Questions)
        {
            sum += question.Name.LabelCount + (int)question.RecordType + (int)question.RecordClass;
        }

        sum += SumArSoft(parsed.AnswerRecords) + SumArSoft(parsed.AuthorityRecords) + SumArSoft(parsed.AdditionalRecords);
        if (parsed.IsEDnsEnabled)
        {
            sum += parsed.EDnsOptions!.UdpPayloadSize + parsed.EDnsOptions.Options.Count;
        }

        return sum;
    }

    private static int SumArSoft(List<Ar.DnsRecordBase> records)
    {
        int sum = 0;
        foreach (var record in records)
        {
            sum += record.Name.LabelCount + (int)record.RecordType + record.TimeToLive;
            switch (record)
            {
                case Ar.SrvRecord srv:
                    sum += srv.Port + srv.Target.LabelCount;
                    break;
                case Ar.MxRecord mx:
                    sum += mx.Preference + mx.ExchangeDomainName.LabelCount;
                    break;
                case Ar.RrSigRecord sig:
                    sum += sig.KeyTag + sig.SignersName.LabelCount + sig.Signature.Length;
                    break;
                case Ar.AaaaRecord aaaa:
                    sum += aaaa.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 1 : 0;
                    break;
                case Ar.ARecord a:
                    sum += a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 1 : 0;
                    break;
                default:
                    break;
            }
        }

        return sum;
    }

    /// <summary>
    /// DnsClient.NET, public API only. DnsClient has no public "parse a response from bytes": its message parser
    /// (<c>DnsMessageHandler.GetResponseMessage</c>, <c>DnsRecordFactory</c>, <c>DnsResponseMessage</c>) is
    /// internal. The closest public path is its <see cref="DnsDatagramReader"/>, driven here by hand the way the
    /// internal factory drives it: names decoded to <see cref="DnsString"/>, addresses to IPAddress, typed fields
    /// for SRV, MX and RRSIG, the rest skipped. It builds no record objects, so it understates DnsClient's cost.
    /// </summary>
    public static int DnsClientPublicReader(byte[] message)
    {
        var reader = new DnsDatagramReader(new ArraySegment<byte>(message), 0);
        int sum = reader.ReadUInt16NetworkOrder() + reader.ReadUInt16NetworkOrder();
        int questions = reader.ReadUInt16NetworkOrder();
        int records = reader.ReadUInt16NetworkOrder() + reader.ReadUInt16NetworkOrder() + reader.ReadUInt16NetworkOrder();
        for (int i = 0; i < questions; i++)
        {
            sum += reader.ReadQuestionQueryString().Value.Length + reader.ReadUInt16NetworkOrder() + reader.ReadUInt16NetworkOrder();
        }

        for (int i = 0; i < records; i++)
        {
            sum += reader.ReadDnsName().Value.Length;
            int type = reader.ReadUInt16NetworkOrder();
            sum += type + reader.ReadUInt16NetworkOrder() + (int)reader.ReadUInt32NetworkOrder();
            int rdLength = reader.ReadUInt16NetworkOrder();
            int rdataStart = reader.Index;
            switch (type)
            {
                case DnsRecordType.A:
                    sum += reader.ReadIPAddress().AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 1 : 0;
                    break;
                case DnsRecordType.AAAA:
                    sum += reader.ReadIPv6Address().AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 1 : 0;
                    break;
                case DnsRecordType.SRV:
                    sum += reader.ReadUInt16NetworkOrder() + reader.ReadUInt16NetworkOrder() + reader.ReadUInt16NetworkOrder();
                    sum += reader.ReadDnsName().Value.Length;
                    break;
                case DnsRecordType.MX:
                    sum += reader.ReadUInt16NetworkOrder() + reader.ReadDnsName().Value.Length;
                    break;
                case DnsRecordType.RRSIG:
                    reader.Advance(16);
                    sum += reader.ReadUInt16NetworkOrder() + reader.ReadDnsName().Value.Length;
                    sum += reader.ReadBytes(rdLength - (reader.Index - rdataStart)).Count;
                    break;
                default:
                    break;
            }

            reader.Advance(rdLength - (reader.Index - rdataStart));
        }

        return sum;
    }

    /// <summary>
    /// DnsClient.NET's own full parser, reached through reflection because it is internal: the UDP handler's
    /// <c>GetResponseMessage(ArraySegment&lt;byte&gt;)</c>, which LookupClient calls on every received datagram. The
    /// delegates are bound once; a call costs what DnsClient's parse costs plus one delegate call.
    /// </summary>
    public static int DnsClientInternalParser(byte[] message)
    {
        object response = DnsClientInternals.Parse(new ArraySegment<byte>(message));
        int sum = 0;
        foreach (DnsClientQuestion question in DnsClientInternals.Questions(response))
        {
            sum += question.QueryName.Value.Length + (int)question.QuestionType;
        }

        sum += SumDnsClient(DnsClientInternals.Answers(response))
            + SumDnsClient(DnsClientInternals.Authorities(response))
            + SumDnsClient(DnsClientInternals.Additionals(response));
        return sum;
    }

    private static int SumDnsClient(List<Dc.DnsResourceRecord> records)
    {
        int sum = 0;
        foreach (var record in records)
        {
            sum += record.DomainName.Value.Length + (int)record.RecordType + record.InitialTimeToLive;
            switch (record)
            {
                case Dc.SrvRecord srv:
                    sum += srv.Port + srv.Target.Value.Length;
                    break;
                case Dc.MxRecord mx:
                    sum += mx.Preference + mx.Exchange.Value.Length;
                    break;
                case Dc.RRSigRecord sig:
                    sum += sig.KeyTag + sig.SignersName.Value.Length + sig.Signature.Count;
                    break;
                default:
                    break;
            }
        }

        return sum;
    }

    /// <summary>Delegates onto DnsClient's internal parser, bound once (see <see cref="DnsClientInternalParser"/>).</summary>
    private static class DnsClientInternals
    {
        public static readonly Func<ArraySegment<byte>, object> Parse;
        public static readonly Func<object, List<DnsClientQuestion>> Questions;
        public static readonly Func<object, List<Dc.DnsResourceRecord>> Answers;
        public static readonly Func<object, List<Dc.DnsResourceRecord>> Authorities;
        public static readonly Func<object, List<Dc.DnsResourceRecord>> Additionals;

        static DnsClientInternals()
        {
            var assembly = typeof(LookupClient).Assembly;
            var handlerType = assembly.GetType("DnsClient.DnsUdpMessageHandler", throwOnError: true)!;
            var responseType = assembly.GetType("DnsClient.DnsResponseMessage", throwOnError: true)!;
            object handler = Activator.CreateInstance(handlerType, nonPublic: true)!;
            var parse = handlerType.GetMethod("GetResponseMessage", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)!;
            Parse = parse.CreateDelegate<Func<ArraySegment<byte>, object>>(handler);
            Questions = Getter<List<DnsClientQuestion>>(responseType, "Questions");
            Answers = Getter<List<Dc.DnsResourceRecord>>(responseType, "Answers");
            Authorities = Getter<List<Dc.DnsResourceRecord>>(responseType, "Authorities");
            Additionals = Getter<List<Dc.DnsResourceRecord>>(responseType, "Additionals");
        }

        private static Func<object, T> Getter<T>(Type declaringType, string property)
        {
            var instance = Expression.Parameter(typeof(object), "response");
            var body = Expression.Property(Expression.Convert(instance, declaringType), property);
            return Expression.Lambda<Func<object, T>>(body, instance).Compile();
        }
    }
}
