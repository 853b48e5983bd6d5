using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport.Collector.RelayProxy;

/// <summary>
/// go-feature-flag relay proxy's routes other than <c>/v1/data/collector</c> (evaluation, all flags, OFREP, flag
/// configuration and changes, the change streams, flag management, admin, manifest, swagger): forwarded to
/// <c>relayProxyUrl</c> when it is set, otherwise answered with a 404 that names the setting.
/// </summary>
/// <remarks>
/// Every method is mapped on these paths, so that the relay proxy itself answers a wrong method (405) or a CORS preflight.
/// Only these paths are mapped: any other unknown path keeps the collector's plain 404, and the collector's own routes
/// (<c>/v1/data/collector</c>, <c>/health</c>, <c>/health/ready</c>, <c>/info</c>, <c>/metrics</c>) are never forwarded.
/// </remarks>
internal static class RelayProxyRoutes
{
    /// <summary>The relay proxy's routes, as its API server registers them (route parameters renamed, not matched differently).</summary>
    internal static readonly IReadOnlyList<RelayProxyRoute> All =
    [
        // Evaluation and flag configuration (ETag and If-None-Match on the last two).
        new("/v1/allflags"),
        new("/v1/feature/{flagKey}/eval"),
        new("/v1/flag/configuration"),
        new("/v1/flag/change"),
        // Flag management.
        new("/v1/flags"),
        new("/v1/flags/{flagKey}"),
        new("/v1/flags/{flagKey}/state"),
        // OpenFeature Remote Evaluation Protocol.
        new("/ofrep/v1/evaluate/flags"),
        new("/ofrep/v1/evaluate/flags/{flagKey}"),
        new("/ofrep/v1/configuration"),
        // Flag-change streams: a websocket (two paths) and server-sent events; long-lived, so never timed out for idleness.
        new("/ws/v1/flag/change", IsStream: true),
        new("/stream/v1/ws/flag/change", IsStream: true),
        new("/stream/v1/sse/flag/change", IsStream: true),
        // Admin, the OpenFeature manifest and swagger (when the relay proxy enables it).
        new("/admin/v1/retriever/refresh"),
        new("/openfeature/v0/manifest"),
        new("/swagger/{**path}"),
    ];

    /// <summary>Registers what <see cref="Map"/> needs: YARP's forwarder and one client when <c>relayProxyUrl</c> is set.</summary>
    public static void AddServices(IServiceCollection services, CollectorSettings settings)
    {
        if (settings.RelayProxyUrl is { } url)
        {
            _ = services.AddHttpForwarder();
            _ = services.AddSingleton(provider => ActivatorUtilities.CreateInstance<RelayProxyForwarder>(provider, url));
        }
        else
        {
            _ = services.AddSingleton<RelayProxyNotConfigured>();
        }
    }

    /// <summary>
    /// <see langword="true"/> when the request's endpoint forwards to the relay proxy, whose body must pass as sent (no
    /// request decompression). Routing has run: <see cref="WebApplication"/> matches endpoints before any middleware.
    /// </summary>
    public static bool IsForwarded(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<RelayProxyRoute>() is not null;

    /// <summary>Maps every route of <see cref="All"/> to the forwarder, or to the 404 answer without <c>relayProxyUrl</c>.</summary>
    public static void Map(WebApplication app, CollectorSettings settings)
    {
        if (settings.RelayProxyUrl is not null)
        {
            RelayProxyForwarder forwarder = app.Services.GetRequiredService<RelayProxyForwarder>();
            foreach (RelayProxyRoute route in All)
            {
                RequestDelegate forward = route.IsStream ? forwarder.ForwardStreamAsync : forwarder.ForwardAsync;
                _ = app.Map(route.Pattern, forward).WithMetadata(route);
            }

            _ = app.Lifetime.ApplicationStarted.Register(forwarder.LogStarted);
        }
        else
        {
            RequestDelegate answer = app.Services.GetRequiredService<RelayProxyNotConfigured>().AnswerAsync;
            foreach (RelayProxyRoute route in All)
            {
                _ = app.Map(route.Pattern, answer);
            }
        }
    }
}
