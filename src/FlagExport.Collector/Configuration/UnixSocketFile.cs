using System.Net.Sockets;

namespace FlagExport.Collector.Configuration;

/// <summary>Clears the way for a unix socket: a socket file left by a process that died is removed, as the relay proxy does.</summary>
/// <remarks>
/// Kestrel refuses to bind over an existing file, so a collector killed with SIGKILL could not start again. Only a
/// path nobody answers on is removed: a live socket means another process listens there. .NET does not tell a socket
/// from a file, so a file with content is left alone too (a socket file is always empty).
/// </remarks>
internal static class UnixSocketFile
{
    /// <summary>Removes a stale socket at <paramref name="path"/>; returns why the path cannot be used, or null.</summary>
    public static string? Prepare(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return null;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return $"server.unixSocketPath: '{path}' is in use: another process listens on it.";
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Nobody listens: a stale socket, unless it is a file that holds something.
        }
        catch (SocketException exception)
        {
            return $"server.unixSocketPath: '{path}' cannot be used: {exception.Message}.";
        }

        if (file.Length > 0)
        {
            return $"server.unixSocketPath: '{path}' is a file, not a socket; remove it or choose another path.";
        }

        file.Delete();
        return null;
    }
}
