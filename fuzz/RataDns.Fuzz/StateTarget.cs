using System.Buffers;
using System.Net;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.Configuration;
using RataDns.Reducers.State;

namespace RataDns.Fuzz;

/// <summary>
/// The <c>state</c> target: what an aggregator does with a state container received from a monitor. Byte 0 picks a
/// reducer type (among those with state, in <see cref="ReducerRegistry.KnownTypes"/> order); the rest is read (a) as
/// a whole container (header, then the reducer its options make, then its value) and (b) as the value alone, into
/// the picked type with default options. Asserts: only <see cref="InvalidDataException"/> escapes the readers (a
/// configuration the options make impossible: <see cref="ConfigurationException"/>); a value that reads merges
/// (Merge, MergeLater) into an empty instance, writes a view that parses (with and without bounds), and its state
/// written again reads back to the same view.
/// </summary>
internal static class StateTarget
{
    private static readonly Dictionary<string, JsonElement> NoOptions = [];

    private static readonly string[] Types = [.. ReducerRegistry.KnownTypes.Where(t => Create(t, NoOptions).HasState)];

    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        string type = Types[input[0] % Types.Length];
        var rest = input.AsMemory(1);

        // (a) a whole container.
        try
        {
            var header = ReducerState.ReadHeader(rest);
            Reducer made;
            try
            {
                made = Create(header.Type, header.Options);
            }
            catch (ConfigurationException)
            {
                made = null!;
            }

            if (made is not null && EstimatedBytes(header.Options) <= 64 << 20)
            {
                ReadAndUse(made, header.Body);
            }
        }
        catch (InvalidDataException)
        {
        }

        // (b) a value for the picked type.
        try
        {
            ReadAndUse(Create(type, NoOptions), rest);
        }
        catch (InvalidDataException)
        {
        }
    }

    /// <summary>One seed per type: a state written after a few queries and responses.</summary>
    public static void MakeSeeds(string directory)
    {
        Directory.CreateDirectory(directory);
        for (int i = 0; i < Types.Length; i++)
        {
            var reducer = Create(Types[i], NoOptions);
            byte[][] messages =
            [
                [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 0, 0, 1, 0, 1],
                [0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'_', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 0, 0, 28, 0, 1],
            ];
            var client = IPAddress.Parse("192.0.2.7").GetAddressBytes();
            var server = IPAddress.Parse("192.0.2.53").GetAddressBytes();
            for (int m = 0; m < messages.Length; m++)
            {
                bool response = (messages[m][2] & 0x80) != 0;
                var view = new DnsPacketView(messages[m], 1_000_000_000L + (m * 1000), DnsWire.TransportProtocol.Udp, response ? server : client, response ? (ushort)53 : (ushort)40000, response ? client : server, response ? (ushort)40000 : (ushort)53);
                reducer.Observe(in view);
            }

            File.WriteAllBytes(Path.Combine(directory, $"{i:D2}-{Types[i]}-container"), [(byte)i, .. ReducerState.ToArray(reducer)]);
        }
    }

    private static void ReadAndUse(Reducer into, ReadOnlyMemory<byte> body)
    {
        ReducerState.ReadInto(into, body);
        string view = View(into, bounds: false);
        _ = View(into, bounds: true);
        var total = into.CreateEmpty();
        total.Merge(into);
        total.MergeLater(into);
        var again = into.CreateEmpty();
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        into.WriteState(ref writer);
        writer.Flush();
        ReducerState.ReadInto(again, buffer.WrittenMemory);
        Check(View(again, bounds: false) == view, $"{into.Type}: a state written again reads back to another view");
    }

    private static string View(Reducer reducer, bool bounds)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            var window = new ReducerWindow(0, 10_000_000_000, 100) { IncludeBounds = bounds };
            reducer.WriteData(json, in window);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Refuses option sets that would make a reducer of more than a few tens of MiB (the fuzzer's memory).</summary>
    private static long EstimatedBytes(IReadOnlyDictionary<string, JsonElement> options)
    {
        long bytes = 0;
        foreach (var (name, value) in options)
        {
            if (name.Contains("Capacity", StringComparison.OrdinalIgnoreCase) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long capacity))
            {
                bytes += capacity * 512;
            }
        }

        return bytes;
    }

    private static Reducer Create(string type, IReadOnlyDictionary<string, JsonElement> options) =>
        ReducerRegistry.Create(new ReducerConfiguration { Name = type, Options = options, Path = type, Origin = "fuzz" });

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzAssertionException(message);
        }
    }
}
