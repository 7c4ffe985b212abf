using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RataDns.Aggregator.Web;

/// <summary>
/// The aggregator's HTTP side: a JSON API over an <see cref="IAggregatorView"/>, server-sent events as results
/// arrive, and the dashboard, whose files are embedded in this assembly.
/// </summary>
public static class AggregatorWeb
{
    /// <summary>The embedded dashboard files' resource name prefix (the csproj embeds <c>Web/wwwroot/*</c>).</summary>
    private const string DashboardResourcePrefix = "RataDns.Aggregator.Web.wwwroot";

    /// <summary>The most types one <c>/api/merged?types=</c> request may name.</summary>
    public const int MaxTypesPerRequest = 64;

    /// <summary>The scope that merges every server.</summary>
    public const string AllScope = "all";

    /// <summary>
    /// A configured application, not yet started: <c>await app.StartAsync()</c> (or <c>RunAsync</c>), then
    /// <see cref="BoundAddresses"/> when a port was 0. The API has no authentication: keep it on loopback or
    /// behind a proxy that has.
    /// </summary>
    public static WebApplication Build(IAggregatorView view, AggregatorWebOptions options)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Urls.Count == 0)
        {
            throw new ArgumentException("at least one URL to listen on is needed", nameof(options));
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(AggregatorWeb).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        // ASP.NET Core's own lines go where the program's go (standard error, one line each), never to standard output;
        // a failure to start is reported by the caller, once.
        builder.Logging.ClearProviders();
        if (options.Log is { } log)
        {
            builder.Logging.AddProvider(new ForwardingLoggerProvider(log));
        }

        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, WebJson.Default));
        builder.Services.AddSingleton(view);
        builder.Services.AddSingleton(options);

        var app = builder.Build();
        app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
            headers.CacheControl = "no-cache";
            return next(context);
        });

        var dashboard = new EmbeddedFileProvider(typeof(AggregatorWeb).Assembly, DashboardResourcePrefix);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = dashboard });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = dashboard });

        MapApi(app, view, options);
        if (options.Metrics is { } registry)
        {
            app.MapGet("/metrics", async context =>
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            });
        }

        return app;
    }

    /// <summary>The addresses Kestrel listens on, with the ports it took; valid once the application has started.</summary>
    public static IReadOnlyList<Uri> BoundAddresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        return addresses is null ? [] : [.. addresses.Select(a => new Uri(a))];
    }

    /// <summary>The name of the embedded dashboard files, for checks that they were packed.</summary>
    public static IReadOnlyList<string> DashboardFiles() =>
        [.. Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(n => n.StartsWith(DashboardResourcePrefix + ".", StringComparison.Ordinal))
            .Select(n => n[(DashboardResourcePrefix.Length + 1)..])];

    private static void MapApi(WebApplication app, IAggregatorView view, AggregatorWebOptions options)
    {
        var api = app.MapGroup("/api");

        api.MapGet("/health", () =>
        {
            var monitors = view.Monitors();
            int stale = monitors.Count(m => m.Stale);
            string status = Health(monitors.Count, stale);
            return TypedResults.Json(
                new HealthResponse(status, monitors.Count, stale), WebJson.Default.HealthResponse, statusCode: status == "down" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        });
        api.MapGet("/servers", () => TypedResults.Json(view.Monitors(), WebJson.Default.IReadOnlyListMonitorStatus));
        api.MapGet("/spans", () => TypedResults.Json(view.Spans(), WebJson.Default.IReadOnlyListString));
        api.MapGet("/types", () => TypedResults.Json(view.Types(), WebJson.Default.IReadOnlyListString));
        api.MapGet("/merged", (string? types, string? scope, string? span, string? at) => MergedMany(view, types, scope, span, at));
        api.MapGet("/merged/{type}", (string type, string? scope, string? span) => Merged(view, type, scope, span));
        api.MapGet("/history/{type}", (string type, string? scope, string? from, string? to, string? last) => History(view, options, type, scope, from, to, last));
        api.MapGet("/events", (HttpContext context, IHostApplicationLifetime lifetime) =>
            EventStream.Serve(context, view, options, lifetime.ApplicationStopping));
        api.MapFallback(() => Error(StatusCodes.Status404NotFound, "no such API endpoint"));
    }

    /// <summary>
    /// <c>waiting</c> (no monitor has sent anything yet), <c>ok</c> (every monitor sends), <c>degraded</c> (some are
    /// stale) or <c>down</c> (every one is stale; HTTP 503, for a load balancer's or a prober's check).
    /// </summary>
    public static string Health(int monitors, int stale) =>
        monitors == 0 ? "waiting" : stale == monitors ? "down" : stale > 0 ? "degraded" : "ok";

    private static IResult Merged(IAggregatorView view, string type, string? scope, string? span)
    {
        scope = string.IsNullOrEmpty(scope) ? AllScope : scope;
        var spans = view.Spans();
        span = string.IsNullOrEmpty(span) ? spans.FirstOrDefault() ?? "1m" : span;
        if (CheckTypeAndScope(view, type, scope) is { } error)
        {
            return error;
        }

        if (!spans.Contains(span, StringComparer.Ordinal))
        {
            return Error(StatusCodes.Status400BadRequest, $"unknown span '{span}'; spans: {string.Join(", ", spans)}");
        }

        var merged = view.Merged(type, scope, span);
        return merged is null
            ? Error(StatusCodes.Status404NotFound, $"no {type} results for scope '{scope}' in span {span}")
            : TypedResults.Json(merged, WebJson.Default.MergedResult);
    }

    /// <summary>
    /// Several types at once (<c>types</c> comma-separated, at most <see cref="MaxTypesPerRequest"/>): a map from
    /// each type to its merged result, or null when the view has none; <c>at</c> (optional) ends the span at a past
    /// time instead of the newest window (the dashboard's rewind, merged here by the reducers like any span). The dashboard reads its panels this way,
    /// in one request and without a 404 per empty panel.
    /// </summary>
    private static IResult MergedMany(IAggregatorView view, string? typeList, string? scope, string? span, string? atText)
    {
        if (!HistoryRange.TryParseTime(atText, out var at))
        {
            return Error(StatusCodes.Status400BadRequest, "at is an ISO 8601 time or seconds since 1970");
        }

        scope = string.IsNullOrEmpty(scope) ? AllScope : scope;
        var spans = view.Spans();
        span = string.IsNullOrEmpty(span) ? spans.FirstOrDefault() ?? "1m" : span;
        var types = (typeList ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (types.Length == 0 || types.Length > MaxTypesPerRequest)
        {
            return Error(StatusCodes.Status400BadRequest, $"types is a comma-separated list of 1 to {MaxTypesPerRequest} reducer types");
        }

        if (scope != AllScope && !view.Monitors().Any(m => m.ServerId == scope))
        {
            return Error(StatusCodes.Status404NotFound, $"unknown server '{scope}'");
        }

        if (!spans.Contains(span, StringComparer.Ordinal))
        {
            return Error(StatusCodes.Status400BadRequest, $"unknown span '{span}'; spans: {string.Join(", ", spans)}");
        }

        var known = view.Types();
        var results = new Dictionary<string, MergedResult?>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            results[type] = known.Contains(type, StringComparer.Ordinal) ? view.Merged(type, scope, span, at) : null;
        }

        return TypedResults.Json(results, WebJson.Default.DictionaryStringMergedResult);
    }

    private static IResult History(IAggregatorView view, AggregatorWebOptions options, string type, string? scope, string? fromText, string? toText, string? lastText)
    {
        scope = string.IsNullOrEmpty(scope) ? AllScope : scope;
        if (CheckTypeAndScope(view, type, scope) is { } error)
        {
            return error;
        }

        if (!HistoryRange.TryParseTime(fromText, out var from) || !HistoryRange.TryParseTime(toText, out var to))
        {
            return Error(StatusCodes.Status400BadRequest, "from and to are ISO 8601 times or seconds since 1970");
        }

        TimeSpan? last = null;
        if (lastText is not null)
        {
            if (fromText is not null || !HistoryRange.TryParseLength(lastText, out var length))
            {
                return Error(StatusCodes.Status400BadRequest, "last is a length (30s, 15m, 6h, 30d) and goes without from");
            }

            last = length;
        }

        to ??= HistoryRange.Newest(view, type, scope) ?? options.TimeProvider.GetUtcNow();
        from ??= to.Value - (last ?? options.DefaultHistory);
        if (from > to)
        {
            return Error(StatusCodes.Status400BadRequest, "from is after to");
        }

        return TypedResults.Json(view.History(type, scope, from.Value, to.Value), WebJson.Default.IReadOnlyListMergedResult);
    }

    private static JsonHttpResult<ErrorResponse>? CheckTypeAndScope(IAggregatorView view, string type, string scope)
    {
        if (!view.Types().Contains(type, StringComparer.Ordinal))
        {
            return Error(StatusCodes.Status404NotFound, $"unknown type '{type}'");
        }

        if (scope != AllScope && !view.Monitors().Any(m => m.ServerId == scope))
        {
            return Error(StatusCodes.Status404NotFound, $"unknown server '{scope}'");
        }

        return null;
    }

    private static JsonHttpResult<ErrorResponse> Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), WebJson.Default.ErrorResponse, statusCode: status);
}
