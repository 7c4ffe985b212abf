using System.Globalization;
using System.Text.Json;
using Prometheus;

namespace RataDns.Transport.PrometheusExposition;

/// <summary>
/// DNS statistics for Prometheus, made from window results: each reducer's view (its JSON <c>data</c>, the same in a
/// monitor and in an aggregator) adds to counters and histograms labelled by <c>server</c> (the monitor's serverId),
/// and sets gauges of what one window or span holds (distinct counts, top lists). Families, labels and their bounds
/// are listed in docs/prometheus.md. Every label whose values come from traffic is bounded: a code or type beyond
/// <see cref="DnsStatisticsOptions.MaxLabelValues"/> distinct values per server is counted as <c>other</c>, and a top
/// list exposes at most <see cref="DnsStatisticsOptions.TopLimit"/> entries per server.
/// <para>Thread-safe: results may come from several threads (an aggregator's subscribers).</para>
/// </summary>
public sealed class DnsStatistics
{
    /// <summary>The label value that stands for every value past the per-server bound.</summary>
    public const string Other = "other";

    /// <summary>Upper bounds of the response latency histogram, in seconds (100 µs to 5 s).</summary>
    public static readonly double[] LatencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    /// <summary>Upper bounds of the message size histogram, in bytes: MessageSizeHistogram's own buckets.</summary>
    public static readonly double[] SizeBuckets = [63, 127, 255, 511, 1023, 1231, 1499, 4095];

    private static readonly (string Type, string Family, string Help, string KeyLabel, string KeyMember)[] TopLists =
    [
        ("TopNQ", "ratadns_dns_top_query_names", "Queries for each of the most queried names (TopNQ) in the latest window or span, by rank.", "name", "name"),
        ("TopN", "ratadns_dns_top_names", "Queries and responses for each of the most frequent names (TopN) in the latest window or span, by rank.", "name", "name"),
        ("TopClients", "ratadns_dns_top_clients", "Queries from each of the busiest clients in the latest window or span, by rank.", "client", "client"),
        ("TopNxdomainNames", "ratadns_dns_top_nxdomain_names", "NXDOMAIN responses for each of the names most answered NXDOMAIN in the latest window or span, by rank.", "name", "name"),
        ("TopServfailNames", "ratadns_dns_top_servfail_names", "SERVFAIL responses for each of the names most answered SERVFAIL in the latest window or span, by rank.", "name", "name"),
        ("TopRefusedNames", "ratadns_dns_top_refused_names", "REFUSED responses for each of the names most answered REFUSED in the latest window or span, by rank.", "name", "name"),
        ("TldCounter", "ratadns_dns_top_tlds", "Queries for each of the most queried top-level domains in the latest window or span, by rank.", "name", "name"),
        ("SldCounter", "ratadns_dns_top_slds", "Queries for each of the most queried registered domains in the latest window or span, by rank.", "name", "name"),
    ];

