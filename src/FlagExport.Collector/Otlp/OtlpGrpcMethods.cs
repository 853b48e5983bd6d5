using Grpc.Core;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// The two OTLP/gRPC methods, described by hand: a request and a response are their protobuf bytes, untouched, so that
/// <see cref="OtlpIngestion"/> parses the request straight into events and no generated message type is needed.
/// </summary>
internal static class OtlpGrpcMethods
{
    /// <summary>The logs service of the OTLP specification.</summary>
    public const string LogsServiceName = "opentelemetry.proto.collector.logs.v1.LogsService";

    /// <summary>The trace service of the OTLP specification.</summary>
    public const string TraceServiceName = "opentelemetry.proto.collector.trace.v1.TraceService";

    /// <summary>The one method of each service.</summary>
    public const string ExportMethodName = "Export";

    /// <summary>A message as its bytes; gRPC has already decompressed it (grpc-encoding) before deserializing.</summary>
    public static readonly Marshaller<byte[]> RawBytes = Marshallers.Create(static bytes => bytes, static bytes => bytes);

    /// <summary><c>LogsService/Export</c>: ExportLogsServiceRequest in, ExportLogsServiceResponse out.</summary>
    public static readonly Method<byte[], byte[]> ExportLogs = new(MethodType.Unary, LogsServiceName, ExportMethodName, RawBytes, RawBytes);

    /// <summary><c>TraceService/Export</c>: ExportTraceServiceRequest in, ExportTraceServiceResponse out.</summary>
    public static readonly Method<byte[], byte[]> ExportTraces = new(MethodType.Unary, TraceServiceName, ExportMethodName, RawBytes, RawBytes);
}
