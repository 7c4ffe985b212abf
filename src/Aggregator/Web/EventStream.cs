using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace RataDns.Aggregator.Web;

/// <summary>
/// <c>GET /api/events</c>: server-sent events. A <c>state</c> event at once, then an <c>update</c> event when results
/// arrive, at most one per <see cref="AggregatorWebOptions.UpdateInterval"/>, and a comment line when idle for
/// <see cref="AggregatorWebOptions.KeepAliveInterval"/>, both on <see cref="AggregatorWebOptions.TimeProvider"/>'s time.
/// </summary>
internal static class EventStream
{
    public static async Task Serve(HttpContext context, IAggregatorView view, AggregatorWebOptions options, CancellationToken stopping)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // The host's shutdown ends the stream too; otherwise Kestrel would wait for it until its shutdown timeout.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var token = ended.Token;
        var pending = new PendingUpdates();

        // Subscribe before reading the state, so a result stored in between is announced rather than lost.
        view.Updated += pending.Add;
        try
        {
            var state = new StateEvent(view.Monitors(), view.Types(), view.Spans());
            await WriteEvent(response, "state", state, WebJson.Default.StateEvent, token);
            while (true)
            {
                if (await pending.WaitAsync(options.KeepAliveInterval, options.TimeProvider, token))
                {
                    await WriteEvent(response, "update", pending.Take(), WebJson.Default.UpdateEvent, token);
                    await Task.Delay(options.UpdateInterval, options.TimeProvider, token);
                }
                else
                {
                    await response.Body.WriteAsync(":keep-alive\n\n"u8.ToArray(), token);
                    await response.Body.FlushAsync(token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away (RequestAborted, or Kestrel's ConnectionAbortedException on a write) or the host
            // is stopping: the normal ends of a stream.
        }
        catch (IOException)
        {
            // A write to a connection the client had just reset.
        }
        finally
        {
            view.Updated -= pending.Add;
        }
    }

    private static async Task WriteEvent<T>(HttpResponse response, string name, T value, JsonTypeInfo<T> type, CancellationToken token)
    {
        // Compact JSON has no line breaks, so the payload is one `data:` line.
        var json = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var head = Encoding.UTF8.GetBytes($"event: {name}\ndata: ");
        await response.Body.WriteAsync(head, token);
        await response.Body.WriteAsync(json, token);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), token);
        await response.Body.FlushAsync(token);
    }

    /// <summary>
    /// Updates raised (on the aggregator's receiving thread) since the last event to one client. <see cref="Add"/>
    /// is quick and never blocks on the client; the sets are bounded so a flood of server ids cannot grow them.
    /// </summary>
    private sealed class PendingUpdates
    {
        private const int MaxNames = 256;
        private readonly Lock _gate = new();
        private readonly HashSet<string> _types = new(StringComparer.Ordinal);
        private readonly HashSet<string> _servers = new(StringComparer.Ordinal);
        private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        private long _results;
        private DateTimeOffset _newest;

        public void Add(AggregatorUpdate update)
        {
            lock (_gate)
            {
                if (_types.Count < MaxNames)
                {
                    _types.Add(update.Type);
                }

                if (_servers.Count < MaxNames)
                {
                    _servers.Add(update.ServerId);
                }

                _results++;
                if (update.TimeStamp > _newest)
                {
                    _newest = update.TimeStamp;
                }
            }

            _signal.Writer.TryWrite(true);
        }

        /// <summary>True when updates are pending; false when <paramref name="timeout"/> passed (on <paramref name="time"/>) with none.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken token)
        {
            using var timedOut = new CancellationTokenSource(timeout, time);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(token, timedOut.Token);
            try
            {
                await _signal.Reader.WaitToReadAsync(wait.Token);
                _signal.Reader.TryRead(out _);
                return true;
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                return false;
            }
        }

        public UpdateEvent Take()
        {
            lock (_gate)
            {
                var update = new UpdateEvent([.. _types.Order(StringComparer.Ordinal)], [.. _servers.Order(StringComparer.Ordinal)], _results, _newest);
                _types.Clear();
                _servers.Clear();
                _results = 0;
                return update;
            }
        }
    }
}