    private readonly DnsStatisticsOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Family, string Server), HashSet<string>> _labelValues = [];
    private readonly Dictionary<(string Family, string Server), List<ChildBase>> _topChildren = [];
    private readonly Dictionary<(string Type, string Server), long> _lastSequence = [];
    private readonly Counter _windows;
    private readonly Counter _queries;
    private readonly Counter _responses;
    private readonly Counter _opcodes;
    private readonly Counter _qclasses;
    private readonly Counter _transport;
    private readonly Counter _ednsQueries;
    private readonly Counter _ednsDo;
    private readonly Counter _ednsClientSubnet;
    private readonly Counter _ednsVersions;
    private readonly Histogram _sizes;
    private readonly Histogram _latency;
    private readonly Counter _exchanges;
    private readonly Gauge _pending;
    private readonly Counter _checked;
    private readonly Counter _malformed;
    private readonly Gauge _distinctNames;
    private readonly Gauge _distinctClients;
    private readonly Dictionary<string, (Gauge Gauge, string KeyMember)> _tops = new(StringComparer.Ordinal);

    /// <summary>Registers the families in <paramref name="registry"/>.</summary>
    public DnsStatistics(CollectorRegistry registry, DnsStatisticsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _options = options ?? new DnsStatisticsOptions();
        if (_options.MaxLabelValues < 1 || _options.TopLimit < 0)
        {
            throw new ArgumentException("MaxLabelValues must be at least 1 and TopLimit at least 0.", nameof(options));
        }

        var f = Metrics.WithCustomRegistry(registry);
        string[] server = ["server"];
        _windows = f.CreateCounter("ratadns_dns_windows_total", "Window results taken into these statistics, by reducer type (only the types the families are made from).", ["server", "type"]);
        _queries = f.CreateCounter("ratadns_dns_queries_total", "Questions of DNS queries, by QTYPE (QtypeCounter: every question of a query counts).", ["server", "qtype"]);
        _responses = f.CreateCounter("ratadns_dns_responses_total", "DNS responses, by RCODE including the extended bits of EDNS (RcodeCounter).", ["server", "rcode"]);
        _opcodes = f.CreateCounter("ratadns_dns_opcode_messages_total", "DNS messages by OPCODE, queries and responses apart (OpcodeCounter).", ["server", "message", "opcode"]);
        _qclasses = f.CreateCounter("ratadns_dns_qclass_queries_total", "Questions of DNS queries, by QCLASS (QclassCounter).", ["server", "qclass"]);
        _transport = f.CreateCounter("ratadns_dns_transport_messages_total", "DNS messages by transport and IP version (TransportCounter).", ["server", "transport", "ip_version"]);
        _ednsQueries = f.CreateCounter("ratadns_dns_edns_queries_total", "DNS queries with an OPT record (edns=\"true\") and without (EdnsCounter).", ["server", "edns"]);
        _ednsDo = f.CreateCounter("ratadns_dns_edns_do_queries_total", "DNS queries with the DNSSEC OK bit (EdnsCounter).", server);
        _ednsClientSubnet = f.CreateCounter("ratadns_dns_edns_client_subnet_queries_total", "DNS queries with an EDNS Client Subnet option (EdnsCounter).", server);
        _ednsVersions = f.CreateCounter("ratadns_dns_edns_version_queries_total", "DNS queries with an OPT record, by EDNS version (EdnsCounter).", ["server", "version"]);
        _sizes = f.CreateHistogram(
            "ratadns_dns_message_size_bytes",
            "DNS message sizes (MessageSizeHistogram's buckets; _sum adds each bucket's upper bound, 4096 for the last: an upper estimate).",
            ["server", "message"],
            new HistogramConfiguration { Buckets = SizeBuckets });
        _latency = f.CreateHistogram(
            "ratadns_dns_response_latency_seconds",
            "Time from a query to its response (ResponseLatency; each of its buckets is counted at its upper bound, so a Prometheus bucket may hold up to 6% more than its bound).",
            server,
            new HistogramConfiguration { Buckets = LatencyBuckets });
        _exchanges = f.CreateCounter("ratadns_dns_exchanges_total", "Queries and responses by how they matched (ResponseLatency): matched, unanswered, unsolicited, untracked.", ["server", "outcome"]);
        _pending = f.CreateGauge("ratadns_dns_pending_queries", "Queries waiting for their response at the end of the latest window (ResponseLatency).", server);
        _checked = f.CreateCounter("ratadns_dns_checked_messages_total", "DNS messages the MalformedCounter looked at (the denominator of the malformed ratio).", server);
        _malformed = f.CreateCounter("ratadns_dns_malformed_messages_total", "Malformed DNS messages, by the first fault's reason (MalformedCounter).", ["server", "reason"]);
        _distinctNames = f.CreateGauge("ratadns_dns_distinct_names", "Distinct query names in the latest window or span (DistinctCounter, HyperLogLog estimate).", server);
        _distinctClients = f.CreateGauge("ratadns_dns_distinct_clients", "Distinct clients in the latest window or span (DistinctCounter, HyperLogLog estimate).", server);
        foreach (var (type, family, help, keyLabel, keyMember) in TopLists)
        {
            _tops[type] = (f.CreateGauge(family, help, ["server", "rank", keyLabel]), keyMember);
        }
    }

    /// <summary>The reducer types whose views give gauges of one window or span (distinct counts, top lists).</summary>
    public static IReadOnlyList<string> GaugeTypes { get; } = ["DistinctCounter", .. TopLists.Select(t => t.Type)];

    /// <summary>The reducer types whose views make families; results of other types are not read.</summary>
    public static IReadOnlySet<string> ReadTypes { get; } = new HashSet<string>(
        ["QtypeCounter", "RcodeCounter", "QclassCounter", "OpcodeCounter", "TransportCounter", "EdnsCounter", "MessageSizeHistogram",
         "ResponseLatency", "MalformedCounter", .. GaugeTypes],
        StringComparer.Ordinal);

    /// <summary>Whether results of <paramref name="type"/> make any family.</summary>
    public static bool Reads(string type) => ReadTypes.Contains(type);

    /// <summary>
    /// Takes one window's result of one reducer: adds its counts to the counters and histograms and, when
    /// <paramref name="setGauges"/>, sets the gauges of that window. A result whose <paramref name="sequence"/> equals
    /// the last one seen for the same server and type (a duplicate delivery) adds nothing; -1 means unknown.
    /// A view that does not have the documented shape is skipped member by member, never thrown on.
    /// </summary>
    public void ObserveWindow(string server, string type, JsonElement data, long sequence = -1, bool setGauges = true)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(type);
        if (!Reads(type))
        {
            return;
        }

        lock (_lock)
        {
            if (sequence >= 0)
            {
                if (_lastSequence.TryGetValue((type, server), out long last) && last == sequence)
                {
                    return;
                }

                _lastSequence[(type, server)] = sequence;
            }

            _windows.WithLabels(server, Bounded("ratadns_dns_windows_total", server, type)).Inc();
            switch (type)
            {
                case "QtypeCounter":
                    AddCounts(_queries, "ratadns_dns_queries_total", server, data);
                    break;
                case "RcodeCounter":
                    AddCounts(_responses, "ratadns_dns_responses_total", server, data);
                    break;
                case "QclassCounter":
                    AddCounts(_qclasses, "ratadns_dns_qclass_queries_total", server, data);
                    break;
                case "OpcodeCounter":
                    AddOpcodes(server, data);
                    break;
                case "TransportCounter":
                    AddTransport(server, data);
                    break;
                case "EdnsCounter":
                    AddEdns(server, data);
                    break;
                case "MessageSizeHistogram":
                    AddSizes(server, data);
                    break;
                case "ResponseLatency":
                    AddLatency(server, data);
                    break;
                case "MalformedCounter":
                    AddMalformed(server, data);
                    break;
                default:
                    break;
            }

            if (setGauges)
            {
                SetGaugesLocked(server, type, data);
            }
        }
    }

    /// <summary>
    /// Sets the gauges of one window or span (distinct counts, top lists) of <paramref name="server"/> from a view of
    /// <paramref name="type"/>; other types are ignored. The previous top list's series of that server are removed
    /// first, so a name that left the list leaves the exposition.
    /// </summary>
    public void SetGauges(string server, string type, JsonElement data)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(type);
        lock (_lock)
        {
            SetGaugesLocked(server, type, data);
        }
    }

    /// <summary>Removes the gauges of <paramref name="server"/> for <paramref name="type"/> (its span holds nothing now).</summary>
    public void ClearGauges(string server, string type)
    {
        lock (_lock)
        {
            if (type == "DistinctCounter")
            {
                _distinctNames.RemoveLabelled(server);
                _distinctClients.RemoveLabelled(server);
            }
            else if (type == "ResponseLatency")
            {
                _pending.RemoveLabelled(server);
            }
            else if (_tops.TryGetValue(type, out var top))
            {
                RemoveTop(top.Gauge, server);
            }
        }
    }

    private void SetGaugesLocked(string server, string type, JsonElement data)
    {
        if (type == "DistinctCounter")
        {
            if (data.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (Number(data, "qnames") is double names)
            {
                _distinctNames.WithLabels(server).Set(names);
            }

            if (Number(data, "clients") is double clients)
            {
                _distinctClients.WithLabels(server).Set(clients);
            }

            return;
        }

        if (type == "ResponseLatency" && data.ValueKind == JsonValueKind.Object && Number(data, "pending") is double pending)
        {
            _pending.WithLabels(server).Set(pending);
            return;
        }

        if (!_tops.TryGetValue(type, out var top))
        {
            return;
        }

        RemoveTop(top.Gauge, server);
        var children = _topChildren[(top.Gauge.Name, server)] = [];
        int rank = 0;
        foreach (var (key, count) in TopEntries(data, top.KeyMember))
        {
            if (rank == _options.TopLimit)
            {
                break;
            }

            rank++;
            var child = top.Gauge.WithLabels(server, rank.ToString(CultureInfo.InvariantCulture), key);
            child.Set(count);
            children.Add(child);
        }
    }

    private void RemoveTop(Gauge gauge, string server)
    {
        if (_topChildren.Remove((gauge.Name, server), out var previous))
        {
            foreach (var child in previous)
            {
                child.Remove();
            }
        }
    }

    /// <summary>A top list's entries: TopN/TopNQ's <c>[[name, count], ...]</c> (merged: <c>[name, count, error]</c>) or the <c>{"top": [{key, count}]}</c> of the others.</summary>
    private static IEnumerable<(string Key, double Count)> TopEntries(JsonElement data, string keyMember)
    {
        if (data.ValueKind == JsonValueKind.Array)
        {
            foreach (var pair in data.EnumerateArray())
            {
                if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() >= 2
                    && pair[0].ValueKind == JsonValueKind.String && pair[1].ValueKind == JsonValueKind.Number)
                {
                    yield return (pair[0].GetString()!, pair[1].GetDouble());
                }
            }
        }
        else if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("top", out var top) && top.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in top.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty(keyMember, out var key) && key.ValueKind == JsonValueKind.String
                    && Number(item, "count") is double count)
                {
                    yield return (key.GetString()!, count);
                }
            }
        }
    }

    private void AddCounts(Counter counter, string family, string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var member in data.EnumerateObject())
        {
            if (Count(member.Value) is double n && n > 0)
            {
                counter.WithLabels(server, Bounded(family, server, member.Name)).Inc(n);
            }
        }
    }

    private void AddOpcodes(string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var (member, message) in new[] { ("queries", "query"), ("responses", "response") })
        {
            if (data.TryGetProperty(member, out var byOpcode) && byOpcode.ValueKind == JsonValueKind.Object)
            {
                foreach (var opcode in byOpcode.EnumerateObject())
                {
                    if (Count(opcode.Value) is double n && n > 0)
                    {
                        _opcodes.WithLabels(server, message, Bounded("ratadns_dns_opcode_messages_total", server, opcode.Name)).Inc(n);
                    }
                }
            }
        }
    }

    private static readonly (string Member, string Transport, string Version)[] TransportMembers =
    [
        ("udp4", "udp", "4"), ("udp6", "udp", "6"), ("tcp4", "tcp", "4"), ("tcp6", "tcp", "6"),
        ("dot4", "dot", "4"), ("dot6", "dot", "6"), ("doh4", "doh", "4"), ("doh6", "doh", "6"),
        ("doq4", "doq", "4"), ("doq6", "doq", "6"), ("dnscrypt4", "dnscrypt", "4"), ("dnscrypt6", "dnscrypt", "6"),
    ];

    private void AddTransport(string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var (member, transport, version) in TransportMembers)
        {
            if (Number(data, member) is double n)
            {
                // Every combination written is exposed, 0 included, so that rates and ratios have all their series from
                // the start: UDP and TCP always, an encrypted transport from the first window that saw it (dnstap).
                _transport.WithLabels(server, transport, version).Inc(Math.Max(0, n));
            }
        }
    }

    private void AddEdns(string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (Number(data, "edns") is double edns)
        {
            _ednsQueries.WithLabels(server, "true").Inc(Math.Max(0, edns));
        }

        if (Number(data, "noEdns") is double noEdns)
        {
            _ednsQueries.WithLabels(server, "false").Inc(Math.Max(0, noEdns));
        }

        _ednsDo.WithLabels(server).Inc(Math.Max(0, Number(data, "do") ?? 0));
        _ednsClientSubnet.WithLabels(server).Inc(Math.Max(0, Number(data, "clientSubnet") ?? 0));
        if (data.TryGetProperty("versions", out var versions))
        {
            AddCounts(_ednsVersions, "ratadns_dns_edns_version_queries_total", server, versions);
        }
    }

    private void AddSizes(string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var (member, message) in new[] { ("queries", "query"), ("responses", "response") })
        {
            if (!data.TryGetProperty(member, out var buckets) || buckets.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var child = _sizes.WithLabels(server, message);
            foreach (var bucket in buckets.EnumerateObject())
            {
                // "0-63", ..., "4096+": the bucket's upper bound (the lower one for the open last bucket).
                string bound = bucket.Name.EndsWith('+') ? bucket.Name[..^1] : bucket.Name[(bucket.Name.IndexOf('-') + 1)..];
                if (Count(bucket.Value) is double n && n > 0
                    && double.TryParse(bound, NumberStyles.None, CultureInfo.InvariantCulture, out double upper))
                {
                    child.Observe(upper, (long)n);
                }
            }
        }
    }

    private void AddLatency(string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (string outcome in new[] { "matched", "unanswered", "unsolicited", "untracked" })
        {
            _exchanges.WithLabels(server, outcome).Inc(Math.Max(0, Number(data, outcome) ?? 0));
        }

        if (data.TryGetProperty("histogram", out var histogram) && histogram.ValueKind == JsonValueKind.Array)
        {
            var child = _latency.WithLabels(server);
            foreach (var bucket in histogram.EnumerateArray())
            {
                if (bucket.ValueKind == JsonValueKind.Object && Number(bucket, "leUs") is double upperUs && upperUs >= 0
                    && Number(bucket, "count") is double n && n > 0)
                {
                    child.Observe(upperUs / 1e6, (long)n);
                }
            }
        }
    }

    private void AddMalformed(string server, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        _checked.WithLabels(server).Inc(Math.Max(0, Number(data, "total") ?? 0));
        if (data.TryGetProperty("reasons", out var reasons) && reasons.ValueKind == JsonValueKind.Object)
        {
            foreach (var reason in reasons.EnumerateObject())
            {
                if (reason.Name != "ok" && reason.Value.ValueKind == JsonValueKind.Object && Number(reason.Value, "count") is double n && n > 0)
                {
                    _malformed.WithLabels(server, Bounded("ratadns_dns_malformed_messages_total", server, reason.Name)).Inc(n);
                }
            }
        }
    }

    /// <summary>The value itself while the family has fewer than the bound's distinct values for the server; <see cref="Other"/> after.</summary>
    private string Bounded(string family, string server, string value)
    {
        if (!_labelValues.TryGetValue((family, server), out var seen))
        {
            _labelValues[(family, server)] = seen = new HashSet<string>(StringComparer.Ordinal);
        }

        if (seen.Contains(value))
        {
            return value;
        }

        if (seen.Count >= _options.MaxLabelValues)
        {
            return Other;
        }

        seen.Add(value);
        return value;
    }

    private static double? Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? Count(value) : null;

    private static double? Count(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && double.IsFinite(d) ? d : null;
}

/// <summary>The bounds of <see cref="DnsStatistics"/>.</summary>
public sealed class DnsStatisticsOptions
{
    /// <summary>Distinct values of a traffic-derived label (QTYPE, RCODE, QCLASS, OPCODE, EDNS version, malformed reason,
    /// reducer type) per server and family; later values are counted as <see cref="DnsStatistics.Other"/>.</summary>
    public int MaxLabelValues { get; init; } = 64;

    /// <summary>Entries of each top list exposed per server (ranks 1 to this).</summary>
    public int TopLimit { get; init; } = 10;
}
