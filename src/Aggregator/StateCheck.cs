using RataDns.Reducers.State;

namespace RataDns.Aggregator;

/// <summary>
/// Reads a received state once into a reducer of its type and options (the catalog's), so it can be merged: the
/// header must name the result's type and options a reducer here accepts. A state that is not one is released (the
/// result keeps its view).
/// </summary>
public static class StateCheck
{
    /// <summary>What became of a result's state.</summary>
    public enum Outcome
    {
        /// <summary>No state to check.</summary>
        None,

        /// <summary>Read and accepted: the result merges by state.</summary>
        Accepted,

        /// <summary>A type or options no reducer here can merge (released).</summary>
        NotMergeable,

        /// <summary>Not a state of this type (released).</summary>
        Damaged,
    }

    /// <summary>Checks <paramref name="result"/>'s state; <paramref name="problem"/> says why when it is not accepted.</summary>
    public static Outcome Check(WindowResult result, ReducerCatalog catalog, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(catalog);
        problem = null;
        if (result.State is not { Container: { } container } state)
        {
            return Outcome.None;
        }

        try
        {
            var header = ReducerState.ReadHeader(container);
            if (!string.Equals(header.Type, result.Type, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"the state is of type {header.Type}, the result of type {result.Type}");
            }

            var entry = catalog.For(header.Type, header.Options);
            if (entry.Prototype is null)
            {
                state.Release();
                problem = entry.Problem;
                return Outcome.NotMergeable;
            }

            entry.Check(header);
            state.Accept(header, entry);
            return Outcome.Accepted;
        }
        catch (InvalidDataException e)
        {
            state.Release();
            problem = e.Message;
            return Outcome.Damaged;
        }
    }
}
