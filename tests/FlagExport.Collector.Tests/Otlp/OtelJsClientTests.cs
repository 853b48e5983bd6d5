using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FlagExport.Collector.Tests.Otlp.JsClient;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// The real OpenTelemetry JavaScript SDK, with each of its OTLP exporters (HTTP/JSON, HTTP/protobuf, gRPC), sending
/// <c>feature_flag.evaluation</c> log records or span events to a collector process that writes JSON lines, CSV and
/// Parquet: every evaluation is written once in each format, field for field as the mapping rules derive it from what
/// was emitted; records that are not evaluations are not written; a keyless evaluation is refused in the answer's
/// partial success, which the SDK decodes; a wrong API key is refused and nothing of it written.
/// </summary>
public sealed partial class OtelJsClientTests : IDisposable
{
    private const string ApiKey = "otel-js-key";
    private const string ServiceName = "checkout-service";

    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    private readonly TempDirectory _directory = new();

    [Theory]
    [InlineData("http-json", "logs", "none", "authorization")]
    [InlineData("http-proto", "logs", "gzip", "x-api-key")]
    [InlineData("grpc", "logs", "gzip", "authorization")]
    [InlineData("http-json", "traces", "gzip", "x-api-key")]
    [InlineData("http-proto", "traces", "none", "authorization")]
    [InlineData("grpc", "traces", "none", "x-api-key")]
    public async Task RealSdk_EveryEvaluationIsWrittenOnce_InJsonCsvAndParquet_FieldForField(
        string protocol, string signal, string compression, string apiKeyHeader)
    {
        _ = await OtelJsPackages.NodeModulesAsync(); // a skip (a failure under CI) before a collector starts
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            apiKeys:
              - {ApiKey}
            {(protocol == "grpc" ? "otlpGrpcUrls: http://127.0.0.1:0" : "")}
            exporters:
              - kind: file
                outputDir: ./json
                format: json
                flushInterval: 3600000
              - kind: file
                outputDir: ./csv
                format: csv
                flushInterval: 3600000
              - kind: file
                outputDir: ./parquet
                format: parquet
                flushInterval: 3600000
            """, Cancellation);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();
        string endpoint = protocol == "grpc" ? await OtlpGrpcAddress.WaitAsync(collector) : address;
        var settings = new OtelJsSettings(endpoint, protocol, signal)
        {
            ApiKey = ApiKey, ApiKeyHeader = apiKeyHeader, ServiceName = ServiceName, Compression = compression,
        };

        // A wrong key: every export refused as unauthenticated (not retried), nothing of it kept.
        OtelJsRun intruder = await OtelJsClient.EmitAsync(settings with { ApiKey = "not-the-key" }, Evaluations(signal, "intruder"), TimeSpan.FromMinutes(1));
        Assert.True(intruder.Exports.Length > 0, intruder.Report);
        Assert.All(intruder.Exports, e => Assert.True(e.Code == 1 && e.Status == (protocol == "grpc" ? 16 : 401), $"{e}\n{intruder.Report}"));

        OtelEvaluation[] evaluations = Evaluations(signal, "user");
        OtelJsRun run = await OtelJsClient.EmitAsync(settings, evaluations, TimeSpan.FromMinutes(1));
        Assert.True(run.Exports.Length > 0 && run.Exports.All(e => e.Code == 0), $"exports: {string.Join("; ", run.Exports.AsEnumerable())}\n{run.Report}\ncollector:\n{collector.Output}");
        // The answer decodes, and its partial success counts the one evaluation without a key.
        Assert.DoesNotContain(run.Diagnostics, d => d.Contains("could not deserialize", StringComparison.Ordinal));
        string partialSuccess = Assert.Single(run.Diagnostics, d => d.Contains("Received Partial Success response", StringComparison.Ordinal));
        Assert.Matches(signal == "traces" ? RejectedSpans() : RejectedLogRecords(), partialSuccess);

        collector.Signal("TERM"); // a clean stop writes what the exporters hold
        Assert.Equal(0, await collector.WaitForExitAsync());

        ExpectedFeatureEvent[] expected = [.. evaluations.Select(e => ExpectedFeatureEvent.From(e, signal, ServiceName)).OfType<ExpectedFeatureEvent>()];
        Assert.Equal(evaluations.Length - 1, expected.Length); // one has no key
        string report = $"{run.Report}\ncollector:\n{collector.Output}";
        AssertRows(expected.Select(e => e.JsonFields()), ExportedEvents.JsonLines(_directory.Combine("json")), "JSON lines", report);
        AssertRows(expected.Select(e => e.CsvFields()), ExportedEvents.CsvRows(_directory.Combine("csv")), "CSV rows", report);
        AssertRows(expected.Select(e => e.ParquetFields()), ExportedEvents.ParquetRows(_directory.Combine("parquet")), "Parquet rows", report);
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>
    /// The evaluations an application makes, each with a context id starting with <paramref name="tag"/>: every value
    /// type, the conventions' attributes, an error, a default, an anonymous one, a custom attribute, one naming its own
    /// service, one named the older way, and one without a key. Span event attributes cannot hold maps (the SDK drops
    /// them), so the map-valued evaluation is a log record only.
    /// </summary>
    private static OtelEvaluation[] Evaluations(string signal, string tag)
    {
        const long Start = 1_765_000_000_000;
        var all = new List<JsonObject>
        {
            new()
            {
                ["feature_flag.key"] = "bool-flag", ["feature_flag.result.variant"] = "on", ["feature_flag.result.value"] = true,
                ["feature_flag.provider.name"] = "flagd", ["feature_flag.result.reason"] = "targeting_match", ["feature_flag.set.id"] = "checkout",
                ["feature_flag.version"] = "v3",
            },
            new()
            {
                ["feature_flag.key"] = "string-flag", ["feature_flag.result.variant"] = "blue", ["feature_flag.result.value"] = "blue-value",
                ["feature_flag.provider.name"] = "flagd", ["feature_flag.result.reason"] = "static",
            },
            new() { ["feature_flag.key"] = "double-flag", ["feature_flag.result.variant"] = "half", ["feature_flag.result.value"] = 42.5, ["feature_flag.result.reason"] = "split" },
            new() { ["feature_flag.key"] = "integer-flag", ["feature_flag.result.variant"] = "seven", ["feature_flag.result.value"] = 7, ["app.tier"] = "gold", ["app.attempt"] = 2 },
            new()
            {
                ["feature_flag.key"] = "object-flag", ["feature_flag.result.variant"] = "dark",
                ["feature_flag.result.value"] = new JsonObject
                {
                    // A null inside a map travels as an empty AnyValue.
                    ["theme"] = "dark", ["sizes"] = new JsonArray(1, 2.5), ["beta"] = true, ["none"] = null,
                    ["nested"] = new JsonObject { ["tags"] = new JsonArray("x", "y") },
                },
            },
            new() { ["feature_flag.key"] = "array-flag", ["feature_flag.result.variant"] = "list", ["feature_flag.result.value"] = new JsonArray("a", "b") },
            new()
            {
                // What an SDK reports when the flag does not exist: the caller's default, no variant, the error.
                ["feature_flag.key"] = "missing-flag", ["feature_flag.result.value"] = false, ["feature_flag.result.reason"] = "error",
                ["error.type"] = "flag_not_found", ["error.message"] = "flag missing-flag not found",
            },
            new() { ["feature_flag.key"] = "default-flag", ["feature_flag.result.variant"] = "fallback", ["feature_flag.result.value"] = "fallback", ["feature_flag.result.reason"] = "default" },
            new() { ["feature_flag.key"] = "named-service-flag", ["feature_flag.result.variant"] = "on", ["feature_flag.result.value"] = true, ["service.name"] = "billing" },
            new()
            {
                // The first OpenFeature hooks' attribute names, on an event named the older way.
                ["feature_flag.key"] = "legacy-flag", ["feature_flag.variant"] = "old", ["feature_flag.result.value"] = true,
                ["feature_flag.provider_name"] = "legacy-provider", ["feature_flag.evaluation.reason"] = "DEFAULT",
            },
            new() { ["feature_flag.result.variant"] = "keyless", ["feature_flag.result.value"] = true },
            new() { ["feature_flag.key"] = "anonymous-flag", ["feature_flag.result.variant"] = "on", ["feature_flag.result.value"] = true },
        };
        var evaluations = new List<OtelEvaluation>();
        for (int i = 0; i < all.Count; i++)
        {
            JsonObject attributes = all[i];
            if (signal == "traces" && attributes["feature_flag.result.value"] is JsonObject)
            {
                continue;
            }

            if ((string?)attributes["feature_flag.key"] != "anonymous-flag")
            {
                attributes["feature_flag.context.id"] = $"{tag}-{i}";
            }

            bool legacy = (string?)attributes["feature_flag.key"] == "legacy-flag";
            evaluations.Add(new OtelEvaluation(Start + (i * 1_000) + 123, attributes, legacy));
        }

        return [.. evaluations];
    }

    /// <summary>The same rows in the same order, compared row by row and field by field.</summary>
    private static void AssertRows(IEnumerable<string[]> expected, List<string[]> actual, string what, string report)
    {
        string[][] rows = [.. expected];
        Assert.True(rows.Length == actual.Count,
            $"{actual.Count} {what} for {rows.Length} evaluations:\n{string.Join('\n', actual.Select(r => string.Join(" | ", r)))}\n{report}");
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(rows[i], actual[i]);
        }
    }

    [GeneratedRegex("\"rejectedLogRecords\":\"?1\"?[,}]")]
    private static partial Regex RejectedLogRecords();

    [GeneratedRegex("\"rejectedSpans\":\"?1\"?[,}]")]
    private static partial Regex RejectedSpans();
}
