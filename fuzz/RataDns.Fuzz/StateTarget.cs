using System.Buffers;
using System.Text;
using System.Text.Json;
using MessagePack;
using RataDns.DnsWire;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;

namespace RataDns.Fuzz;

/// <summary>
/// The <c>state</c> target: reducer state containers and bodies as an aggregator receives them from monitors.
/// Byte 0 selects a reducer type among <see cref="ReducerRegistry.KnownTypes"/> that have a state
/// (<see cref="Reducer.HasState"/>, made with default options), modulo their count; the rest is read (a) as a whole
/// container: <see cref="ReducerState.ReadHeader"/>, <see cref="ReducerRegistry.Create"/> with the header's type and
/// options, <see cref="ReducerState.ReadInto"/>; and (b) as the selected type's own value, read into a fresh instance
/// with default options. Whatever reads is merged, written and written again (<see cref="CheckReadable"/>).
/// </summary>
internal static class StateTarget
{
    /// <summary>Windows the views are written for: the monitor's shape and the aggregator's (with bounds).</summary>
    private static readonly ReducerWindow[] Windows =
    [
        new(0, 10_000_000_000, 1000) { IncludeBounds = false },
        new(0, 10_000_000_000, 1000) { IncludeBounds = true },
    ];

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A default-options instance of every known type that writes its state, in registry order.</summary>
    internal static IReadOnlyList<Reducer> StatefulTypes { get; } =
    [
        .. ReducerRegistry.KnownTypes
            .Select(name => ReducerRegistry.Create(new ReducerConfiguration { Name = name, Path = name, Origin = "fuzz" }))
            .Where(reducer => reducer.HasState),
    ];

    public static void Run(byte[] input)
    {
        if (input.Length == 0 || StatefulTypes.Count == 0)
        {
            return;
        }

        var selected = StatefulTypes[input[0] % StatefulTypes.Count];
        var rest = new ReadOnlyMemory<byte>(input, 1, input.Length - 1);
        AsContainer(rest);
        AsBody(selected, rest);
    }

    /// <summary>(a) The aggregator's path: header, the reducer it names with its options, then its value.</summary>
    private static void AsContainer(ReadOnlyMemory<byte> container)
    {
        ReducerStateHeader header;
        try
        {
            header = ReducerState.ReadHeader(container);
        }
        catch (InvalidDataException e)
        {
            Report($"container: {e.Message}");
            return;
        }

        Check(Overlaps(container, header.Body), "the header's body is not a slice of the container");
        // A reducer's Capacity may be up to 2^20 (a 256 MiB arena): valid, but not what the fuzzer's memory is for.
        if (header.Options.Any(o => o.Key.Contains("Capacity", StringComparison.OrdinalIgnoreCase)
            && o.Value.ValueKind == System.Text.Json.JsonValueKind.Number && (!o.Value.TryGetInt64(out long capacity) || capacity > 65536)))
        {
            Report($"container of {header.Type}: a capacity beyond 65536, skipped");
            return;
        }

        Reducer prototype;
        try
        {
            prototype = ReducerRegistry.Create(new ReducerConfiguration
            {
                Name = header.Type,
                Options = header.Options,
                Path = header.Type,
                Origin = "fuzz",
            });
        }
        catch (ConfigurationException e)
        {
            Report($"container of {header.Type}: {e.Message}");
            return;
        }

        if (!prototype.HasState)
        {
            Report($"container of {prototype.Type}, which has no state");
            Check(Throws(() => ReducerState.ReadInto(prototype.CreateEmpty(), header.Body)), $"{prototype.Type} read a state without HasState");
            return;
        }

        ReadAndCheck(prototype, header.Body, "container");
    }

    /// <summary>(b) The selected type's own value, into a default-options instance.</summary>
    private static void AsBody(Reducer prototype, ReadOnlyMemory<byte> body) => ReadAndCheck(prototype, body, "body");

    private static void ReadAndCheck(Reducer prototype, ReadOnlyMemory<byte> body, string path)
    {
        var instance = prototype.CreateEmpty();
        try
        {
            ReducerState.ReadInto(instance, body);
        }
        catch (InvalidDataException e)
        {
            Report($"{path} {prototype.Type}: {e.Message}");
            return;
        }

        Report($"{path} {prototype.Type}: read");
        CheckReadable(prototype, instance);
    }

