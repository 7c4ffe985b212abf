using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RataDns.DnsWire;
using RataDns.Tests.Support;

namespace RataDns.Tests.DnsWire;

/// <summary>
/// Property: any message built by the independent test writer (<see cref="TestMessageBuilder"/>), with or without
/// name compression, parses back to the same header, questions, records and RDATA; and every prefix of it fails
/// with a status instead of an exception.
/// </summary>
public class RoundTripProperties
{
    public sealed record NameModel(byte[][] Labels)
    {
        public byte[] Wire => [.. Labels.SelectMany(l => new[] { (byte)l.Length }.Concat(l)), 0];

        public override string ToString() => string.Join('.', Labels.Select(Convert.ToHexString));
    }

    public sealed record RecordModel(NameModel Owner, ushort Type, ushort Class, uint Ttl, byte[] Raw, NameModel? Target, byte[][]? Texts, int Section);

    public sealed record MessageModel(ushort Id, ushort Flags, (NameModel Name, ushort Type, ushort Class)[] Questions, RecordModel[] Records, bool Compress);

    private static Gen<byte[]> Label() =>
        Gen.Frequency(
            (8, Gen.Elements("www", "mail", "example", "com", "net", "_sip", "_udp", "a-b", "xn--nxasmq6b", "ns1").Select(s => System.Text.Encoding.ASCII.GetBytes(s))),
            (2, Gen.Choose(1, 63).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n))));

    private static Gen<NameModel> Name() =>
        Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Label(), n))
            .Select(labels => new NameModel(labels))
            .Where(name => name.Wire.Length <= DnsName.MaxWireLength);

    private static Gen<RecordModel> Record() =>
        from owner in Name()
        from ttl in Gen.Choose(0, int.MaxValue).Select(t => (uint)t)
        from section in Gen.Choose(1, 3)
        from kind in Gen.Choose(0, 6)
        from raw in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), kind == 0 ? 4 : kind == 1 ? 16 : 7)
        from target in Name()
        from texts in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 40).SelectMany(m => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), m)), n))
        select kind switch
        {
            0 => new RecordModel(owner, DnsRecordType.A, 1, ttl, raw, null, null, section),
            1 => new RecordModel(owner, DnsRecordType.AAAA, 1, ttl, raw, null, null, section),
            2 => new RecordModel(owner, DnsRecordType.CNAME, 1, ttl, [], target, null, section),
            3 => new RecordModel(owner, DnsRecordType.MX, 1, ttl, [0, 10], target, null, section),
            4 => new RecordModel(owner, DnsRecordType.TXT, 1, ttl, [], null, texts, section),
            5 => new RecordModel(owner, DnsRecordType.NS, 3, ttl, [], target, null, section),
            _ => new RecordModel(owner, 65400, 1, ttl, raw, null, null, section),
        };

    private static Gen<MessageModel> Message() =>
        from id in Gen.Choose(0, 65535)
        from flags in Gen.Choose(0, 65535)
        from questions in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(
            from name in Name()
            from type in Gen.Choose(0, 65535)
            from @class in Gen.Elements(1, 3, 255, 0x8001)
            select (name, (ushort)type, (ushort)@class), n))
        from records in Gen.Choose(0, 8).SelectMany(n => Gen.ArrayOf(Record(), n))
        from compress in Gen.Elements(true, false)
        select new MessageModel((ushort)id, (ushort)flags, questions, [.. records.OrderBy(r => r.Section)], compress);

    private static byte[] Build(MessageModel model)
    {
        int[] counts =
        [
            model.Questions.Length,
            model.Records.Count(r => r.Section == 1),
            model.Records.Count(r => r.Section == 2),
            model.Records.Count(r => r.Section == 3),
        ];
        var b = new TestMessageBuilder { Id = model.Id, Flags = model.Flags, Compress = model.Compress, CountsOverride = counts };
        foreach (var (name, type, @class) in model.Questions)
        {
            b.Name(name.Labels).U16(type).U16(@class);
        }

        foreach (var r in model.Records)
        {
            b.Name(r.Owner.Labels).U16(r.Type).U16(r.Class).U32(r.Ttl);
            int lengthAt = b.Length;
            b.U16(0);
            int start = b.Length;
            if (r.Texts is not null)
            {
                foreach (var t in r.Texts)
                {
                    b.CharacterString(t);
                }
            }
            else
            {
                // MX: preference bytes then the exchange; A, AAAA, unknown: the raw bytes; NS, CNAME: the name.
                b.Bytes(r.Raw);
                if (r.Target is not null)
                {
                    b.Name(r.Target.Labels);
                }
            }

            b.PatchU16(lengthAt, (ushort)(b.Length - start));
        }

        return b.ToArray();
    }

    [Property(MaxTest = 300)]
    public Property Built_messages_parse_back_equal() => Prop.ForAll(Message().ToArbitrary(), model =>
    {
        var bytes = Build(model);
        var reader = new DnsMessageReader(bytes);
        Assert.Equal(model.Id, reader.Header.Id);
        Assert.Equal(model.Flags, reader.Header.Flags);
        foreach (var (name, type, @class) in model.Questions)
        {
            Assert.True(reader.TryReadQuestion(out var q), reader.Status.ToString());
            Assert.Equal(name.Wire, Wire(q.Name));
            Assert.Equal(type, q.Type);
            Assert.Equal(@class, q.Class);
        }

        Assert.False(reader.TryReadQuestion(out _));
        foreach (var r in model.Records)
        {
            Assert.True(reader.TryReadRecord(out var got), reader.Status.ToString());
            Assert.Equal((DnsSection)(r.Section + 1), got.Section);
            Assert.Equal(r.Owner.Wire, Wire(got.Name));
            Assert.Equal((r.Type, r.Class, r.Ttl), (got.Type, got.Class, got.Ttl));
            Assert.Equal(DnsParseStatus.Ok, got.RdataStatus);
            switch (r.Type)
            {
                case DnsRecordType.A or DnsRecordType.AAAA:
                    Assert.True(DnsRdata.TryReadAddress(got, out var address));
                    Assert.Equal(r.Raw, address.ToArray());
                    break;
                case DnsRecordType.CNAME or DnsRecordType.NS:
                    Assert.True(DnsRdata.TryReadTargetName(got, out var target));
                    Assert.Equal(r.Target!.Wire, Wire(target));
                    break;
                case DnsRecordType.MX:
                    Assert.True(DnsRdata.TryReadMx(got, out var mx));
                    Assert.Equal(10, mx.Preference);
                    Assert.Equal(r.Target!.Wire, Wire(mx.Exchange));
                    break;
                case DnsRecordType.TXT:
                    var texts = new List<byte[]>();
                    foreach (var t in DnsRdata.EnumerateTxt(got))
                    {
                        texts.Add(t.ToArray());
                    }

                    Assert.Equal(r.Texts!, texts);
                    break;
                default:
                    Assert.Equal(r.Raw, got.Rdata.ToArray());
                    break;
            }
        }

        Assert.False(reader.TryReadRecord(out _));
        Assert.Equal(DnsParseStatus.Ok, reader.Status);
        Assert.Equal(bytes.Length, reader.Position);

        for (int n = 0; n < bytes.Length; n++)
        {
            var cut = new DnsMessageReader(bytes.AsSpan(0, n));
            var status = cut.ReadToEnd();
            Assert.True(status != DnsParseStatus.Ok || (model.Questions.Length == 0 && model.Records.Length == 0 && n >= 12), $"prefix {n} of {bytes.Length} read as Ok");
        }
    });

    private static byte[] Wire(DnsName name)
    {
        var buffer = new byte[name.Length];
        name.CopyWireFormTo(buffer);
        return buffer;
    }
}
