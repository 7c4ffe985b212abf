using System.Buffers;
using System.Text;
using MessagePack;
using RataDns.Reducers;
using RataDns.Reducers.State;
using static RataDns.Tests.Reducers.State.StateTestSupport;

namespace RataDns.Tests.Reducers.State;

/// <summary>
/// States come from the network: a damaged or hostile one is an <see cref="InvalidDataException"/> (wrapping
/// MessagePack's own exceptions at most), never an index out of range, a huge allocation or a hang, and a state that
/// is accepted can always be written.
/// </summary>
public class ReducerStateHostileInputTests
{
    public static TheoryData<string> KnownTypes() => [.. ReducerRegistry.KnownTypes];

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Truncated_containers_are_invalid_data(string type)
    {
        var options = TestOptions(type);
        var reducer = Create(type, options);
        ObserveAll(reducer, Traffic(seed: 11, queries: 40));
        byte[] container = ReducerState.ToArray(reducer, options);
        var instance = Create(type, options);
        for (int length = 0; length < container.Length; length++)
        {
            byte[] cut = container[..length];
            AssertInvalid(() =>
            {
                var header = ReducerState.ReadHeader(cut);
                ReducerState.ReadInto(instance, header.Body);
            });
        }
    }

    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Another_layout_is_invalid_data(string type)
    {
        var options = TestOptions(type);
        var reducer = Create(type, options);
        byte[] body = ReducerState.ReadHeader(ReducerState.ToArray(reducer, options)).Body.ToArray();

        // Every built-in state is an array whose first item is its layout number (a small positive fixint: 1, or 2 for
        // TransportCounter since the encrypted transports); no reducer reads layout 9.
        Assert.InRange(body[1], 1, 2);
        body[1] = 9;
        var error = Assert.Throws<InvalidDataException>(() => ReducerState.ReadInto(Create(type, options), body));
        Assert.Contains("layout", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A few thousand random mutations of a valid state per type: invalid data, or a state that writes.</summary>
    [Theory]
    [MemberData(nameof(KnownTypes))]
    public void Random_mutations_of_a_state_are_invalid_data_or_readable(string type)
    {
        var options = TestOptions(type);
        var reducer = Create(type, options);
        ObserveAll(reducer, Traffic(seed: 12, queries: 30));
        byte[] body = ReducerState.ReadHeader(ReducerState.ToArray(reducer, options)).Body.ToArray();
        var instance = Create(type, options);
        // A seed of the type's name that is the same in every run (string.GetHashCode is not): a failure can be replayed.
        var random = new Random(type.Aggregate(17, (h, c) => (h * 31) + c));
        for (int round = 0; round < 3000; round++)
        {
            byte[] mutated = Mutate(body, random);
            bool accepted = AcceptedOrInvalid(() => ReducerState.ReadInto(instance, mutated));
            if (accepted)
            {
                _ = View(instance);
                _ = ReducerState.ToArray(instance);
            }
        }
    }

    [Fact]
    public void Random_bytes_and_mutated_containers_are_invalid_headers_or_readable()
    {
        var random = new Random(5);
        var options = TestOptions("TopNQ");
        var reducer = Create("TopNQ", options);
        ObserveAll(reducer, Traffic(seed: 13, queries: 20));
        byte[] container = ReducerState.ToArray(reducer, options);
        for (int round = 0; round < 3000; round++)
        {
            byte[] bytes = round % 2 == 0 ? Mutate(container, random) : RandomBytes(random);
            AcceptedOrInvalid(() => ReducerState.ReadHeader(bytes));
        }
    }

    [Fact]
    public void A_summary_with_more_keys_than_its_capacity_is_invalid_data()
    {
        var options = SmallCapacity("TopNQ", 4);
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(4);
            w.Write(1);
            w.Write(100L);
            w.Write(4);
            w.WriteArrayHeader(5);
            for (int i = 0; i < 5; i++)
            {
                w.WriteArrayHeader(3);
                w.Write(new byte[] { 1, (byte)('a' + i), 0 });
                w.Write(10L + i);
                w.Write(0L);
            }
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("TopNQ", options), body), "at most 4");
    }