    /// <summary>
    /// What an aggregator does with a state it accepted: its view written (with and without bounds) is JSON; merged
    /// into an empty instance (<see cref="Reducer.Merge"/>, <see cref="Reducer.MergeLater"/>) it gives the same view
    /// (an empty partial adds nothing); its state written again reads back into a fresh instance with the same view
    /// and writes the same bytes (a stable round trip); merged twice (the sum of two monitors sending it) it still
    /// writes a view and a state that reads back.
    /// </summary>
    private static void CheckReadable(Reducer prototype, Reducer instance)
    {
        string type = prototype.Type;
        var views = Views(instance, type);

        byte[] container = ReducerState.ToArray(instance);
        var header = ReducerState.ReadHeader(container);
        Check(string.Equals(header.Type, instance.Type, StringComparison.Ordinal), $"{type}: container written as type {header.Type}");
        byte[] state = header.Body.ToArray();
        Check(StateOf(instance).AsSpan().SequenceEqual(state), $"{type}: WriteState and ReducerState.Write disagree");

        var again = ReadBack(prototype, state, type, "its own state");
        SameViews(views, Views(again, type), $"{type}: the view changed in a state round trip");
        Check(StateOf(again).AsSpan().SequenceEqual(state), $"{type}: the state written again differs ({state.Length} bytes, then {StateOf(again).Length})");

        var merged = prototype.CreateEmpty();
        merged.Merge(instance);
        SameViews(views, Views(merged, type), $"{type}: merging into an empty instance changed the view");
        var later = prototype.CreateEmpty();
        later.MergeLater(instance);
        SameViews(views, Views(later, type), $"{type}: MergeLater into an empty instance changed the view");

        merged.Merge(again);
        later.MergeLater(again);
        foreach (var doubled in new[] { merged, later })
        {
            _ = Views(doubled, type);
            byte[] doubledState = StateOf(doubled);
            var read = ReadBack(prototype, doubledState, type, "the state of two merged copies");
            Check(StateOf(read).AsSpan().SequenceEqual(doubledState), $"{type}: the state of two merged copies is not stable");
        }
    }

    private static Reducer ReadBack(Reducer prototype, byte[] state, string type, string what)
    {
        var instance = prototype.CreateEmpty();
        try
        {
            ReducerState.ReadInto(instance, state);
        }
        catch (InvalidDataException e)
        {
            throw new FuzzAssertionException($"{type}: {what} does not read back: {e.Message}");
        }

        return instance;
    }

    private static byte[][] Views(Reducer reducer, string type)
    {
        var views = new byte[Windows.Length][];
        for (int i = 0; i < Windows.Length; i++)
        {
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
            {
                reducer.WriteData(writer, in Windows[i]);
            }

            views[i] = buffer.WrittenSpan.ToArray();
            try
            {
                using var document = JsonDocument.Parse(views[i]);
            }
            catch (JsonException e)
            {
                throw new FuzzAssertionException($"{type}: the view (IncludeBounds {Windows[i].IncludeBounds}) is not JSON: {e.Message}");
            }
        }

        return views;
    }

