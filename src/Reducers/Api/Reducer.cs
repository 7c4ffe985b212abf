using System.Text.Json;
using MessagePack;

namespace RataDns.Reducers;

/// <summary>
/// A preliminary reducer (Fievel's term): it observes every packet of a window, writes the window's result as the
/// <c>data</c> value of its envelope, and resets. Partial states can be merged, so several workers (or monitors)
/// can each reduce part of the traffic and a merger combines them: observing a split of the packets in two
/// reducers and merging them gives the same result as observing all of them in one (up to the documented bounds).
/// <para>
/// One meaning per reducer: the same <see cref="Merge"/> combines the partials of the workers of one window, and the
/// states of windows and monitors in an aggregator, which reads them back with <see cref="ReadState"/> (see
/// docs/architecture.md). A reducer that can travel that way overrides <see cref="HasState"/>, <see cref="WriteState"/>
/// and <see cref="ReadState"/>; the container around its state (format version, type, options) is written by
/// <see cref="State.ReducerState"/>.
/// </para>
/// <para>
/// Rules for implementations: <see cref="Observe"/> allocates nothing (state is preallocated and bounded, keys
/// are copied into owned buffers); strings are made only in <see cref="WriteData"/>. One instance belongs to one
/// thread.
/// </para>
/// </summary>
public abstract class Reducer
{
    /// <summary>The reducer's type, as named in the configuration and written as the envelope's <c>type</c>.</summary>
    public abstract string Type { get; }

    /// <summary>Takes one packet into the current window.</summary>
    public abstract void Observe(in DnsPacketView packet);

    /// <summary>
    /// Folds the partial state of <paramref name="other"/> (same concrete type and options, typically made with
    /// <see cref="CreateEmpty"/>) into this one. <paramref name="other"/> is not changed.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="other"/> is another kind of reducer, or this one.</exception>
    public abstract void Merge(Reducer other);

    /// <summary>Writes the JSON value of the result's <c>data</c> for <paramref name="window"/>.</summary>
    public abstract void WriteData(Utf8JsonWriter writer, in ReducerWindow window);

    /// <summary>Forgets the window's state, keeping preallocated memory.</summary>
    public abstract void Reset();

    /// <summary>
    /// True for a reducer whose <see cref="Reset"/> keeps state for the next windows (pending queries, say). The
    /// engine hands such a reducer's window to the merger by merging it into a spare instance; any other reducer is
    /// simply exchanged with an empty spare (no copy at all).
    /// </summary>
    public virtual bool KeepsStateAcrossWindows => false;

    /// <summary>
    /// Forgets everything, including state a reducer deliberately keeps across windows in <see cref="Reset"/> (such
    /// as queries still waiting for their response). The engine clears the spare sets that carry a window's state
    /// from a worker to the merger, so that state is never counted twice. By default the same as <see cref="Reset"/>.
    /// </summary>
    public virtual void Clear() => Reset();

    /// <summary>A fresh, empty reducer of the same type and options (a per-worker partial).</summary>
    public abstract Reducer CreateEmpty();

    /// <summary>
    /// True when this reducer writes its mergeable state (<see cref="WriteState"/>) and reads it back
    /// (<see cref="ReadState"/>), so windows and monitors merge exactly downstream. False for a reducer that only
    /// writes its view: an aggregator then reports its type as one it cannot merge.
    /// </summary>
    public virtual bool HasState => false;

    /// <summary>
    /// Writes the window's mergeable state as one MessagePack value: everything <see cref="Merge"/> and
    /// <see cref="WriteData"/> need (counters, summaries with their error terms, sketches, histogram buckets), nothing
    /// that only serves matching within one monitor (pending exchanges). Called on the merger thread at the end of a
    /// window, after <see cref="WriteData"/>; the layout of each built-in reducer is in docs/wire-format.md.
    /// </summary>
    /// <exception cref="NotSupportedException"><see cref="HasState"/> is false.</exception>
    public virtual void WriteState(ref MessagePackWriter writer) =>
        throw new NotSupportedException($"{Type} does not write its state.");

    /// <summary>
    /// Replaces this instance's state (it was just made with <see cref="CreateEmpty"/> or cleared) with one written by
    /// <see cref="WriteState"/> of a reducer of the same type and options; the instance can then be merged and written
    /// like one that observed the packets. The bytes come from the network: every count and length is checked before
    /// it is trusted, and nothing grows beyond the reducer's own bounds.
    /// </summary>
    /// <exception cref="InvalidDataException">The value is well-formed MessagePack but not a state this reducer writes
    /// (a count beyond its capacity, a bucket out of range, other options).</exception>
    /// <exception cref="MessagePackSerializationException">The MessagePack itself is malformed (also
    /// <see cref="EndOfStreamException"/> for a value cut short).</exception>
    /// <exception cref="NotSupportedException"><see cref="HasState"/> is false.</exception>
    public virtual void ReadState(ref MessagePackReader reader) =>
        throw new NotSupportedException($"{Type} does not read a state.");

    /// <summary>
    /// Folds the state of a later window of the same traffic (the same monitor, <paramref name="later"/> ending after
    /// this one) into this one. The same as <see cref="Merge"/> for every reducer whose view sums over the window; a
    /// reducer whose view also holds a level at the window's end (ResponseLatency's queries still pending) takes the
    /// later window's level. An aggregator merges each monitor's windows in time order with this, then monitors with
    /// <see cref="Merge"/>.
    /// </summary>
    public virtual void MergeLater(Reducer later) => Merge(later);

    /// <summary>
    /// How the JSON views of this reducer combine when only views are at hand (results from monitors that send no
    /// state: older RataDns, other tools, Redis pub/sub). Such a merge is approximate; <see cref="ViewMergeRule.None"/>
    /// (the default) means the views cannot be combined and the aggregator reports so.
    /// </summary>
    public virtual ViewMergeRule ViewMerge => ViewMergeRule.None;

    /// <summary>
    /// The checks every <see cref="Merge"/> starts with: <paramref name="other"/> has this concrete type and
    /// <see cref="Type"/>, and is another instance.
    /// </summary>
    protected TReducer RequireMergeable<TReducer>(Reducer other)
        where TReducer : Reducer
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.GetType() != GetType() || other is not TReducer same || !string.Equals(other.Type, Type, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Cannot merge a {other.Type} ({other.GetType().Name}) into a {Type} ({GetType().Name}).", nameof(other));
        }

        if (ReferenceEquals(other, this))
        {
            throw new ArgumentException("A reducer cannot be merged into itself.", nameof(other));
        }

        return same;
    }
}
