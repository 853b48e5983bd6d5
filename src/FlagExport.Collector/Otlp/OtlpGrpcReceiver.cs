using FlagExport.Collector.Configuration;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// The OTLP/gRPC receiver: on when <c>otlpGrpcUrls</c> is set. Its services answer wherever Kestrel speaks HTTP/2, which
/// on cleartext listeners means the <c>otlpGrpcUrls</c> addresses only. The HTTP routes
/// (<c>/v1/data/collector</c>, <c>/v1/logs</c>, <c>/health</c>…) answer on the gRPC addresses too, to an HTTP/2 client,
/// with the same keys and limits: nothing there is reachable that the main address does not offer.
/// </summary>
internal static class OtlpGrpcReceiver
{
    /// <summary>Registers the listeners and the gRPC services, when <see cref="CollectorSettings.OtlpGrpcUrls"/> has addresses.</summary>
    public static void AddServices(WebApplicationBuilder builder, CollectorSettings settings)
    {
        if (settings.OtlpGrpcUrls.Count == 0)
        {
            return;
        }

        OtlpGrpcListeners.Configure(builder, settings.OtlpGrpcUrls);
        IServiceCollection services = builder.Services;

        // maxRequestBodySize is at most 1 GiB, within int. gRPC applies it to a message as sent and, while decompressing
        // it (grpc-encoding: gzip, its default providers), to the decompressed bytes: RESOURCE_EXHAUSTED beyond either.
        int limit = checked((int)settings.MaxRequestBodySize);
        _ = services.AddGrpc(options => options.MaxReceiveMessageSize = limit);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<OtlpGrpcService>, OtlpGrpcMethodProvider>());
        _ = services.AddSingleton<OtlpGrpcAdmission>();
        _ = services.AddSingleton<OtlpGrpcService>();
    }

    /// <summary>Maps the services, each call admitted (<see cref="OtlpGrpcAdmission"/>) before gRPC reads its message.</summary>
    public static void Map(WebApplication app, CollectorSettings settings)
    {
        if (settings.OtlpGrpcUrls.Count == 0)
        {
            return;
        }

        OtlpGrpcAdmission admission = app.Services.GetRequiredService<OtlpGrpcAdmission>();
        app.MapGrpcService<OtlpGrpcService>().Add(endpoint =>
        {
            RequestDelegate call = endpoint.RequestDelegate!;
            endpoint.RequestDelegate = context => admission.InvokeAsync(context, call);
        });
    }
}
