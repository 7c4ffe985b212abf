using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using RataDns.Aggregator;
using RataDns.Transport.Encoders;
using RataDns.Transport.Publishing;
using RataDns.Transport.ZeroMq;
using static RataDns.Tests.Aggregator.AggregatorTestData;

namespace RataDns.Tests.Aggregator;

/// <summary>
/// The subscriber fed by the monitor's own publisher: MessagePack and JSON payloads decode to the same stored data,
/// and the results of two monitors merge to the sum of what each sent.
/// </summary>
[Collection(NetMqCollection.Name)]
public class ZeroMqResultSubscriberTests
{
    /// <summary>How long a test waits for something that must happen: a hang guard, not a measure of anything.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static readonly string[] Samples =
    [
        Envelope("QueriesPerSecond", "ns1", 1, 1767225602.44318, 1767225604.950455, """{"qps":99.70984435293296}"""),
        Envelope("RcodeCounter", "ns1", 1, 1767225602.44318, 1767225604.950455, """{"NOERROR":218,"NXDOMAIN":32}"""),
        Envelope("TopNQ", "ns1", 1, 1767225602.44318, 1767225604.950455, """[["www.yoze391.de.",26],["tozu228.test.",13]]"""),
        Envelope("ResponseLatency", "ns1", 1, 1767225602.44318, 1767225604.950455, """{"matched":250,"unanswered":0,"unsolicited":0,"untracked":0,"pending":0,"latencyUs":{"p50":5375,"p90":8191,"p99":8986,"p999":8986,"max":8986},"histogram":[{"leUs":1087,"count":1},{"leUs":9223372036854775807,"count":2}]}"""),
        Envelope("DistinctCounter", "ns1", 1, 1767225602.44318, 1767225604.950455, """{"qnames":152,"clients":245,"precision":14,"relativeError":0.008125,"tiny":1e-300,"big":18446744073709551615,"neg":-5,"s":"ñandú \"q\"","n":null,"t":true}"""),
    ];

    [Fact]
    public void A_message_pack_envelope_transcodes_to_the_same_json_values_ints_as_ints_and_floats_exact()
    {
        var toMessagePack = new JsonToMessagePack();
        var toJson = new MessagePackToJson();
        foreach (string sample in Samples)
        {
            var packed = new ArrayBufferWriter<byte>();
            toMessagePack.Transcode(Utf8(sample), packed);
            var json = toJson.Transcode(packed.WrittenMemory);
            using var back = JsonDocument.Parse(json.ToArray());
            SameJson(sample, back.RootElement);

            // Integers stay integers and floats keep every digit.
            foreach (var (key, text) in new[] { ("qps", "99.70984435293296"), ("qnames", "152"), ("relativeError", "0.008125"), ("NOERROR", "218") })
            {
                if (back.RootElement.GetProperty("data") is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty(key, out var number))
                {
                    Assert.Equal(text, number.GetRawText());
                }
            }
        }
    }

    [Fact]
    public void Malformed_message_pack_is_an_error_not_a_crash()
    {
        var toJson = new MessagePackToJson();
        Assert.ThrowsAny<Exception>(() => toJson.Transcode(new byte[] { 0xdf, 0xff, 0xff, 0xff, 0xff }).ToArray());
        Assert.ThrowsAny<Exception>(() => toJson.Transcode(new byte[] { 0x81, 0xc3, 0x01 }).ToArray());
        Assert.Equal("{}"u8.ToArray(), toJson.Transcode(new byte[] { 0x80 }).ToArray());
    }

