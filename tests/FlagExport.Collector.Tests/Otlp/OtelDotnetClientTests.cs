using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FlagExport.Collector.Tests.Otlp.DotnetClient;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// An application instrumented with OpenTelemetry .NET 1.21 and its OTLP exporter (<c>tests/OtelDotnetClient</c>, its
/// own process) sends flag evaluations, as log records and as span events, over OTLP/HTTP protobuf and gRPC, with the
/// collector's API key in its exporter headers, to a collector process that writes them as JSON lines, CSV and
/// Parquet: every evaluation is one row in each, every field as the mapping derives it from what was emitted, and
/// nothing else is written.
/// </summary>
public sealed partial class OtelDotnetClientTests : IDisposable
{
    private const string ApiKey = "dotnet-client-key";

    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    private readonly TempDirectory _directory = new();

    /// <param name="signal"><c>logs</c> (evaluations as log records) or <c>traces</c> (as span events).</param>
    /// <param name="protocol"><c>OTEL_EXPORTER_OTLP_PROTOCOL</c>.</param>
    /// <param name="compression"><c>OTEL_EXPORTER_OTLP_COMPRESSION</c>: over HTTP, gzip comes as a chunked body.</param>
    [Theory]
    [InlineData("logs", "http/protobuf", "none")]
    [InlineData("logs", "grpc", "none")]
    [InlineData("traces", "http/protobuf", "none")]
    [InlineData("traces", "grpc", "none")]
    [InlineData("logs", "http/protobuf", "gzip")]
    [InlineData("traces", "grpc", "gzip")]
    public async Task Evaluations_ArriveAsOneRowEach_InJsonCsvAndParquet(string signal, string protocol, string compression)
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            {(protocol == "grpc" ? "otlpGrpcUrls: http://127.0.0.1:0" : "")}
            apiKeys: [{ApiKey}]
            exporters:
              - kind: file
                outputDir: ./json
                format: json
              - kind: file
                outputDir: ./csv
                format: csv
                csvTemplate: "{ExpectedFeatureEvent.CsvTemplate.Replace("\n", "\\n", StringComparison.Ordinal)}"
              - kind: file
                outputDir: ./parquet
                format: parquet
            """, Cancellation);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string endpoint = await collector.WaitUntilListeningAsync();
        if (protocol == "grpc")
        {
            endpoint = await GrpcAddressAsync(collector);
        }

        IReadOnlyList<ScenarioRecord> scenario = signal == "logs" ? LogScenario() : TraceScenario();
        DotnetOtlpApplication.Run run = await DotnetOtlpApplication.RunAsync(
            _directory.Path, signal, protocol, endpoint, scenario, new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_COMPRESSION"] = compression,
                ["OTEL_EXPORTER_OTLP_HEADERS"] = $"X-API-Key={ApiKey}", // as an application passes the collector's key
            });
        collector.Signal("TERM"); // writes what it holds, then exits
        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);

        ScenarioRecord[] exported = [.. run.Records.Where(r => ExpectedFeatureEvent.IsExported(r, signal)).OrderBy(Key, StringComparer.Ordinal)];
        Assert.True(exported.Length >= 10, "the scenario's evaluations");
        Assert.True(exported.Length < run.Records.Count, "the scenario's other records");
        string report = $"application: {run.Diagnostics}{Environment.NewLine}collector:{Environment.NewLine}{collector.Output}";

        // The SDK took every answer as a success (status, content type, body); the keyless evaluation's partial
        // success is not a failure to it.
        Assert.True(run.ExporterWarnings == 0, report);

        string[] json = [.. Lines("json").OrderBy(line => (string)JsonNode.Parse(line)!["key"]!, StringComparer.Ordinal)];
        Assert.True(json.Length == exported.Length, $"{json.Length} JSON lines for {exported.Length} evaluations. {report}");
        Assert.Equal(
            exported.Select(r => ExpectedFeatureEvent.Json(r).ToJsonString()),
            json.Select(line => JsonNode.Parse(line)!.ToJsonString()));

        Assert.Equal(
            exported.Select(ExpectedFeatureEvent.Csv),
            Lines("csv").OrderBy(line => line.Split(';')[4], StringComparer.Ordinal));

        string[] parquetFiles = [.. Files("parquet")];
        Assert.NotEmpty(parquetFiles);
        Assert.Equal(
            exported.Select(ExpectedFeatureEvent.ParquetRow),
            parquetFiles
                .SelectMany(file => DuckDbParquet.Query(File.ReadAllBytes(file), ExpectedFeatureEvent.ParquetQuery))
                .Select(ExpectedFeatureEvent.ParquetRow)
                .OrderBy(row => row.Split(" | ")[4], StringComparer.Ordinal));
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>The address of the collector's gRPC endpoint, from its start-up line.</summary>
    internal static async Task<string> GrpcAddressAsync(CollectorProcess collector)
    {
        await collector.WaitForOutputAsync("OTLP/gRPC listening on ");
        return GrpcListeningLine().Match(collector.Output).Groups[1].Value;
    }

    [GeneratedRegex(@"OTLP/gRPC listening on (http://[^\s;,]+)")]
    private static partial Regex GrpcListeningLine();

    /// <summary>
    /// The evaluations an SDK's telemetry hook emits, one per value type and outcome: every semantic-convention
    /// attribute, values of several OTLP types, an error, a default, no context, custom attributes.
    /// </summary>
    private static List<ScenarioRecord> Evaluations(string prefix, string name) =>
    [
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-01-bool"), Tag.Of("feature_flag.result.variant", "on"),
            Tag.Of("feature_flag.result.value", true), Tag.Of("feature_flag.context.id", "user-1"),
            Tag.Of("feature_flag.provider.name", "flagd"), Tag.Of("feature_flag.result.reason", "targeting_match"),
            Tag.Of("feature_flag.version", "v7"), Tag.Of("feature_flag.set.id", "checkout")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-02-string"), Tag.Of("feature_flag.result.variant", "blue"),
            Tag.Of("feature_flag.result.value", "bleu clair é"), Tag.Of("feature_flag.context.id", "user-2"),
            Tag.Of("feature_flag.provider.name", "flagd"), Tag.Of("feature_flag.result.reason", "static")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-03-int"), Tag.Of("feature_flag.result.variant", "large"),
            Tag.Of("feature_flag.result.value", 4096L), Tag.Of("feature_flag.context.id", "user-3"),
            Tag.Of("feature_flag.result.reason", "split")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-04-double"), Tag.Of("feature_flag.result.variant", "quarter"),
            Tag.Of("feature_flag.result.value", 0.25), Tag.Of("feature_flag.context.id", "user-4"),
            Tag.Of("feature_flag.provider.name", "go-feature-flag")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-05-strings"), Tag.Of("feature_flag.result.variant", "pair"),
            Tag.Of("feature_flag.result.value", ["a", "b"]), Tag.Of("feature_flag.context.id", "user-5")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-06-longs"), Tag.Of("feature_flag.result.variant", "tiers"),
            Tag.Of("feature_flag.result.value", new long[] { 1, 2, 3 }), Tag.Of("feature_flag.context.id", "user-6"),
            Tag.Of("app.tenant", "acme"), Tag.Of("app.retries", 2L), Tag.Of("app.sampled", true), Tag.Of("app.ratio", 1.5)]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-07-error"), Tag.Of("feature_flag.result.value", false),
            Tag.Of("feature_flag.provider.name", "flagd"), Tag.Of("feature_flag.result.reason", "error"),
            Tag.Of("error.type", "flag_not_found"), Tag.Of("error.message", "no flag named that")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-08-default"), Tag.Of("feature_flag.result.variant", "fallback"),
            Tag.Of("feature_flag.result.value", "off"), Tag.Of("feature_flag.context.id", "user-8"),
            Tag.Of("feature_flag.result.reason", "DEFAULT")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-09-legacy-variant"), Tag.Of("feature_flag.variant", "old-name"),
            Tag.Of("feature_flag.result.value", 12L), Tag.Of("feature_flag.context.id", "user-9")]),
        new(name, [
            Tag.Of("feature_flag.key", $"{prefix}-10-no-value"), Tag.Of("feature_flag.result.variant", "v"),
            Tag.Of("feature_flag.context.id", "user-10"), Tag.Of("feature_flag.version", "42")]),
    ];

    /// <summary>
    /// Evaluations as log records (event name from the <c>EventId</c>'s name, and one with the <c>event.name</c>
    /// attribute instead), among records that are not evaluations and one evaluation without a key.
    /// </summary>
    private static List<ScenarioRecord> LogScenario()
    {
        List<ScenarioRecord> records = Evaluations("log", ExpectedFeatureEvent.EvaluationEvent);
        records.Insert(2, new("checkout.completed", [Tag.Of("feature_flag.key", "log-not-an-evaluation"), Tag.Of("order.id", 7L)]));
        records.Insert(5, new(null, [Tag.Of("cache.entries", 12L)], Body: "cache warmed"));
        records.Insert(7, new(ExpectedFeatureEvent.EvaluationEvent, [Tag.Of("feature_flag.result.variant", "no-key")]));
        records.Add(new(null, [
            Tag.Of("event.name", ExpectedFeatureEvent.EvaluationEvent), Tag.Of("feature_flag.key", "log-11-event-name-attribute"),
            Tag.Of("feature_flag.result.variant", "on"), Tag.Of("feature_flag.result.value", true),
            Tag.Of("feature_flag.context.id", "user-11")], Body: "evaluated"));
        return records;
    }

    /// <summary>
    /// Evaluations as span events on three spans, with the legacy <c>feature_flag</c> event, among span events that are
    /// not evaluations and one evaluation without a key.
    /// </summary>
    private static List<ScenarioRecord> TraceScenario()
    {
        List<ScenarioRecord> records = Evaluations("span", ExpectedFeatureEvent.EvaluationEvent);
        records.Insert(2, new("cache.miss", [Tag.Of("feature_flag.key", "span-not-an-evaluation")]));
        records.Insert(5, new("exception", [Tag.Of("exception.type", "System.TimeoutException"), Tag.Of("exception.message", "slow")]));
        records.Insert(7, new(ExpectedFeatureEvent.EvaluationEvent, [Tag.Of("feature_flag.result.variant", "no-key")]));
        records.Add(new(ExpectedFeatureEvent.LegacyEvaluationEvent, [
            Tag.Of("feature_flag.key", "span-11-legacy-event"), Tag.Of("feature_flag.provider_name", "openfeature-hook"),
            Tag.Of("feature_flag.variant", "legacy-on"), Tag.Of("feature_flag.context.id", "user-11")]));
        return [.. records.Select((r, i) => r with { Span = i * 3 / records.Count })];
    }

    private static string Key(ScenarioRecord record) => record["feature_flag.key"]!.GetValue<string>();

    private IEnumerable<string> Files(string folder) =>
        Directory.Exists(_directory.Combine(folder))
            ? Directory.GetFiles(_directory.Combine(folder)).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)
            : [];

    private IEnumerable<string> Lines(string folder) =>
        Files(folder).SelectMany(f => File.ReadAllText(f, Encoding.UTF8).Split('\n', StringSplitOptions.RemoveEmptyEntries));
}
