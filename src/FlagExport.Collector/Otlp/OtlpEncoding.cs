namespace FlagExport.Collector.Otlp;

/// <summary>How an OTLP message is encoded on the wire; an answer uses the request's encoding.</summary>
internal enum OtlpEncoding
{
    /// <summary>Binary protobuf: <c>application/x-protobuf</c> over HTTP, and every gRPC message.</summary>
    Protobuf,

    /// <summary>OTLP/JSON, protobuf's JSON mapping with OTLP's rules: <c>application/json</c>.</summary>
    Json,
}