    [Fact]
    public void Two_publishers_one_in_message_pack_one_in_json_merge_in_the_subscriber_as_in_the_store()
    {
        var store = new AggregatorStore();
        using var subscriber = new ZeroMqResultSubscriber(store, new SubscriberSocketOptions { Endpoints = ["tcp://127.0.0.1:*"], Bind = true });
        string endpoint = subscriber.Endpoints.Single();
        using var packed = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [endpoint], Bind = false, Encoding = ZeroMqEncoding.MessagePack });
        using var plain = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [endpoint], Bind = false, Encoding = ZeroMqEncoding.Json });
        WarmUp(packed, "warm-a", store);
        WarmUp(plain, "warm-b", store);

        var reference = new AggregatorStore();
        var sent = new List<string>();
        foreach (string sample in Samples)
        {
            foreach (var (publisher, server) in new[] { (packed, "ns1"), (plain, "ns2") })
            {
                string json = sample.Replace("\"ns1\"", $"\"{server}\"", StringComparison.Ordinal);
                var envelope = JsonDocument.Parse(json).RootElement;
                Assert.True(publisher.Publish(new ResultEnvelope(envelope.GetProperty("type").GetString()!, server, "", Utf8(json))));
                reference.Add(Utf8(json));
                sent.Add(json);
            }
        }

        Assert.True(SpinWait.SpinUntil(() => Received(store, "ns1") == Samples.Length && Received(store, "ns2") == Samples.Length, HangGuard));
        Assert.Equal(0, subscriber.DecodeErrors);
        foreach (string type in new[] { "QueriesPerSecond", "RcodeCounter", "TopNQ", "ResponseLatency", "DistinctCounter" })
        {
            foreach (string scope in new[] { "ns1", "ns2", "all" })
            {
                SameJson(reference.Merged(type, scope, "1m")!.Data!.Value.GetRawText(), store.Merged(type, scope, "1m")!.Data!.Value);
            }

            // The MessagePack server's data equals the JSON server's.
            SameJson(store.Merged(type, "ns1", "1m")!.Data!.Value.GetRawText(), store.Merged(type, "ns2", "1m")!.Data!.Value);
        }

        SameJson("""{"qps":199.41968870586592}""", store.Merged("QueriesPerSecond", "all", "1m")!.Data!.Value);
        SameJson("""{"NOERROR":436,"NXDOMAIN":64}""", store.Merged("RcodeCounter", "all", "1m")!.Data!.Value);
        SameJson("""[["www.yoze391.de.",52],["tozu228.test.",26]]""", store.Merged("TopNQ", "all", "1m")!.Data!.Value);
    }

    [Fact]
    public async Task Dispose_stops_the_subscriber_promptly_and_undecodable_payloads_are_counted()
    {
        var store = new AggregatorStore();
        var subscriber = new ZeroMqResultSubscriber(store, new SubscriberSocketOptions { Endpoints = ["tcp://127.0.0.1:*"], Bind = true });
        using (var publisher = new ZeroMqPublisher(new ZeroMqOptions { Endpoints = [subscriber.Endpoints.Single()], Bind = false, Encoding = ZeroMqEncoding.Json }))
        {
            WarmUp(publisher, "warm-a", store);
            long before = subscriber.DecodeErrors;
            publisher.Publish(new ResultEnvelope("X", "a", "", "{\"not\":\"an envelope\"}"u8));
            Assert.True(SpinWait.SpinUntil(() => subscriber.DecodeErrors == before + 1, HangGuard));
        }

        // Dispose returns (a receive loop that never looked at its stop signal would hang it: a deadline, not a time).
        var dispose = Task.Run(subscriber.Dispose);
        Assert.Same(dispose, await Task.WhenAny(dispose, Task.Delay(HangGuard)));
    }

    /// <summary>Publishes until the subscriber has one (a connecting PUB drops what it sends before the subscription arrives).</summary>
    internal static void WarmUp(ZeroMqPublisher publisher, string server, AggregatorStore store)
    {
        var deadline = Stopwatch.StartNew();
        for (long i = 0; Received(store, server) == 0; i++)
        {
            Assert.True(deadline.Elapsed < HangGuard, "the subscriber never received the warm-up");
            publisher.Publish(new ResultEnvelope("WarmUp", server, "", Utf8(Envelope("WarmUp", server, i, 0, 0, "{}"))));
            Thread.Sleep(20);
        }
    }

    private static long Received(AggregatorStore store, string server) =>
        store.Monitors().FirstOrDefault(m => m.ServerId == server)?.Windows ?? 0;
}
