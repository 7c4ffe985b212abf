using System.Text.Json;
using RataDns.Reducers;

namespace RataDns.Tests.Reducers.Plugins;

// Plugin reducers that break the rules, found when this test assembly is itself loaded as a plugin assembly. They
// are public (a plugin reducer must be) and named so that no test elsewhere mistakes them for real reducers.

/// <summary>A plugin reducer for the tests: counts packets, writes <c>{"packets": n}</c>.</summary>
public abstract class CountingTestReducer : Reducer
{
    private long _packets;

    public override void Observe(in DnsPacketView packet) => _packets++;

    public override void Merge(Reducer other) => _packets += RequireMergeable<CountingTestReducer>(other)._packets;

    public override void WriteData(Utf8JsonWriter writer, in ReducerWindow window)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("packets", _packets);
        writer.WriteEndObject();
    }

    public override void Reset() => _packets = 0;
}

/// <summary>Fine, with a parameterless constructor: it takes no options.</summary>
public sealed class ParameterlessTestReducer : CountingTestReducer
{
    public override string Type => nameof(ParameterlessTestReducer);

    public override Reducer CreateEmpty() => new ParameterlessTestReducer();
}

/// <summary>Its constructor fails with something other than a configuration error.</summary>
public sealed class ThrowingTestReducer : CountingTestReducer
{
    public ThrowingTestReducer(RataDns.Reducers.Configuration.ReducerConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        throw new InvalidOperationException("the lookup table is missing");
    }

    public override string Type => nameof(ThrowingTestReducer);

    public override Reducer CreateEmpty() => this;
}

/// <summary>Found as MisnamedTestReducer, but says its Type is something else.</summary>
public sealed class MisnamedTestReducer : CountingTestReducer
{
    public override string Type => "SomethingElse";

    public override Reducer CreateEmpty() => new MisnamedTestReducer();
}

/// <summary>No usable constructor.</summary>
public sealed class UnconstructibleTestReducer : CountingTestReducer
{
    public UnconstructibleTestReducer(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
    }

    public override string Type => nameof(UnconstructibleTestReducer);

    public override Reducer CreateEmpty() => new UnconstructibleTestReducer(0);
}
