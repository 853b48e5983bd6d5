using System.Net;
using System.Net.Sockets;

namespace FlagExport.Testing;

/// <summary>A loopback port nothing listens on, for an endpoint that refuses connections.</summary>
public static class ClosedPort
{
    /// <summary>A port the system just handed out and that was released at once: a connection to it is refused.</summary>
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
