using System.Buffers;
using System.Text.Json;
using RataDns.Reducers;

namespace RataDns.Transport.PrometheusExposition;

/// <summary>
/// A monitor's window sink that also feeds <see cref="DnsStatistics"/>: each window goes to the inner sink first
/// (the outputs), then the views of the reducers Prometheus families are made from are written once more to JSON and
/// taken by the statistics (the merger thread, once per window: a few kilobytes). A view that cannot be read is
/// skipped; the outputs never wait for it.
/// </summary>
public sealed class DnsStatisticsSink : IWindowResultSink
{
    private readonly IWindowResultSink _inner;
    private readonly DnsStatistics _statistics;
    private readonly string _serverId;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 14);
    private readonly Utf8JsonWriter _json;

    public DnsStatisticsSink(IWindowResultSink inner, DnsStatistics statistics, string serverId)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _statistics = statistics ?? throw new ArgumentNullException(nameof(statistics));
        _serverId = serverId ?? throw new ArgumentNullException(nameof(serverId));
        _json = new Utf8JsonWriter(_buffer);
    }

    public void OnWindow(in WindowSummary window, IReadOnlyList<Reducer> results)
    {
        _inner.OnWindow(window, results);
        var reducerWindow = window.ReducerWindow;
        for (int i = 0; i < results.Count; i++)
        {
            var reducer = results[i];
            if (!DnsStatistics.Reads(reducer.Type))
            {
                continue;
            }

            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            reducer.WriteData(_json, in reducerWindow);
            _json.Flush();
            using var document = JsonDocument.Parse(_buffer.WrittenMemory);
            _statistics.ObserveWindow(_serverId, reducer.Type, document.RootElement, window.Sequence);
        }
    }

    public void Complete() => _inner.Complete();
}
