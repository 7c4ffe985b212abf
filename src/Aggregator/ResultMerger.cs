using System.Buffers;
using System.Text.Json;
using RataDns.Reducers;
using RataDns.Reducers.State;

namespace RataDns.Aggregator;

/// <summary>
/// Merges the results of several windows (of one server or of many) of one reducer type into one view, with the
/// reducer's own code: each result's state is read into an instance made by the <see cref="ReducerCatalog"/> (the
/// same type and options as on the monitor), each server's windows are folded in time order
/// (<see cref="Reducer.MergeLater"/>), the servers are merged (<see cref="Reducer.Merge"/>), and the view is written
/// by <see cref="Reducer.WriteData"/> for the span from the first window's start to the last one's end, with the
/// heavy hitters' error bounds (<see cref="ReducerWindow.IncludeBounds"/>). That is the view one monitor would have
/// written for all that traffic in one window, exact where the reducer is exact and within its stated bounds
/// otherwise.
/// <para>
/// Results without state (older monitors, other tools, Redis) and states that cannot be merged together (different
/// options) fall back to <see cref="ViewMerger"/> by the reducer's <see cref="Reducer.ViewMerge"/> rule, and the
/// outcome says it is approximate. A type with neither a reducer here nor a view rule is reported, not guessed.
/// </para>
/// </summary>
public static class ResultMerger
{
    /// <summary>Merges <paramref name="results"/> (all of type <paramref name="type"/>, any servers, any order).</summary>
    public static MergeOutcome Merge(string type, IReadOnlyList<WindowResult> results, ReducerCatalog catalog, int maxListItems = 1000)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(catalog);
        if (results.Count == 0)
        {
            throw new ArgumentException("Nothing to merge.", nameof(results));
        }

        var problems = new List<string>();
        var withState = new List<(WindowResult Result, CheckedState State)>();
        var viewsOnly = new List<WindowResult>();
        foreach (var result in results)
        {
            if (result.State?.Checked is { } state)
            {
                withState.Add((result, state));
            }
            else
            {
                viewsOnly.Add(result);
            }
        }

        // One catalog entry per type and options: states read into different entries do not merge together.
        var reducers = withState.Select(s => s.State.Reducer).Distinct().ToList();
        if (reducers.Count > 1)
        {
            problems.Add($"{type} states with different options ({string.Join(" and ", reducers.Select(r => r.OptionsKey))}) cannot be merged exactly; their views were merged instead");
            viewsOnly.AddRange(withState.Select(s => s.Result));
            withState.Clear();
        }

        WindowResult? fromState = null;
        if (withState.Count > 0)
        {
            var entry = reducers[0];
            if (entry.Prototype is not null)
            {
                try
                {
                    fromState = MergeStates(entry, withState);
                }
                catch (Exception e) when (e is ArgumentException or InvalidDataException)
                {
                    problems.Add($"{type} states could not be merged ({e.Message}); their views were merged instead");
                }
            }
            else
            {
                problems.Add($"{type} cannot be merged by its reducer: {entry.Problem}");
            }

            if (fromState is null)
            {
                viewsOnly.AddRange(withState.Select(s => s.Result));
            }
        }

        if (viewsOnly.Count == 0)
        {
            return new MergeOutcome(fromState!.Data, MergeMethod.State, Approximate: false, problems);
        }

        var rule = catalog.For(type).ViewMerge;
        List<WindowResult> views = fromState is null ? viewsOnly : [.. viewsOnly, fromState];
        var data = ViewMerger.Merge(rule, views, maxListItems);
        if (data is null)
        {
            problems.Add($"{type} cannot be merged: {catalog.For(type).Problem ?? "its reducer declares no rule for merging views"}; {views.Count} results were not combined");
            return new MergeOutcome(null, MergeMethod.None, Approximate: true, problems);
        }

