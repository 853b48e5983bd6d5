using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>
/// The OpenTelemetry JavaScript SDK (logs and traces) with its three OTLP exporters, at pinned versions, installed into
/// the tests' npm cache (see <see cref="NpmPackages"/>). In this release line the logs API is part of
/// <c>@opentelemetry/api</c> and the tracing SDK is <c>@opentelemetry/sdk-trace</c>.
/// </summary>
public static class OtelJsPackages
{
    /// <summary>The API, the SDKs and the resources package are released together.</summary>
    public const string ApiVersion = "1.10.0";

    /// <summary>The SDK packages' version.</summary>
    public const string SdkVersion = "3.1.0";

    /// <summary>The OTLP exporters' version (the experimental line, released with <see cref="SdkVersion"/>).</summary>
    public const string ExporterVersion = "0.301.0";

    /// <summary>The gRPC library the gRPC exporters run on; the script builds the API key's metadata with it.</summary>
    public const string GrpcVersion = "1.14.7";

    private static readonly NpmPackages Packages = new(
        "the OpenTelemetry JavaScript SDK",
        "flagexport-otel-js-test",
        ("@opentelemetry/api", ApiVersion),
        ("@opentelemetry/resources", SdkVersion),
        ("@opentelemetry/sdk-logs", SdkVersion),
        ("@opentelemetry/sdk-trace", SdkVersion),
        ("@opentelemetry/exporter-logs-otlp-http", ExporterVersion),
        ("@opentelemetry/exporter-logs-otlp-proto", ExporterVersion),
        ("@opentelemetry/exporter-logs-otlp-grpc", ExporterVersion),
        ("@opentelemetry/exporter-trace-otlp-http", ExporterVersion),
        ("@opentelemetry/exporter-trace-otlp-proto", ExporterVersion),
        ("@opentelemetry/exporter-trace-otlp-grpc", ExporterVersion),
        ("@grpc/grpc-js", GrpcVersion));

    /// <summary>The script that emits evaluations with the SDK (checked in beside this file).</summary>
    public static string ScriptPath => RepositoryPaths.TestFile("Otlp", "otel-js", "emit.cjs");

    /// <summary>The <c>node_modules</c> folder holding the SDK; a skip (a failure under CI) when it cannot be installed.</summary>
    public static Task<string> NodeModulesAsync() => Packages.NodeModulesAsync();
}
