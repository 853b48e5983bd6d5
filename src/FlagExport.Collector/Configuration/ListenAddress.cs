using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The address the relay proxy's own keys ask for, so that a relay proxy configuration file keeps its address:
/// <c>server.mode</c> (<c>http</c>, the default, or <c>unixsocket</c>), <c>server.port</c> (or the older top-level
/// <c>listen</c>), <c>server.host</c> and <c>server.unixSocketPath</c>.
/// </summary>
/// <remarks>
/// ASP.NET Core's <c>--urls</c>, <c>ASPNETCORE_URLS</c> and Kestrel endpoints take precedence over these; these take
/// precedence over <c>ASPNETCORE_HTTP_PORTS</c>, which .NET container images set to 8080 for every application. Unlike
/// the relay proxy, whose host defaults to 0.0.0.0, the host defaults to 127.0.0.1 here, as the collector's own default
/// address does: listening on every interface is something to ask for. For the same reason the host must be an IP
/// address or <c>localhost</c>: Kestrel binds any other name to every interface.
/// </remarks>
internal static class ListenAddress
{
    /// <summary>The host used when only a port is given.</summary>
    public const string DefaultHost = "127.0.0.1";

    /// <summary>The relay proxy's default port.</summary>
    public const int DefaultPort = 1031;

    /// <summary>The URL to listen on, or <see langword="null"/> when none of the keys asks for one.</summary>
    public static string? Read(IConfiguration configuration, List<string> errors, out string? unixSocketPath)
    {
        unixSocketPath = null;
        IConfigurationSection server = configuration.GetSection("server");
        if (string.Equals(configuration["startAsAwsLambda"], "true", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("startAsAwsLambda: AWS Lambda is not supported; the collector runs as an HTTP server.");
        }

        string mode = server["mode"] ?? "http";
        if (mode.Equals("unixsocket", StringComparison.OrdinalIgnoreCase))
        {
            string? path = server["unixSocketPath"];
            if (string.IsNullOrEmpty(path) || !path.StartsWith('/'))
            {
                errors.Add($"server.unixSocketPath: must be the absolute path of the socket when server.mode is unixsocket; got '{path}'.");
                return null;
            }

            unixSocketPath = path;
            return "http://unix:" + path; // as the relay proxy: the socket only, server.host and server.port unused
        }

        if (!mode.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"server.mode: '{mode}' is not supported; valid values are http, unixsocket (AWS Lambda is not supported).");
            return null;
        }

        int? port = ReadPort(server["port"], "server.port", errors) ?? ReadPort(configuration["listen"], "listen", errors);
        string? host = server["host"];
        if (host is not null && !IsIpAddressOrLocalhost(host))
        {
            errors.Add($"server.host: must be an IP address (0.0.0.0 or :: for every interface) or localhost; got '{host}'.");
            return null;
        }

        return port is null && host is null
            ? null
            : $"http://{Bracketed(host ?? DefaultHost)}:{(port ?? DefaultPort).ToString(CultureInfo.InvariantCulture)}";
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

    private static bool IsIpAddressOrLocalhost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(host.Trim('[', ']'), out _);

    /// <summary>An IPv6 address goes in brackets in a URL.</summary>
    private static string Bracketed(string host) =>
        host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
}
