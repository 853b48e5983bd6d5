using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.Otlp.DotnetClient;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// The OpenTelemetry .NET application sending to a collector process (no durable buffer) whose exporter cannot write
/// for a while, so that its buffer fills and it refuses requests with HTTP 503 / gRPC <c>UNAVAILABLE</c> and a retry
/// delay. OpenTelemetry .NET 1.21's OTLP exporter retries those only when
/// <c>OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY=in_memory</c> is set, and only until its export timeout
/// (<c>OTEL_EXPORTER_OTLP_TIMEOUT</c>, 10 s by default) runs out; with both, every record is written exactly once.
/// Without the variable the SDK drops a refused batch: the collector never acknowledged it and wrote none of it.
/// </summary>
public sealed class OtelDotnetClientBackPressureTests : IDisposable
{
    // Room for 1,000 events: 1,600 records in batches of 100 overflow it while the exporter is blocked.
    private const int Records = 1_600;
    private const int MaxBufferedEvents = 1_000;
    private const int BatchSize = 100;

    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    private readonly TempDirectory _directory = new();

    [Theory]
    [InlineData("logs", "http/protobuf")]
    [InlineData("logs", "grpc")]
    [InlineData("traces", "http/protobuf")]
    [InlineData("traces", "grpc")]
    public async Task WithInMemoryRetry_IntoAFullBuffer_EveryRecordIsWrittenExactlyOnce(string signal, string protocol)
    {
        (CollectorProcess collector, string endpoint) = await StartBlockedCollectorAsync(protocol);
        using (collector)
        {
            // The retry delay the collector answers (5 s) must fit several times in the export's deadline.
            Task<DotnetOtlpApplication.Run> application = DotnetOtlpApplication.RunAsync(
                _directory.Path, signal, protocol, endpoint, Scenario(signal),
                Batching(new Dictionary<string, string>
                {
                    ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
                    ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "90000",
                }),
                TimeSpan.FromSeconds(120));
            await WaitUntilAsync(() => collector.Output.Contains("Refusing requests with 503", StringComparison.Ordinal) || application.IsCompleted);
            File.Delete(Exports); // the exporter writes again at its next retry; the SDK's next attempts then fit
            DotnetOtlpApplication.Run run = await application;
            collector.Signal("TERM");
            Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);

            string report = $"application: {run.Diagnostics}{Environment.NewLine}collector:{Environment.NewLine}{collector.Output}";
            Assert.True(collector.Output.Contains("Refusing requests with 503", StringComparison.Ordinal), $"the buffer did not fill. {report}");
            Assert.True(run.ExporterWarnings > 0, $"the SDK saw no refusal, so retried nothing. {report}");
            string[] keys = WrittenKeys();
            Assert.True(keys.Length == Records, $"{keys.Length} rows written for {Records} records, {keys.Distinct().Count()} distinct. {report}");
            Assert.Equal(Enumerable.Range(0, Records).Select(Key).Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData("http/protobuf")]
    [InlineData("grpc")]
    public async Task WithoutRetry_TheSdkDropsARefusedBatch_AndTheCollectorWritesNoneOfItTwice(string protocol)
    {
        (CollectorProcess collector, string endpoint) = await StartBlockedCollectorAsync(protocol);
        using (collector)
        {
            Task<DotnetOtlpApplication.Run> application = DotnetOtlpApplication.RunAsync(
                _directory.Path, "logs", protocol, endpoint, Scenario("logs"), Batching(new Dictionary<string, string>()), TimeSpan.FromSeconds(120));
            await WaitUntilAsync(() => application.IsCompleted);
            File.Delete(Exports);
            DotnetOtlpApplication.Run run = await application;
            collector.Signal("TERM");
            Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);

            string report = $"application: {run.Diagnostics}{Environment.NewLine}collector:{Environment.NewLine}{collector.Output}";
            Assert.True(collector.Output.Contains("Refusing requests with 503", StringComparison.Ordinal), $"the buffer did not fill. {report}");
            Assert.True(run.ExporterWarnings > 0, $"the SDK saw no refusal. {report}");
            string[] keys = WrittenKeys();

            // What was acknowledged (the batches before the buffer filled) is written once; the refused batches are
            // lost in the SDK.
            Assert.True(keys.Length is > 0 and < Records, $"{keys.Length} rows written. {report}");
            Assert.Equal(keys.Length, keys.Distinct().Count());
        }
    }

    public void Dispose() => _directory.Dispose();

    private string Exports => _directory.Combine("exports");

    /// <summary>A collector in memory mode whose only exporter cannot write until <see cref="Exports"/> is deleted.</summary>
    private async Task<(CollectorProcess Collector, string Endpoint)> StartBlockedCollectorAsync(string protocol)
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            {(protocol == "grpc" ? "otlpGrpcUrls: http://127.0.0.1:0" : "")}
            bufferDirectory: ""  # memory mode: the back-pressure of maxBufferedEvents
            exporters:
              - kind: file
                outputDir: ./exports
                flushInterval: 200
                maxEventInMemory: {BatchSize}
                maxBufferedEvents: {MaxBufferedEvents}
            """, Cancellation);
        CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        try
        {
            string endpoint = await collector.WaitUntilListeningAsync();
            if (protocol == "grpc")
            {
                endpoint = await OtelDotnetClientTests.GrpcAddressAsync(collector);
            }

            // The exporter's folder becomes a file: every export fails (and is retried) until it is a folder again.
            if (Directory.Exists(Exports))
            {
                Directory.Delete(Exports, recursive: true);
            }

            await File.WriteAllTextAsync(Exports, "not a folder", Cancellation);
            return (collector, endpoint);
        }
        catch
        {
            collector.Dispose();
            throw;
        }
    }

    /// <summary>Small batches sent as soon as they are full, so that the buffer fills over several requests.</summary>
    private static Dictionary<string, string> Batching(Dictionary<string, string> environment)
    {
        environment["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"] = BatchSize.ToString(CultureInfo.InvariantCulture);
        environment["OTEL_BLRP_SCHEDULE_DELAY"] = "50";
        environment["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = "1"; // one span of BatchSize events per request
        environment["OTEL_BSP_SCHEDULE_DELAY"] = "50";
        return environment;
    }

    /// <summary><see cref="Records"/> evaluations, each with its own key; as span events, <see cref="BatchSize"/> a span.</summary>
    private static ScenarioRecord[] Scenario(string signal) =>
    [
        .. Enumerable.Range(0, Records).Select(i => new ScenarioRecord(
            ExpectedFeatureEvent.EvaluationEvent,
            [Tag.Of("feature_flag.key", Key(i)), Tag.Of("feature_flag.result.variant", "on"), Tag.Of("feature_flag.result.value", true)],
            Span: signal == "traces" ? i / BatchSize : 0)),
    ];

    private static string Key(int i) => $"flag-{i:D4}";

    private string[] WrittenKeys() =>
    [
        .. (Directory.Exists(Exports) ? Directory.GetFiles(Exports) : [])
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .SelectMany(f => File.ReadAllText(f, Encoding.UTF8).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(line =>
            {
                using JsonDocument document = JsonDocument.Parse(line);
                return document.RootElement.GetProperty("key").GetString()!;
            }),
    ];

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition() && stopwatch.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(50, Cancellation);
        }
    }
}
