using Grpc.Core;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// The gRPC errors of the OTLP receiver. UNAVAILABLE carries a google.rpc.Status with a RetryInfo detail in the
/// <c>grpc-status-details-bin</c> trailer: OTel exporters retry UNAVAILABLE, after that delay when it is given.
/// </summary>
internal static class OtlpGrpcStatus
{
    /// <summary>The trailer that carries the google.rpc.Status of an error.</summary>
    public const string DetailsTrailer = "grpc-status-details-bin";

    /// <summary>The answer to a call refused for lack of room: retry after <see cref="OtlpIngestion.RetryDelay"/>.</summary>
    public static RpcException Unavailable(string message) =>
        new(new Status(StatusCode.Unavailable, message), new Metadata { { DetailsTrailer, UnavailableDetails(message) } });

    /// <summary>The protobuf google.rpc.Status (code 14, the message, RetryInfo) of <see cref="Unavailable"/>.</summary>
    public static byte[] UnavailableDetails(string message) =>
        OtlpMessages.Status(OtlpEncoding.Protobuf, OtlpMessages.Unavailable, message, OtlpIngestion.RetryDelay);
}
