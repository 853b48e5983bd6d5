using Grpc.AspNetCore.Server.Model;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Binds the two OTLP methods to <see cref="OtlpGrpcService"/> with plain delegates: no generated base class, no
/// reflection over the service type, nothing for the trimmer to keep.
/// </summary>
internal sealed class OtlpGrpcMethodProvider : IServiceMethodProvider<OtlpGrpcService>
{
    /// <inheritdoc/>
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<OtlpGrpcService> context)
    {
        context.AddUnaryMethod(OtlpGrpcMethods.ExportLogs, [], static (service, request, call) => service.ExportLogsAsync(request, call));
        context.AddUnaryMethod(OtlpGrpcMethods.ExportTraces, [], static (service, request, call) => service.ExportTracesAsync(request, call));
    }
}