    private static void SameViews(byte[][] expected, byte[][] actual, string message)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Check(expected[i].AsSpan().SequenceEqual(actual[i]),
                $"{message} (IncludeBounds {Windows[i].IncludeBounds}): {Encoding.UTF8.GetString(expected[i])} then {Encoding.UTF8.GetString(actual[i])}");
        }
    }

    private static byte[] StateOf(Reducer reducer)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        reducer.WriteState(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static bool Overlaps(ReadOnlyMemory<byte> container, ReadOnlyMemory<byte> body) =>
        body.Length <= container.Length
        && container.Span.Overlaps(body.Span, out int offset)
        && offset >= 0 && offset + body.Length <= container.Length;

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (InvalidDataException)
        {
            return true;
        }
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzAssertionException(message);
        }
    }

    private static void Report(string message)
    {
        if (FuzzTargets.Verbose)
        {
            Console.WriteLine($"  state: {message}");
        }
    }

    // ---- seeds -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Writes seeds for every type with a state into <paramref name="directory"/>: its selector byte, then a container
    /// or a bare body, of an empty instance, of one packet, and of a few synthetic messages observed three times.
    /// </summary>
    public static int MakeSeeds(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (string old in Directory.EnumerateFiles(directory))
        {
            File.Delete(old);
        }

        var messages = SyntheticMessages();
        int written = 0;
        for (int index = 0; index < StatefulTypes.Count; index++)
        {
            var prototype = StatefulTypes[index];
            foreach (var (label, rounds, count) in new[] { ("empty", 0, 0), ("one", 1, 1), ("traffic", 3, messages.Count) })
            {
                var reducer = prototype.CreateEmpty();
                long time = 1_000_000_000;
                for (int round = 0; round < rounds; round++)
                {
                    for (int m = 0; m < count; m++)
                    {
                        var (message, source, destination, sourcePort, destinationPort) = messages[m];
                        var view = new DnsPacketView(message, time, TransportProtocol.Udp, source, sourcePort, destination, destinationPort);
                        reducer.Observe(in view);
                        time += 1_000_000;
                    }
                }

                byte[] container = ReducerState.ToArray(reducer);
                byte[] body = ReducerState.ReadHeader(container).Body.ToArray();
                string name = $"{index:D2}-{prototype.Type}-{label}";
                File.WriteAllBytes(Path.Combine(directory, name + "-container"), [(byte)index, .. container]);
                File.WriteAllBytes(Path.Combine(directory, name + "-body"), [(byte)index, .. body]);
                written += 2;
            }
        }

        Console.WriteLine($"{written} state seeds for {StatefulTypes.Count} types in {directory}");
        return 0;
    }

    /// <summary>Queries and responses (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, BADVERS with OPT), a truncated header.</summary>
    private static List<(byte[] Message, byte[] Source, byte[] Destination, ushort SourcePort, ushort DestinationPort)> SyntheticMessages()
    {
        byte[] client4 = [192, 0, 2, 10];
        byte[] other4 = [198, 51, 100, 7];
        byte[] server4 = [192, 0, 2, 53];
        byte[] client6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
        byte[] server6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];
        return
        [
            (Message(1, 0x0100, "www.example.com", 1, answer: false, rcodeHigh: null), client4, server4, 40000, 53),
            (Message(1, 0x8180, "www.example.com", 1, answer: true, rcodeHigh: null), server4, client4, 53, 40000),
            (Message(2, 0x0100, "nx.example.net", 28, answer: false, rcodeHigh: null), other4, server4, 40001, 53),
            (Message(2, 0x8183, "nx.example.net", 28, answer: false, rcodeHigh: null), server4, other4, 53, 40001),
            (Message(3, 0x0100, "_sip._tcp.example.org", 33, answer: false, rcodeHigh: null), client6, server6, 40002, 53),
            (Message(3, 0x8182, "_sip._tcp.example.org", 33, answer: false, rcodeHigh: null), server6, client6, 53, 40002),
            (Message(4, 0x8185, "refused.example", 16, answer: false, rcodeHigh: null), server4, client4, 53, 40003),
            (Message(5, 0x8180, "edns.example", 1, answer: false, rcodeHigh: 1), server4, client4, 53, 40004),
            ([0x00, 0x06, 0x81], server4, client4, 53, 40005),
        ];
    }

    private static byte[] Message(ushort id, ushort flags, string name, ushort type, bool answer, byte? rcodeHigh)
    {
        var m = new List<byte>();
        void U16(int v)
        {
            m.Add((byte)(v >> 8));
            m.Add((byte)v);
        }

        U16(id);
        U16(flags);
        U16(1);
        U16(answer ? 1 : 0);
        U16(0);
        U16(rcodeHigh is null ? 0 : 1);
        foreach (string label in name.Split('.'))
        {
            m.Add((byte)label.Length);
            m.AddRange(Encoding.ASCII.GetBytes(label));
        }

        m.Add(0);
        U16(type);
        U16(1);
        if (answer)
        {
            U16(0xC00C);
            U16(1);
            U16(1);
            U16(0);
            U16(300);
            U16(4);
            m.AddRange([192, 0, 2, 80]);
        }

        if (rcodeHigh is { } high)
        {
            m.Add(0);        // root owner
            U16(41);         // OPT
            U16(1232);       // UDP payload size
            m.Add(high);     // extended RCODE high bits
            m.Add(0);        // version
            U16(0);          // flags
            U16(0);          // no options
        }

        return [.. m];
    }
}
