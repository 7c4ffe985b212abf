using System.Text;
using System.Text.Json;
using RataDns.Capture;
using RataDns.Capture.Pipeline;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Tests.Support;

namespace RataDns.Tests.Reducers;

/// <summary>
/// The engine gives each message's view a cache, so the first question is read, lowercased and hashed once for every
/// reducer (<see cref="DnsPacketView.ReadQuestion"/>). A view without a cache makes every reducer read the questions
/// itself, as they all did before the cache: that reading is the reference. Every built-in reducer fed the same
/// messages both ways must write the same result: the bundled sample capture, messages with no, one and several
/// questions in mixed case, underscored names, and thousands of damaged copies (bytes changed, messages cut short).
/// </summary>
public sealed class SharedQuestionTests
{
    private static readonly byte[] Client = [192, 0, 2, 7];
    private static readonly byte[] Server = [192, 0, 2, 53];

    public static TheoryData<string> ReducerTypes() => [.. ReducerRegistry.KnownTypes];

    [Theory]
    [MemberData(nameof(ReducerTypes))]
    public void A_reducer_writes_the_same_result_with_the_shared_question_as_reading_the_questions_itself(string type)
    {
        var messages = Messages();
        var shared = ReducerRegistry.Create(new ReducerConfiguration { Name = type });
        var own = shared.CreateEmpty();
        var cache = default(DnsPacketCache);
        long time = 1_700_000_000_000_000_000;
        foreach (var (message, response) in messages)
        {
            time += 1_000_000;
            var (source, destination) = response ? (Server, Client) : (Client, Server);
            cache.Clear();
            var cached = new DnsPacketView(message, time, TransportProtocol.Udp, source, 53, destination, 40000, ref cache);
            shared.Observe(in cached);
            var plain = new DnsPacketView(message, time, TransportProtocol.Udp, source, 53, destination, 40000);
            own.Observe(in plain);
        }

        var window = new ReducerWindow(0, time + 1, messages.Count);
        Assert.Equal(Data(own, window), Data(shared, window));
    }

    [Fact]
    public void The_shared_question_is_the_first_question_lowercased_with_its_shape()
    {
        var one = new TestMessageBuilder { Id = 1, Flags = 0x0100 }.Question("WwW.ExAmple.COM", 28).ToArray();
        var several = new TestMessageBuilder { Id = 2, Flags = 0x0100 }.Question("A.test", 1).Question("b.test", 2).ToArray();
        var none = new TestMessageBuilder { Id = 3, Flags = 0x0100 }.ToArray();
        var cache = default(DnsPacketCache);

        Assert.Equal(QuestionShape.One, Read(one, ref cache, out string name, out ushort type, out ulong hash));
        Assert.Equal(("www.example.com.", (ushort)28), (name, type));
        Assert.Equal(KeyHash.Of(Encoding.ASCII.GetBytes("\u0003www\u0007example\u0003com\0")), hash);
        Assert.Equal(QuestionShape.Several, Read(several, ref cache, out name, out type, out _));
        Assert.Equal(("a.test.", (ushort)1), (name, type));
        Assert.Equal(QuestionShape.None, Read(none, ref cache, out name, out _, out _));
        Assert.Equal(string.Empty, name);
        Assert.Equal(QuestionShape.None, Read(one.AsSpan(0, 20).ToArray(), ref cache, out _, out _, out _));
    }

    private static QuestionShape Read(byte[] message, ref DnsPacketCache cache, out string name, out ushort type, out ulong hash)
    {
        cache.Clear();
        var view = new DnsPacketView(message, 0, TransportProtocol.Udp, Client, 40000, Server, 53, ref cache);
        var shape = view.ReadQuestion(out var question);
        var text = new StringBuilder();
        var wire = question.LowercaseName;
        for (int at = 0; at < wire.Length && wire[at] != 0; at += 1 + wire[at])
        {
            text.Append(Encoding.ASCII.GetString(wire.Slice(at + 1, wire[at]))).Append('.');
        }

        (name, type, hash) = (text.ToString(), question.Type, question.NameHash);
        return shape;
    }

    private static List<(byte[] Message, bool Response)> Messages()
    {
        var messages = new List<(byte[], bool)>();
        var collector = new Collector(messages);
        var handler = new PipelineFrameHandler<Collector>(new DnsCapturePipeline(DnsPortSet.Default), collector);
        using (var reader = CaptureFileReader.Open(Path.Combine(RepoPaths.Root, "samples", "sample.pcap")))
        {
            reader.ReadAll(ref handler);
        }

        Assert.True(messages.Count > 1000, $"the sample gave {messages.Count} messages");
        messages.Add((new TestMessageBuilder { Id = 1, Flags = 0x0100 }.ToArray(), false));
        messages.Add((new TestMessageBuilder { Id = 2, Flags = 0x0100 }.Question("One.Example", 1).Question("TWO.example", 28).ToArray(), false));
        messages.Add((new TestMessageBuilder { Id = 2, Flags = 0x8183 }.Question("One.Example", 1).Question("TWO.example", 28).ToArray(), true));
        messages.Add((new TestMessageBuilder { Id = 3, Flags = 0x0100 }.Question("_Sip._UDP.Example.COM", 1).ToArray(), false));
        messages.Add((new TestMessageBuilder { Id = 4, Flags = 0x0100 }.Question("_sip._udp.example.com", 33).ToArray(), false));
        messages.Add((new TestMessageBuilder { Id = 5, Flags = 0x0100 }.Question("a.test", 15).Question("_x.test", 15).ToArray(), false));
        messages.Add((new TestMessageBuilder { Id = 6, Flags = 0x0100 }.Question(new string('_', 95) + ".test", 1).ToArray(), false));

        // Damaged copies: a few bytes changed, or cut short anywhere (the question among them).
        var random = new Random(1234);
        int count = messages.Count;
        for (int i = 0; i < 4000; i++)
        {
            var (message, response) = messages[random.Next(count)];
            byte[] copy = random.Next(2) == 0 ? message.AsSpan(0, random.Next(message.Length + 1)).ToArray() : (byte[])message.Clone();
            for (int flips = random.Next(3); flips > 0 && copy.Length > 0; flips--)
            {
                copy[random.Next(copy.Length)] = (byte)random.Next(256);
            }

            messages.Add((copy, response));
        }

        return messages;
    }

    private static string Data(Reducer reducer, ReducerWindow window)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            reducer.WriteData(writer, in window);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private readonly struct Collector(List<(byte[] Message, bool Response)> messages) : IDnsMessageHandler
    {
        public DnsParseStatus OnDnsMessage(in DecodedPacket packet, ReadOnlySpan<byte> message, long timestampNanoseconds)
        {
            messages.Add((message.ToArray(), packet.SourcePort == 53));
            return DnsParseStatus.Ok;
        }
    }
}
