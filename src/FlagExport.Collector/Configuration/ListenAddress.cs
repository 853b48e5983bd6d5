using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The address the relay proxy's own keys ask for: <c>server.port</c> (or the older top-level <c>listen</c>),
/// <c>server.host</c> and <c>server.unixSocket</c>, so that a relay proxy configuration file keeps its port.
/// </summary>
/// <remarks>
/// ASP.NET Core's <c>--urls</c>, <c>ASPNETCORE_URLS</c> and Kestrel endpoints take precedence over these. Unlike the relay
/// proxy, whose host defaults to 0.0.0.0, the host defaults to 127.0.0.1 here, as the collector's own default address
/// does: listening on every interface is something to ask for.
/// </remarks>
internal static class ListenAddress
{
    /// <summary>The host used when only a port is given.</summary>
    public const string DefaultHost = "127.0.0.1";

    /// <summary>The URLs to listen on, separated by <c>;</c>, or <see langword="null"/> when none of the keys is set.</summary>
    public static string? Read(IConfiguration configuration, List<string> errors)
    {
        IConfigurationSection server = configuration.GetSection("server");
        if (server["mode"] is { } mode && !mode.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"server.mode: '{mode}' is not supported; the collector runs as an HTTP server (mode http).");
        }

        int? port = ReadPort(server["port"], "server.port", errors) ?? ReadPort(configuration["listen"], "listen", errors);
        string? host = server["host"];
        if (host is not null && Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
        {
            errors.Add($"server.host: must be a host name or an IP address such as 0.0.0.0; got '{host}'.");
            host = null;
        }

        var urls = new List<string>();
        if (server["unixSocket"] is { } socket)
        {
            if (socket.Length == 0 || !socket.StartsWith('/'))
            {
                errors.Add($"server.unixSocket: must be an absolute path; got '{socket}'.");
            }
            else
            {
                urls.Add("http://unix:" + socket);
            }
        }

        // A socket alone replaces the TCP address; a host or port (with the other defaulted) adds one.
        if (port is not null || host is not null)
        {
            urls.Add($"http://{Bracketed(host ?? DefaultHost)}:{(port ?? 1031).ToString(CultureInfo.InvariantCulture)}");
        }

        return urls.Count == 0 ? null : string.Join(';', urls);
    }

    private static int? ReadPort(string? text, string key, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535)
        {
            return port;
        }

        errors.Add($"{key}: must be a TCP port between 1 and 65535; got '{text}'.");
        return null;
    }

    /// <summary>An IPv6 address goes in brackets in a URL.</summary>
    private static string Bracketed(string host) =>
        host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
}
