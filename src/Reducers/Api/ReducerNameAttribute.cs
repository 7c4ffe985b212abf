namespace RataDns.Reducers;

/// <summary>
/// The name a reducer from a user's assembly (a plugin) is given in the configuration, when it is not the class
/// name: <c>[ReducerName("DoBitRatio")] public sealed class DnssecOkRatioReducer : Reducer</c>. The loader finds
/// plugin reducers by this name (or the class name) without constructing them; the reducer's
/// <see cref="Reducer.Type"/> must return the same name, since it is written as the results' <c>type</c>.
/// </summary>
/// <param name="name">The reducer's type name, e.g. <c>DoBitRatio</c>; not empty.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ReducerNameAttribute(string name) : Attribute
{
    /// <summary>The reducer's type name as written in the configuration and in its results.</summary>
    public string Name { get; } = name;
}