    [Theory]
    [InlineData(256, 1, 0, "bytes")] // a key longer than any name
    [InlineData(3, 5, 6, "error")] // error above the count
    [InlineData(3, 0, 0, "count")] // a count of 0
    [InlineData(3, 5, -1, "error")] // a negative error
    public void A_bad_summary_entry_is_invalid_data(int keyLength, long count, long error, string expected)
    {
        var options = SmallCapacity("TopNQ", 4);
        byte[] key = new byte[keyLength];
        if (keyLength == 3)
        {
            key = [1, (byte)'a', 0];
        }

        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(4);
            w.Write(1);
            w.Write(100L);
            w.Write(4);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(3);
            w.Write(key);
            w.Write(count);
            w.Write(error);
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("TopNQ", options), body), expected);
    }

    [Fact]
    public void A_summary_of_another_capacity_or_with_a_key_that_is_not_a_name_is_invalid_data()
    {
        var options = SmallCapacity("TopNQ", 4);
        byte[] Summary(int capacity, byte[] key) => Body(w =>
        {
            w.WriteArrayHeader(4);
            w.Write(1);
            w.Write(100L);
            w.Write(capacity);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(3);
            w.Write(key);
            w.Write(5L);
            w.Write(0L);
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("TopNQ", options), Summary(8, [1, (byte)'a', 0])), "capacity");
        AssertInvalid(() => ReducerState.ReadInto(Create("TopNQ", options), Summary(4, [5, (byte)'a', 0])), "not a key");
        AssertInvalid(() => ReducerState.ReadInto(Create("TopNQ", options), Summary(4, [0xC0, 0])), "not a key");
    }

    [Theory]
    [InlineData(528)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void A_latency_bucket_out_of_range_is_invalid_data(int bucket)
    {
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(7);
            w.Write(1);
            w.Write(0L);
            w.Write(0L);
            w.Write(0L);
            w.Write(0L);
            w.Write(0L);
            w.WriteMapHeader(1);
            w.Write(bucket);
            w.Write(1L);
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("ResponseLatency", TestOptions("ResponseLatency")), body));
    }

    [Fact]
    public void A_latency_maximum_outside_the_last_bucket_is_invalid_data()
    {
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(7);
            w.Write(1);
            w.Write(0L);
            w.Write(0L);
            w.Write(0L);
            w.Write(0L);
            w.Write(1_000_000L);
            w.WriteMapHeader(1);
            w.Write(3);
            w.Write(1L);
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("ResponseLatency", TestOptions("ResponseLatency")), body), "maximum");
    }

    [Fact]
    public void A_table_with_more_keys_than_its_capacity_or_a_repeated_key_is_invalid_data()
    {
        var options = new Dictionary<string, System.Text.Json.JsonElement>
        {
            ["Capacity"] = System.Text.Json.JsonDocument.Parse("2").RootElement.Clone(),
        };
        byte[] Table(params byte[][] keys) => Body(w =>
        {
            w.WriteArrayHeader(2);
            w.Write(1);
            w.WriteArrayHeader(2);
            w.Write(0L);
            w.WriteArrayHeader(keys.Length);
            foreach (byte[] key in keys)
            {
                w.WriteArrayHeader(2);
                w.Write(key);
                w.Write(0L);
            }
        });
        byte[] a = [4, 10, 0, 0, 1, 0, 1, 1, (byte)'a', 0];
        byte[] b = [4, 10, 0, 0, 2, 0, 1, 1, (byte)'b', 0];
        byte[] c = [4, 10, 0, 0, 3, 0, 1, 1, (byte)'c', 0];
        var summary = Create("QueriesSummary", options);
        ReducerState.ReadInto(summary, Table(a, b));
        Assert.Contains("10.0.0.2", View(summary), StringComparison.Ordinal);
        AssertInvalid(() => ReducerState.ReadInto(summary, Table(a, b, c)), "at most 2");
        AssertInvalid(() => ReducerState.ReadInto(summary, Table(a, a)), "twice");
        AssertInvalid(() => ReducerState.ReadInto(summary, Table([17, 1, 2])), "not a key");
    }

    [Fact]
    public void A_huge_declared_length_is_refused_before_anything_is_allocated()
    {
        // An array header claiming 2^31 - 1 keys with nothing behind it.
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(4);
            w.Write(1);
            w.Write(0L);
            w.Write(64);
            w.WriteArrayHeader(int.MaxValue);
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("TopNQ", TestOptions("TopNQ")), body));
        byte[] examples = Body(w =>
        {
            w.WriteArrayHeader(3);
            w.Write(1);
            w.WriteMapHeader(0);
            w.WriteArrayHeader(int.MaxValue);
        });
        AssertInvalid(() => ReducerState.ReadInto(Create("MalformedCounter", TestOptions("MalformedCounter")), examples));
    }

    private static byte[] Body(Action<MessagePackWriterBox> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var box = new MessagePackWriterBox(buffer);
        write(box);
        box.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes.RemoveAt(at);
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 3:
                    // Values MessagePack gives meaning to: big headers, nil, negative ints.
                    bytes[at] = new byte[] { 0xdd, 0xdf, 0xc5, 0xc6, 0xc0, 0xd3, 0xcf, 0xff, 0x7f, 0x00 }[random.Next(10)];
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes[at] = (byte)random.Next(256);
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>True when <paramref name="read"/> succeeded; false when it threw an acceptable InvalidDataException.</summary>
    private static bool AcceptedOrInvalid(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidDataException e)
        {
            AssertAcceptableCause(e);
            return false;
        }
    }

    private static void AssertInvalid(Action read, string? messagePart = null)
    {
        var e = Assert.Throws<InvalidDataException>(read);
        AssertAcceptableCause(e);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The wrapped cause is the reader's own complaint about the bytes, never a bug's symptom.</summary>
    private static void AssertAcceptableCause(InvalidDataException e)
    {
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            // MessagePack's reader reports a bin or a skipped value longer than what remains as an
            // ArgumentOutOfRangeException of the sequence it slices: its own complaint, unlike one from our code.
            string? thrower = inner.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => !l.StartsWith("at System.", StringComparison.Ordinal));
            bool fromMessagePack = thrower?.StartsWith("at MessagePack.", StringComparison.Ordinal) == true;
            Assert.True(
                inner is MessagePackSerializationException or EndOfStreamException or OverflowException or DecoderFallbackException or InvalidDataException
                    || (inner is ArgumentOutOfRangeException && fromMessagePack)
                    || (inner is ArgumentException && inner is not ArgumentOutOfRangeException and not ArgumentNullException),
                $"{e.Message} wraps {inner.GetType().Name}: {inner}");
        }
    }

    /// <summary>A MessagePackWriter (a ref struct) held for a lambda.</summary>
    private sealed class MessagePackWriterBox(IBufferWriter<byte> output)
    {
        private readonly IBufferWriter<byte> _output = output;
        private readonly List<Step> _steps = [];

        private delegate void Step(ref MessagePackWriter writer);

        public void WriteArrayHeader(int count) => _steps.Add((ref MessagePackWriter w) => w.WriteArrayHeader(count));

        public void WriteMapHeader(int count) => _steps.Add((ref MessagePackWriter w) => w.WriteMapHeader(count));

        public void Write(int value) => _steps.Add((ref MessagePackWriter w) => w.Write(value));

        public void Write(long value) => _steps.Add((ref MessagePackWriter w) => w.Write(value));

        public void Write(byte[] value) => _steps.Add((ref MessagePackWriter w) => w.Write(value));

        public void Flush()
        {
            var writer = new MessagePackWriter(_output);
            foreach (var step in _steps)
            {
                step(ref writer);
            }

            writer.Flush();
        }
    }
}