        // One window's own view is exact; anything combined from views is not.
        return new MergeOutcome(data, fromState is null ? MergeMethod.Views : MergeMethod.StateAndViews, Approximate: views.Count > 1, problems);
    }

    /// <summary>
    /// Merges <paramref name="results"/> (one type, checked states) into one result of <paramref name="serverId"/> that
    /// carries the merged view and, when every result had a state of the same options, the merged state (a container
    /// <see cref="ReducerState"/> reads), so the result can be merged again later (history rollups). Null when nothing
    /// could be merged.
    /// </summary>
    public static WindowResult? MergeToResult(string type, IReadOnlyList<WindowResult> results, ReducerCatalog catalog, string serverId, int maxListItems = 1000)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            return null;
        }

        double start = results.Min(r => r.Start);
        double end = results.Max(r => r.End);
        long packets = results.Sum(r => r.Packets);
        long drops = results.Sum(r => r.Drops);
        var states = results.Select(r => (Result: r, State: r.State?.Checked)).ToList();
        if (states.All(s => s.State is not null) && states.Select(s => s.State!.Reducer).Distinct().Count() == 1 && states[0].State!.Reducer.Prototype is not null)
        {
            try
            {
                byte[]? container = null;
                var merged = MergeStates(states[0].State!.Reducer, [.. states.Select(s => (s.Result, s.State!))], total => container = ReducerState.ToArray(total, states[0].State!.Header.Options));
                return new WindowResult(type, serverId, (long)Math.Floor(end), start, end, -1, drops, merged.Data) { Packets = packets, State = container is null ? null : new StoredState(container) };
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or NotSupportedException)
            {
                // below: by views
            }
        }

        var outcome = Merge(type, results, catalog, maxListItems);
        return outcome.Data is { } data ? new WindowResult(type, serverId, (long)Math.Floor(end), start, end, -1, drops, data) { Packets = packets } : null;
    }

    /// <summary>
    /// The states merged: per server in time order, then across servers; the view as a result spanning them all.
    /// </summary>
    private static WindowResult MergeStates(ReducerCatalog.Entry entry, List<(WindowResult Result, CheckedState State)> states, Action<Reducer>? merged = null)
    {
        var total = entry.Rent();
        var server = entry.Rent();
        var window = entry.Rent();
        try
        {
            var result = MergeStates(total, server, window, states);
            merged?.Invoke(total);
            return result;
        }
        finally
        {
            entry.Return(total);
            entry.Return(server);
            entry.Return(window);
        }
    }

    private static WindowResult MergeStates(Reducer total, Reducer server, Reducer window, List<(WindowResult Result, CheckedState State)> states)
    {
        foreach (var group in states.GroupBy(s => s.Result.ServerId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            server.Clear();
            bool first = true;
            foreach (var (_, state) in group.OrderBy(s => s.Result.End).ThenBy(s => s.Result.Sequence))
            {
                ReducerState.ReadInto(window, state.Header.Body);
                if (first)
                {
                    server.Merge(window);
                    first = false;
                }
                else
                {
                    server.MergeLater(window);
                }
            }

            total.Merge(server);
        }

        double start = states.Min(s => s.Result.Start);
        double end = states.Max(s => s.Result.End);
        long packets = states.Sum(s => s.Result.Packets);
        var reducerWindow = new ReducerWindow(Nanoseconds(start), Nanoseconds(end), packets) { IncludeBounds = true };
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            total.WriteData(writer, in reducerWindow);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        var first0 = states[0].Result;
        return new WindowResult(first0.Type, "(merged)", (long)Math.Floor(end), start, end, -1, 0, document.RootElement.Clone()) { Packets = packets };
    }

    private static long Nanoseconds(double seconds) => (long)Math.Round(seconds * 1e9);
}

/// <summary>How a merged view was made.</summary>
public enum MergeMethod
{
    /// <summary>Every result's state merged by the reducer: exact, or within the reducer's stated bounds.</summary>
    State,

    /// <summary>Views only, by the reducer's view-merge rule: approximate.</summary>
    Views,

    /// <summary>Some results by state, the rest by view: approximate.</summary>
    StateAndViews,

    /// <summary>Not merged: the type has no reducer here and no view rule.</summary>
    None,
}

/// <summary>A merged view (null when <see cref="Method"/> is None), how it was made, and what stood in the way.</summary>
public sealed record MergeOutcome(JsonElement? Data, MergeMethod Method, bool Approximate, IReadOnlyList<string> Problems);
