using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Kestrel's HTTP/2-only endpoints for <c>otlpGrpcUrls</c>, beside the collector's main addresses. Kestrel speaks
/// cleartext HTTP/2 only on an endpoint that speaks nothing else, hence addresses of their own.
/// </summary>
/// <remarks>
/// An endpoint configured in code makes Kestrel ignore the addresses of <c>--urls</c>, <c>ASPNETCORE_URLS</c>,
/// <c>UseUrls</c> (the relay proxy's <c>server</c> keys, the default address) and <c>ASPNETCORE_HTTP(S)_PORTS</c>. So,
/// unless <c>Kestrel:Endpoints</c> are configured (they already win over those), the main addresses become Kestrel
/// endpoints too, with the same URLs, parsed by Kestrel as it parses <c>--urls</c>. The address settings are then
/// replaced by a list of no address (";": an empty value would fall back to the host's own copy of <c>--urls</c>), so
/// that Kestrel does not warn that it overrides them.
/// </remarks>
internal sealed class OtlpGrpcListeners
{
    /// <summary>The prefix of the names of the Kestrel endpoints made from the main addresses.</summary>
    private const string MainEndpointPrefix = "FlagExportMain";

    private readonly List<(OtlpGrpcAddress Address, ListenOptions Listener)> _listeners = [];

    /// <summary>Adds the gRPC endpoints, keeps the main addresses, and registers the listeners (for their bound addresses).</summary>
    public static void Configure(WebApplicationBuilder builder, IReadOnlyList<OtlpGrpcAddress> addresses)
    {
        KeepMainAddresses(builder.Configuration);
        var listeners = new OtlpGrpcListeners();
        _ = builder.Services.AddSingleton(listeners);
        _ = builder.WebHost.ConfigureKestrel(kestrel =>
        {
            listeners._listeners.Clear();
            foreach (OtlpGrpcAddress address in addresses)
            {
                void Http2Only(ListenOptions listener)
                {
                    listener.Protocols = HttpProtocols.Http2;
                    listeners._listeners.Add((address, listener));
                }

                if (address.Address is { } ip)
                {
                    kestrel.Listen(ip, address.Port, Http2Only);
                }
                else
                {
                    kestrel.ListenLocalhost(address.Port, Http2Only);
                }
            }
        });
    }

    /// <summary>
    /// The gRPC addresses as Kestrel reports them once bound (<c>http://127.0.0.1:4317</c>), with the real port where 0
    /// was asked for.
    /// </summary>
    public IReadOnlyList<string> Addresses =>
        [.. _listeners.Select(l => l.Address.Address is null ? l.Address.LocalhostDisplay : OtlpGrpcAddress.Display(l.Listener.EndPoint))];

    private static void KeepMainAddresses(ConfigurationManager configuration)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            string[] urls = MainUrls(configuration);
            for (int i = 0; i < urls.Length; i++)
            {
                data[$"Kestrel:Endpoints:{MainEndpointPrefix}{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}:Url"] = urls[i];
            }
        }

        data["urls"] = ";";
        data["http_ports"] = "";
        data["https_ports"] = "";
        _ = configuration.AddInMemoryCollection(data);
    }

    /// <summary>The main addresses as the host would hand them to Kestrel: <c>urls</c>, else the ports settings.</summary>
    private static string[] MainUrls(ConfigurationManager configuration)
    {
        const StringSplitOptions Split = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;
        if (configuration["urls"] is { Length: > 0 } urls)
        {
            return urls.Split(';', Split);
        }

        return
        [
            .. (configuration["http_ports"] ?? "").Split(';', Split).Select(port => $"http://*:{port}"),
            .. (configuration["https_ports"] ?? "").Split(';', Split).Select(port => $"https://*:{port}"),
        ];
    }
}
