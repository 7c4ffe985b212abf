using System.Text.Json;

namespace RataDns.Reducers;

/// <summary>
/// A preliminary reducer (Fievel's term): it observes every packet of a window, writes the window's result as the
/// <c>data</c> value of its envelope, and resets. Partial states can be merged, so several workers (or monitors)
/// can each reduce part of the traffic and a merger combines them: observing a split of the packets in two
/// reducers and merging them gives the same result as observing all of them in one (up to the documented bounds).
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
