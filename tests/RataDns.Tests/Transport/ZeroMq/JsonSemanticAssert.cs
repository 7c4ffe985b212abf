using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace RataDns.Tests.Transport.ZeroMq;

/// <summary>
/// Deep equality of decoded results, as a Python subscriber sees them: same keys in the same order, same strings,
/// integers equal as integers, and a number is an integer on one side exactly when it is on the other (Python's
/// json makes <c>1</c> an int and <c>1.0</c> a float; the MessagePack form must agree).
/// </summary>
internal static class JsonSemanticAssert
{
    public static bool IsIntegerText(JsonElement number) => number.GetRawText().AsSpan().IndexOfAny(".eE") < 0;

    public static void Same(JsonElement expected, JsonElement actual, string path = "$")
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: {expected.ValueKind} expected, {actual.ValueKind} found ({actual.GetRawText()})");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var e = expected.EnumerateObject().ToList();
                var a = actual.EnumerateObject().ToList();
                Assert.True(e.Count == a.Count, $"{path}: {e.Count} members expected, {a.Count} found");
                for (int i = 0; i < e.Count; i++)
                {
                    Assert.Equal(e[i].Name, a[i].Name);
                    Same(e[i].Value, a[i].Value, $"{path}.{e[i].Name}");
                }

                break;
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{path}: array length");
                for (int i = 0; i < expected.GetArrayLength(); i++)
                {
                    Same(expected[i], actual[i], $"{path}[{i}]");
                }

                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), actual.GetString());
                break;
            case JsonValueKind.Number:
                bool integer = IsIntegerText(expected);
                Assert.True(integer == IsIntegerText(actual), $"{path}: {expected.GetRawText()} and {actual.GetRawText()} differ in kind (int/float)");
                if (integer)
                {
                    Assert.Equal(BigInteger.Parse(expected.GetRawText(), CultureInfo.InvariantCulture), BigInteger.Parse(actual.GetRawText(), CultureInfo.InvariantCulture));
                }
                else
                {
                    Assert.Equal(expected.GetDouble(), actual.GetDouble());
                }

                break;
            default:
                break; // true, false, null: the kind is the value
        }
    }

    /// <summary>Compares what MessagePackSerializer.Deserialize&lt;object&gt; returned with the JSON it came from.</summary>
    public static void Same(JsonElement expected, object? actual, string path = "$")
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var map = Assert.IsType<Dictionary<object, object?>>(actual);
                var members = expected.EnumerateObject().ToList();
                Assert.Equal(members.Count, map.Count);
                int i = 0;
                foreach (var (key, value) in map)
                {
                    Assert.Equal(members[i].Name, Assert.IsType<string>(key));
                    Same(members[i].Value, value, $"{path}.{members[i].Name}");
                    i++;
                }

                break;
            case JsonValueKind.Array:
                var array = Assert.IsType<object?[]>(actual);
                Assert.Equal(expected.GetArrayLength(), array.Length);
                for (int j = 0; j < array.Length; j++)
                {
                    Same(expected[j], array[j], $"{path}[{j}]");
                }

                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), Assert.IsType<string>(actual));
                break;
            case JsonValueKind.Number:
                if (IsIntegerText(expected) && BigInteger.Parse(expected.GetRawText(), CultureInfo.InvariantCulture) is var big
                    && big >= long.MinValue && big <= ulong.MaxValue)
                {
                    BigInteger found = actual switch
                    {
                        byte v => v, sbyte v => v, short v => v, ushort v => v, int v => v, uint v => v, long v => v, ulong v => v,
                        _ => throw new Xunit.Sdk.XunitException($"{path}: integer {expected.GetRawText()} expected, {actual?.GetType().Name} {actual} found"),
                    };
                    Assert.Equal(big, found);
                }
                else
                {
                    Assert.Equal(expected.GetDouble(), Assert.IsType<double>(actual));
                }

                break;
            case JsonValueKind.True:
                Assert.Equal(true, actual);
                break;
            case JsonValueKind.False:
                Assert.Equal(false, actual);
                break;
            default:
                Assert.Null(actual);
                break;
        }
    }
}
