using System.Text.Json;
using RataDns.Aggregator;

namespace RataDns.Tests.Aggregator.Web;

/// <summary>
/// An <see cref="IAggregatorView"/> with canned data for the web tests: two servers (ns1 fresh, ns2 stale), every
/// type the dashboard draws, and one history window a minute for ten minutes ending at <see cref="Newest"/>.
/// </summary>
internal sealed class FakeAggregatorView : IAggregatorView
{
    public static readonly DateTimeOffset Newest = DateTimeOffset.FromUnixTimeSeconds(1_767_225_600);

    private static readonly Dictionary<string, string> DataByType = new(StringComparer.Ordinal)
    {
        ["PacketsQueriesAndAnswersPerSecond"] = """{"pps":199.4,"qps":99.7,"aps":99.7}""",
        ["TopNQ"] = """[["www.yoze391.de.",26],["tozu228.test.",13]]""",
        ["QueriesSummary"] = """{"10.0.0.1":{"A":["www.yoze391.de."],"AAAA":["tozu228.test."]},"10.0.0.2":{"A":["www.yoze391.de."]}}""",
        ["RcodeCounter"] = """{"NOERROR":218,"NXDOMAIN":32}""",
        ["QtypeCounter"] = """{"A":156,"AAAA":54,"TXT":24,"MX":10}""",
        ["ResponseLatency"] = """{"matched":250,"unanswered":0,"unsolicited":0,"untracked":0,"pending":0,"latencyUs":{"p50":5375,"p90":8191,"p99":8986,"p999":8986,"max":8986},"histogram":[{"leUs":1087,"count":1}]}""",
        ["MalformedCounter"] = """{"total":500,"malformed":2,"reasons":{"ok":{"count":498,"examples":[]},"truncated":{"count":2,"examples":[{"client":"10.0.0.9","qname":"x.test.","offset":12,"section":"question","size":14}]}}}""",
        ["QueriesWithUnderscoredName"] = """{"my_host.hune126.de.":[{"sender":"10.226.45.43","server":"192.0.2.53","query":{"qname":"my_host.hune126.de.","qtype":"A","qclass":"IN"}}]}""",
        ["TopNxdomainNames"] = """{"total":32,"top":[{"name":"fx7crxm8vqx.tipe473.net.","count":6,"error":0}]}""",
    };

    private readonly Lock _gate = new();
    private List<MonitorStatus> _monitors =
    [
        new("ns1", Newest, 120, 0, 0, false, [.. DataByType.Keys]),
        new("ns2", Newest.AddMinutes(-30), 40, 3, 17, true, ["PacketsQueriesAndAnswersPerSecond"]),
    ];

    public event Action<AggregatorUpdate>? Updated;

    public IReadOnlyList<MonitorStatus> Monitors()
    {
        lock (_gate)
        {
            return [.. _monitors];
        }
    }

    public IReadOnlyList<string> Spans() => ["1m", "5m", "15m"];

    public IReadOnlyList<string> Types() => [.. DataByType.Keys];

    public MergedResult? Merged(string type, string scope, string span, DateTimeOffset? at = null)
    {
        if (!DataByType.TryGetValue(type, out var json) || !Spans().Contains(span) || (scope != "all" && scope != "ns1"))
        {
            return null;
        }

        var minutes = int.Parse(span.TrimEnd('m'), System.Globalization.CultureInfo.InvariantCulture);
        return new MergedResult(type, scope, span, Newest.AddMinutes(-minutes), Newest, minutes, Parse(json));
    }

    public IReadOnlyList<MergedResult> History(string type, string scope, DateTimeOffset from, DateTimeOffset to)
    {
        if (!DataByType.TryGetValue(type, out var json))
        {
            return [];
        }

        return [.. Enumerable.Range(0, 10)
            .Select(i => Newest.AddMinutes(i - 9))
            .Where(end => end >= from && end <= to)
            .Select(end => new MergedResult(type, scope, "window", end.AddMinutes(-1), end, 1, Parse(json)))];
    }

    /// <summary>As the store does when a result arrives: a new monitor appears, and the event is raised.</summary>
    public void Receive(string type, string serverId)
    {
        lock (_gate)
        {
            if (!_monitors.Any(m => m.ServerId == serverId))
            {
                _monitors = [.. _monitors, new MonitorStatus(serverId, Newest, 1, 0, 0, false, [type])];
            }
        }

        Updated?.Invoke(new AggregatorUpdate(type, serverId, 7, Newest));
    }

    /// <summary>Handlers still attached (a disconnected event stream must have removed its own).</summary>
    public int Subscribers => Updated?.GetInvocationList().Length ?? 0;

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
