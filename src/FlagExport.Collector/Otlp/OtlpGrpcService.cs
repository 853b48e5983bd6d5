using Grpc.Core;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// The OTLP/gRPC <c>Export</c> methods of the logs and trace services: the whole message goes through
/// <see cref="OtlpIngestion"/>, as an OTLP/HTTP protobuf body does, and its outcome becomes the gRPC answer.
/// </summary>
/// <remarks>
/// The API key and the buffer's room are checked before the message is read (<see cref="OtlpGrpcAdmission"/>); gRPC
/// reads it within <c>maxRequestBodySize</c>, compressed and decompressed. The
/// outcome maps as OTLP asks: accepted, with <c>partial_success</c> for rejected records; INVALID_ARGUMENT, which
/// exporters do not retry, for a malformed or too large request; UNAVAILABLE with a retry delay when there is no room
/// or the durable buffer could not write. <see cref="OtlpIngestion"/> logs the refusals.
/// </remarks>
internal sealed class OtlpGrpcService(OtlpIngestion ingestion)
{
    /// <summary><c>LogsService/Export</c>.</summary>
    public Task<byte[]> ExportLogsAsync(byte[] request, ServerCallContext context) => ExportAsync(OtlpSignal.Logs, request, context);

    /// <summary><c>TraceService/Export</c>.</summary>
    public Task<byte[]> ExportTracesAsync(byte[] request, ServerCallContext context) => ExportAsync(OtlpSignal.Traces, request, context);

    private async Task<byte[]> ExportAsync(OtlpSignal signal, byte[] request, ServerCallContext context)
    {
        OtlpOutcome outcome = await ingestion.ExportAsync(signal, OtlpEncoding.Protobuf, request, context.CancellationToken).ConfigureAwait(false);
        switch (outcome.Kind)
        {
            case OtlpOutcomeKind.Accepted:
                return OtlpMessages.ExportResponse(signal, OtlpEncoding.Protobuf, outcome.RejectedItems, outcome.Message);
            case OtlpOutcomeKind.Unavailable:
                throw OtlpGrpcStatus.Unavailable(outcome.Message!);
            default:
                // Malformed or too large: refused whole, and a retry cannot cure it.
                throw new RpcException(new Status(StatusCode.InvalidArgument, outcome.Message!));
        }
    }
}
