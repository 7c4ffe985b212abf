using NetMQ;

namespace RataDns.Transport.ZeroMq;

/// <summary>Binds or connects a NetMQ socket to its endpoints: the one rule publishers and subscribers share.</summary>
public static class ZeroMqEndpoints
{
    /// <summary>
    /// Binds <paramref name="socket"/> to each endpoint (or connects to each when <paramref name="bind"/> is false)
    /// and adds to <paramref name="attached"/> the endpoints as they are in use: a bound <c>tcp://host:*</c> gives
    /// its real port.
    /// </summary>
    public static void Attach(NetMQSocket socket, IReadOnlyList<string> endpoints, bool bind, List<string> attached)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(attached);
        foreach (string endpoint in endpoints)
        {
            if (bind)
            {
                socket.Bind(endpoint);
                attached.Add(socket.Options.LastEndpoint ?? endpoint);
            }
            else
            {
                socket.Connect(endpoint);
                attached.Add(endpoint);
            }
        }
    }
}
