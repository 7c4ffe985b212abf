using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RataDns.Tests.Aggregator;

/// <summary>Envelopes as a monitor writes them, and a structural JSON comparison.</summary>
internal static class AggregatorTestData
{
    public static string Envelope(string type, string server, long sequence, double start, double end, string data, long drops = 0) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $$$"""{"type":"{{{type}}}","serverId":"{{{server}}}","timeStamp":{{{(long)Math.Floor(end)}}},"data":{{{data}}},"window":{"start":{{{start}}},"end":{{{end}}},"packets":10,"messages":10,"drops":{{{drops}}},"sequence":{{{sequence}}},"partial":false}}""");

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static void SameJson(string expected, JsonElement actual) =>
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual.GetRawText())),
            $"expected {expected}\n  actual {actual.GetRawText()}");
}
