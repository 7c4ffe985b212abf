using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using RataDns.Reducers;
using RataDns.Reducers.Summaries;

namespace RataDns.Aggregator;

/// <summary>
/// The fallback merge of results that came without state (monitors that send only views: older RataDns, other
/// tools, Redis pub/sub): each reducer's JSON views combined by the rule the reducer declares
/// (<see cref="Reducers.Reducer.ViewMerge"/>). Such merges are approximate: a view lists only what its window kept (a
/// top list, an estimate), so a sum of views is not the view of the sum. The rules are in docs/wire-format.md.
/// </summary>
public static class ViewMerger
{
    /// <summary>
    /// Merges <paramref name="results"/> (one reducer type, any servers, any order) by <paramref name="rule"/>; null for
    /// <see cref="ViewMergeRule.None"/> when there is more than one result.
    /// </summary>
    /// <param name="rule">How the type's views combine.</param>
    /// <param name="results">At least one result.</param>
    /// <param name="maxListItems">Concatenated lists stop at this many items.</param>
    public static JsonElement? Merge(ViewMergeRule rule, IReadOnlyList<WindowResult> results, int maxListItems = 1000)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            throw new ArgumentException("Nothing to merge.", nameof(results));
        }

        // Oldest first.
        var ordered = results.OrderBy(r => r.End).ThenBy(r => r.ServerId, StringComparer.Ordinal).ToList();
        if (ordered.Count == 1)
        {
            return ordered[0].Data;
        }

        switch (rule)
        {
            case ViewMergeRule.Rates:
                return MergeRates(ordered);
            case ViewMergeRule.RankedPairs:
                return MergePairTop(ordered);
            case ViewMergeRule.HeavyHitters:
                return MergeHeavyHitters(ordered);
            case ViewMergeRule.LatencyHistogram:
                return MergeLatency(ordered);
            case ViewMergeRule.DistinctEstimates:
                return MergeDistinct(ordered);
            case ViewMergeRule.Additive:
            case ViewMergeRule.Union:
                JsonNode? merged = null;
                foreach (var result in ordered)
                {
                    merged = Combine(merged, result.Data, rule == ViewMergeRule.Union, maxListItems);
                }

                return ToElement(merged);
            default:
                return null;
        }
    }

    /// <summary>
    /// Rates: per server, every numeric key's count-weighted average (Σ rate·duration / Σ duration over its windows;
    /// the plain mean when every window has zero length); across servers the averages add.
    /// </summary>
    private static JsonElement MergeRates(List<WindowResult> ordered)
    {
        var keys = new List<string>();
        var total = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var server in ordered.GroupBy(r => r.ServerId, StringComparer.Ordinal))
        {
            var events = new Dictionary<string, (double Count, double Seconds, double RateSum, int Windows)>(StringComparer.Ordinal);
            foreach (var result in server)
            {
                if (result.Data.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var property in result.Data.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.Number)
                    {
                        continue;
                    }

                    double rate = property.Value.GetDouble();
                    events.TryGetValue(property.Name, out var e);
                    events[property.Name] = (e.Count + (rate * result.Duration), e.Seconds + result.Duration, e.RateSum + rate, e.Windows + 1);
                    if (!total.ContainsKey(property.Name))
                    {
                        total[property.Name] = 0;
                        keys.Add(property.Name);
                    }
                }
            }

            foreach (var (key, e) in events)
            {
                total[key] += e.Seconds > 0 ? e.Count / e.Seconds : e.RateSum / e.Windows;
            }
        }

        return Write(writer =>
        {
            writer.WriteStartObject();
            foreach (string key in keys)
            {
                writer.WriteNumber(key, total[key]);
            }

            writer.WriteEndObject();
        });
    }

    /// <summary>TopN / TopNQ <c>[[name, count], ...]</c>: counts add per name; re-ranked; the longest list's length kept.</summary>
    private static JsonElement MergePairTop(List<WindowResult> ordered)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        int n = 0;
        foreach (var result in ordered)
        {
            if (result.Data.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            n = Math.Max(n, result.Data.GetArrayLength());
            foreach (var pair in result.Data.EnumerateArray())
            {
                if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() >= 2
                    && pair[0].ValueKind == JsonValueKind.String && pair[1].TryGetInt64(out long count))
                {
                    string name = pair[0].GetString()!;
                    counts[name] = counts.GetValueOrDefault(name) + count;
                }
            }
        }

        return Write(writer =>
        {
            writer.WriteStartArray();
            foreach (var (name, count) in Rank(counts, n, c => c))
            {
                writer.WriteStartArray();
                writer.WriteStringValue(name);
                writer.WriteNumberValue(count);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        });
    }

    /// <summary>
    /// Heavy hitters <c>{"total","top":[{"name"|"client","count","error"}]}</c>, merged as mergeable Space-Saving
    /// summaries are (Agarwal et al. 2012): totals add; a key listed by a window adds that window's count and error;
    /// a key a window did not list could have had up to that window's threshold there (its smallest listed count
    /// when the list is full, i.e. as long as the longest list seen; 0 when the list is shorter, since the window then
    /// listed every key it saw), so the threshold is added to both its count and its error. Every merged entry keeps
    /// the guarantee count - error &lt;= true count &lt;= count. Ranked by count, then key; the longest list's length kept.
    /// </summary>
    private static JsonElement MergeHeavyHitters(List<WindowResult> ordered)
    {
        long total = 0;
        string keyName = "name";
        int n = 0;
        var windows = new List<(Dictionary<string, (long Count, long Error)> Listed, long Smallest, int Length)>();
        foreach (var result in ordered)
        {
            if (result.Data.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (result.Data.TryGetProperty("total", out var t) && t.TryGetInt64(out long windowTotal))
            {
                total += windowTotal;
            }

            if (!result.Data.TryGetProperty("top", out var top) || top.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var listed = new Dictionary<string, (long Count, long Error)>(StringComparer.Ordinal);
            long smallest = long.MaxValue;
            foreach (var entry in top.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                JsonElement key;
                if (entry.TryGetProperty("name", out key) && key.ValueKind == JsonValueKind.String)
                {
                    keyName = "name";
                }
                else if (entry.TryGetProperty("client", out key) && key.ValueKind == JsonValueKind.String)
                {
                    keyName = "client";
                }
                else
                {
                    continue;
                }

                long count = entry.TryGetProperty("count", out var c) && c.TryGetInt64(out long cv) ? cv : 0;
                long error = entry.TryGetProperty("error", out var e) && e.TryGetInt64(out long ev) ? ev : 0;
                listed[key.GetString()!] = (count, error);
                smallest = Math.Min(smallest, count);
            }

            n = Math.Max(n, top.GetArrayLength());
            windows.Add((listed, smallest == long.MaxValue ? 0 : smallest, top.GetArrayLength()));
        }

        var entries = new Dictionary<string, (long Count, long Error)>(StringComparer.Ordinal);
        foreach (string name in windows.SelectMany(w => w.Listed.Keys).Distinct(StringComparer.Ordinal))
        {
            long count = 0;
            long error = 0;
            foreach (var (listed, smallest, length) in windows)
            {
                if (listed.TryGetValue(name, out var value))
                {
                    count += value.Count;
                    error += value.Error;
                }
                else if (length >= n)
                {
                    count += smallest;
                    error += smallest;
                }
            }

            entries[name] = (count, error);
        }

        return Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("total", total);
            writer.WriteStartArray("top");
            foreach (var (name, value) in Rank(entries, n, v => v.Count))
            {
                writer.WriteStartObject();
                writer.WriteString(keyName, name);
                writer.WriteNumber("count", value.Count);
                writer.WriteNumber("error", value.Error);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// ResponseLatency: matched, unanswered, unsolicited and untracked add; pending (a level at the window's end) is
    /// each server's newest, added across servers; histogram buckets add by "leUs"; the percentiles and the maximum are
    /// recomputed from the merged buckets as the reducer computes them.
    /// </summary>
    private static JsonElement MergeLatency(List<WindowResult> ordered)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        var keys = new List<string>();
        var pendingByServer = new Dictionary<string, long>(StringComparer.Ordinal);
        var buckets = new SortedDictionary<long, long>();
        long max = 0;
        foreach (var result in ordered)
        {
            if (result.Data.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var property in result.Data.EnumerateObject())
            {
                if (property.Value.TryGetInt64Safe(out long value))
                {
                    if (property.Name == "pending")
                    {
                        pendingByServer[result.ServerId] = value;
                    }
                    else
                    {
                        sums[property.Name] = sums.GetValueOrDefault(property.Name) + value;
                    }

                    if (!keys.Contains(property.Name))
                    {
                        keys.Add(property.Name);
                    }
                }
            }

            if (result.Data.TryGetProperty("latencyUs", out var latency) && latency.ValueKind == JsonValueKind.Object
                && latency.TryGetProperty("max", out var m) && m.TryGetInt64Safe(out long windowMax))
            {
                max = Math.Max(max, windowMax);
            }

            if (result.Data.TryGetProperty("histogram", out var histogram) && histogram.ValueKind == JsonValueKind.Array)
            {
                foreach (var bucket in histogram.EnumerateArray())
                {
                    if (bucket.ValueKind == JsonValueKind.Object
                        && bucket.TryGetProperty("leUs", out var le) && le.TryGetInt64Safe(out long bound)
                        && bucket.TryGetProperty("count", out var c) && c.TryGetInt64Safe(out long count))
                    {
                        buckets[bound] = buckets.GetValueOrDefault(bound) + count;
                    }
                }
            }
        }

        sums["pending"] = pendingByServer.Values.Sum();
        long total = buckets.Values.Sum();
        return Write(writer =>
        {
            writer.WriteStartObject();
            foreach (string key in keys)
            {
                writer.WriteNumber(key, sums[key]);
            }

            writer.WriteStartObject("latencyUs");
            foreach (var (name, quantile) in new[] { ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999), ("max", 1.0) })
            {
                if (total == 0)
                {
                    writer.WriteNull(name);
                }
                else
                {
                    writer.WriteNumber(name, Percentile(buckets, total, max, quantile));
                }
            }

            writer.WriteEndObject();
            writer.WriteStartArray("histogram");
            foreach (var (bound, count) in buckets)
            {
                writer.WriteStartObject();
                writer.WriteNumber("leUs", bound);
                writer.WriteNumber("count", count);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary>The reducer's rule: the upper bound of the bucket holding rank ceil(q·n) (at least 1), capped at the maximum.</summary>
    internal static long Percentile(SortedDictionary<long, long> buckets, long total, long max, double quantile)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        foreach (var (bound, count) in buckets)
        {
            seen += count;
            if (seen >= rank)
            {
                return Math.Min(bound, max);
            }
        }

        return max;
    }

    /// <summary>
    /// DistinctCounter: per server the largest estimate over its windows (a lower bound of its distinct count over the
    /// span), summed across servers (an upper bound of the union: a name asked of two servers counts twice); other
    /// keys (precision, relativeError) from the newest result.
    /// </summary>
    /// <summary>
    /// DistinctCounter results that carry their sketches (option <c>Sketch</c>) with one seed and precision merge
    /// exactly: the register-wise maximum is the sketch of the union of every window's names (and clients), across
    /// windows and monitors; its estimate is written with <c>"merged": "sketch"</c>. Null when any result lacks a
    /// usable sketch.
    /// </summary>
    private static JsonElement? TryMergeSketches(List<WindowResult> ordered)
    {
        HyperLogLog? names = null;
        HyperLogLog? clients = null;
        foreach (var result in ordered)
        {
            if (result.Data.ValueKind != JsonValueKind.Object || !result.Data.TryGetProperty("sketch", out var sketch)
                || !sketch.TryGetProperty("seed", out var seedText)
                || !ulong.TryParse(seedText.GetString(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out ulong seed)
                || !sketch.TryGetProperty("qnames", out var q) || !q.TryGetBytesFromBase64(out byte[]? qBytes)
                || !sketch.TryGetProperty("clients", out var c) || !c.TryGetBytesFromBase64(out byte[]? cBytes))
            {
                return null;
            }

            try
            {
                var n = HyperLogLog.FromRegisters(seed, qBytes);
                var k = HyperLogLog.FromRegisters(seed, cBytes);
                if (names is null)
                {
                    (names, clients) = (n, k);
                }
                else
                {
                    names.Merge(n);
                    clients!.Merge(k);
                }
            }
            catch (ArgumentException)
            {
                return null; // another precision or seed, or damaged registers: no exact merge
            }
        }

        return Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("qnames", (long)Math.Round(names!.Estimate()));
            writer.WriteNumber("clients", (long)Math.Round(clients!.Estimate()));
            writer.WriteNumber("precision", names.Precision);
            writer.WriteNumber("relativeError", names.StandardError);
            writer.WriteString("merged", "sketch");
            writer.WriteEndObject();
        });
    }

    private static JsonElement MergeDistinct(List<WindowResult> ordered)
    {
        if (TryMergeSketches(ordered) is { } exact)
        {
            return exact;
        }

        var newest = ordered[^1].Data;
        var estimates = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var server in ordered.GroupBy(r => r.ServerId, StringComparer.Ordinal))
        {
            var perServer = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var result in server)
            {
                foreach (string key in new[] { "qnames", "clients" })
                {
                    if (result.Data.ValueKind == JsonValueKind.Object && result.Data.TryGetProperty(key, out var v) && v.TryGetInt64Safe(out long estimate))
                    {
                        perServer[key] = Math.Max(perServer.GetValueOrDefault(key), estimate);
                    }
                }
            }

            foreach (var (key, value) in perServer)
            {
                estimates[key] = estimates.GetValueOrDefault(key) + value;
            }
        }

        return Write(writer =>
        {
            writer.WriteStartObject();
            foreach (var (key, value) in estimates)
            {
                writer.WriteNumber(key, value);
            }

            if (newest.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in newest.EnumerateObject())
                {
                    if (!estimates.ContainsKey(property.Name))
                    {
                        property.WriteTo(writer);
                    }
                }
            }

            writer.WriteEndObject();
        });
    }

    /// <summary>Highest count first, then the key (ordinal), at most <paramref name="n"/>.</summary>
    private static IEnumerable<KeyValuePair<string, T>> Rank<T>(Dictionary<string, T> entries, int n, Func<T, long> count) =>
        entries.OrderByDescending(e => count(e.Value)).ThenBy(e => e.Key, StringComparer.Ordinal).Take(n);

    /// <summary>
    /// Adds <paramref name="value"/> into <paramref name="into"/>: objects key-wise, numbers add (integers stay
    /// integers), arrays concatenate up to <paramref name="maxItems"/> (or, with <paramref name="union"/>, add the
    /// items not already there), anything else (strings, mismatched kinds) takes the newer value.
    /// </summary>
    private static JsonNode? Combine(JsonNode? into, JsonElement value, bool union, int maxItems)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when into is JsonObject obj:
                foreach (var property in value.EnumerateObject())
                {
                    var existing = obj[property.Name];
                    var combined = Combine(existing, property.Value, union, maxItems);
                    if (!ReferenceEquals(existing, combined))
                    {
                        obj[property.Name] = combined;
                    }
                }

                return obj;
            case JsonValueKind.Array when into is JsonArray array:
                foreach (var item in value.EnumerateArray())
                {
                    if (array.Count >= maxItems)
                    {
                        break;
                    }

                    if (union && array.Any(existing => JsonNode.DeepEquals(existing, Copy(item))))
                    {
                        continue;
                    }

                    array.Add(Copy(item));
                }

                return array;
            case JsonValueKind.Number when into is JsonValue number && number.GetValueKind() == JsonValueKind.Number:
                if (number.TryGetValue(out long a) && value.TryGetInt64(out long b))
                {
                    return JsonValue.Create(a + b);
                }

                return JsonValue.Create(number.GetValue<double>() + value.GetDouble());
            default:
                return Copy(value);
        }
    }

    private static JsonNode? Copy(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(value),
        JsonValueKind.Array => JsonArray.Create(value),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => JsonValue.Create(value),
    };

    private static JsonElement ToElement(JsonNode? node) => Write(writer =>
    {
        if (node is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            node.WriteTo(writer);
        }
    });

    private static JsonElement Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>TryGetInt64 that answers false (rather than throwing) for a non-number.</summary>
    private static bool TryGetInt64Safe(this JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }
}
