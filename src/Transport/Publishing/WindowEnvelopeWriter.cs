using System.Buffers;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.State;

namespace RataDns.Transport.Publishing;

/// <summary>
/// Where each reducer's results go: its channel and channel name, in the order of the configuration's reducers, the
/// options it was configured with (written into its state, so a reader makes the same reducer), and every distinct
/// channel (flushed at each window's end).
/// </summary>
public interface IReducerOutputs
{
    IReadOnlyList<IResultChannel> PerReducer { get; }

    IReadOnlyList<string> ChannelNames { get; }

    IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> ReducerOptions { get; }

    IReadOnlyList<IResultChannel> Distinct { get; }
}

/// <summary>
/// Writes each reducer's result of a window in the Fievel envelope <c>{"type","serverId","timeStamp","data"}</c> plus
/// <c>"window":{"start","end","packets","messages","drops","sequence","partial"}</c> (times in seconds since 1970 of
/// packet time), one JSON object per line, to the reducer's output, and flushes the outputs at each window. Count
/// windows hold exactly W DNS packets and span from the first to the last one's timestamp; time windows are aligned
/// on multiples of their length since 1970, and one without packets writes nothing. The last window, cut short by
/// the end of the input or an interruption, is marked partial. Outputs that carry state (ZeroMQ) also get each
/// reducer's mergeable state container (<see cref="ReducerState"/>). Runs on the engine's merger thread.
/// </summary>
public sealed class WindowEnvelopeWriter : IWindowResultSink
{
    private readonly string _serverId;
    private readonly IReducerOutputs _channels;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly ArrayBufferWriter<byte> _state = new(1 << 16);
    private readonly Utf8JsonWriter _json;

    public WindowEnvelopeWriter(string serverId, IReducerOutputs channels)
    {
        _serverId = serverId;
        _channels = channels;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public void OnWindow(in WindowSummary window, IReadOnlyList<Reducer> results)
    {
        var reducerWindow = window.ReducerWindow;
        for (int i = 0; i < results.Count; i++)
        {
            var reducer = results[i];
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            _json.WriteStartObject();
            _json.WriteString("type", reducer.Type);
            _json.WriteString("serverId", _serverId);
            _json.WriteNumber("timeStamp", window.EndNanoseconds / 1_000_000_000);
            _json.WritePropertyName("data");
            reducer.WriteData(_json, in reducerWindow);
            _json.WriteStartObject("window");
            _json.WriteNumber("start", window.StartNanoseconds / 1e9);
            _json.WriteNumber("end", window.EndNanoseconds / 1e9);
            _json.WriteNumber("packets", window.Packets);
            _json.WriteNumber("messages", window.Messages);
            _json.WriteNumber("drops", window.Drops);
            _json.WriteNumber("sequence", window.Sequence);
            _json.WriteBoolean("partial", window.Partial);
            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.Flush();
            var channel = _channels.PerReducer[i];
            _state.ResetWrittenCount();
            if (channel.CarriesState && reducer.HasState)
            {
                ReducerState.Write(_state, reducer, _channels.ReducerOptions[i]);
            }

            channel.Publish(new ResultEnvelope(reducer.Type, _serverId, _channels.ChannelNames[i], _buffer.WrittenSpan, _state.WrittenSpan));
        }

        foreach (var channel in _channels.Distinct)
        {
            channel.EndOfWindow();
        }
    }

    public void Complete()
    {
        foreach (var channel in _channels.Distinct)
        {
            channel.EndOfWindow();
        }
    }
}
