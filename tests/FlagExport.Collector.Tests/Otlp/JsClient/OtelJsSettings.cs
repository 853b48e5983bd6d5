namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>How the emitter script sends: the OTLP exporter and its settings, as an application would configure them.</summary>
/// <param name="Endpoint">The collector's HTTP base address, or its gRPC address for <c>grpc</c>.</param>
/// <param name="Protocol"><c>http-json</c>, <c>http-proto</c> or <c>grpc</c>.</param>
/// <param name="Signal"><c>logs</c> or <c>traces</c>.</param>
public sealed record OtelJsSettings(string Endpoint, string Protocol, string Signal = "logs")
{
    /// <summary>The key sent, none when empty.</summary>
    public string ApiKey { get; init; } = "";

    /// <summary><c>authorization</c> (as a bearer token) or <c>x-api-key</c>.</summary>
    public string ApiKeyHeader { get; init; } = "authorization";

    /// <summary>The resource's <c>service.name</c>.</summary>
    public string ServiceName { get; init; } = "otel-js-test";

    /// <summary><c>gzip</c> or <c>none</c>.</summary>
    public string Compression { get; init; } = "none";

    /// <summary>The exporter's timeout, which bounds its retries; the SDK's default is 10 s.</summary>
    public TimeSpan ExporterTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Log records or spans per export request; the SDK's default is 512.</summary>
    public int BatchSize { get; init; } = 512;
}
