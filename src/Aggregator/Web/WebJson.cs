using System.Text.Json;
using System.Text.Json.Serialization;

namespace RataDns.Aggregator.Web;

/// <summary><c>GET /api/health</c>.</summary>
public sealed record HealthResponse(string Status, int Monitors, int Stale);

/// <summary>The body of every 4xx answer.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>The <c>state</c> event: sent once, at once, when a client connects to <c>/api/events</c>.</summary>
public sealed record StateEvent(IReadOnlyList<MonitorStatus> Servers, IReadOnlyList<string> Types, IReadOnlyList<string> Spans);

/// <summary>
/// The <c>update</c> event: results received since the previous event to this client (coalesced).
/// <see cref="TimeStamp"/> is the newest window time among them.
/// </summary>
public sealed record UpdateEvent(IReadOnlyList<string> Types, IReadOnlyList<string> Servers, long Results, DateTimeOffset TimeStamp);

/// <summary>
/// Source-generated JSON with the web defaults (camelCase names). <see cref="MergedResult.Data"/> is a
/// <see cref="JsonElement"/> and is written as received.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(StateEvent))]
[JsonSerializable(typeof(UpdateEvent))]
[JsonSerializable(typeof(IReadOnlyList<MonitorStatus>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(MergedResult))]
[JsonSerializable(typeof(IReadOnlyList<MergedResult>))]
[JsonSerializable(typeof(Dictionary<string, MergedResult?>))]
public sealed partial class WebJson : JsonSerializerContext;
