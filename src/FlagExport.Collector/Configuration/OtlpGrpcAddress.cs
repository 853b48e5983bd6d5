using System.Globalization;
using System.Net;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// One address of <c>otlpGrpcUrls</c>: cleartext HTTP/2 on an IP address (<see cref="Address"/>) or on
/// <c>localhost</c> (<see cref="Address"/> <see langword="null"/>: both loopback addresses, as Kestrel binds it).
/// </summary>
/// <param name="Url">The URL as configured.</param>
/// <param name="Address">The IP address, or <see langword="null"/> for <c>localhost</c>.</param>
/// <param name="Port">The TCP port; 0 (a free port) only with an IP address.</param>
internal sealed record OtlpGrpcAddress(string Url, IPAddress? Address, int Port)
{
    /// <summary>The key that lists the addresses.</summary>
    public const string Key = "otlpGrpcUrls";

    /// <summary>
    /// Parses <c>http://HOST:PORT</c>, HOST an IP address (IPv6 in brackets) or <c>localhost</c>, or returns why not.
    /// Only an IP address or localhost: Kestrel binds any other name to every interface. Only cleartext, as the
    /// collector's main address: TLS is terminated in front of it.
    /// </summary>
    public static OtlpGrpcAddress? Parse(string url, out string? problem)
    {
        problem = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || !url.Contains("://", StringComparison.Ordinal))
        {
            problem = "is not an absolute URL";
        }
        else if (uri.Scheme != Uri.UriSchemeHttp)
        {
            problem = $"has the scheme '{uri.Scheme}'; gRPC is served on cleartext HTTP/2 (http://); terminate TLS in front of the collector";
        }
        else if (uri.UserInfo.Length > 0 || uri.PathAndQuery != "/" || uri.Fragment.Length > 0 || url.TrimEnd('/').EndsWith(':'))
        {
            problem = "must be only a scheme, a host and a port";
        }
        else if (uri.IsDefaultPort && !HasExplicitPort(url))
        {
            problem = "has no port; give one, such as http://127.0.0.1:4317 (0 for a free port)";
        }
        else if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return new OtlpGrpcAddress(url, IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port);
        }
        else if (uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (uri.Port != 0)
            {
                return new OtlpGrpcAddress(url, null, uri.Port);
            }

            problem = "asks for a free port (0) on localhost, which is two addresses; use 127.0.0.1:0 or [::1]:0";
        }
        else
        {
            problem = "must name an IP address (0.0.0.0 or [::] for every interface) or localhost";
        }

        return null;
    }

    /// <summary>The address as Kestrel reports a bound endpoint (<c>http://127.0.0.1:4317</c>), with the real port once bound.</summary>
    public static string Display(EndPoint endPoint) =>
        endPoint is IPEndPoint ip ? "http://" + ip.ToString() : "http://" + endPoint;

    /// <summary><c>http://localhost:PORT</c>, for the localhost form.</summary>
    public string LocalhostDisplay => "http://localhost:" + Port.ToString(CultureInfo.InvariantCulture);

    // "http://127.0.0.1:80" spells the default port; "http://127.0.0.1" does not.
    private static bool HasExplicitPort(string url)
    {
        int hostStart = url.IndexOf("://", StringComparison.Ordinal) + 3;
        int closingBracket = url.IndexOf(']', hostStart);
        return url.IndexOf(':', closingBracket >= 0 ? closingBracket : hostStart) >= 0;
    }
}
