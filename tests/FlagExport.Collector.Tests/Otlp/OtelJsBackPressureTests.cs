using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlagExport.Collector.Tests.Otlp.JsClient;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// The real OpenTelemetry JavaScript SDK sending evaluations to a collector process without a durable buffer whose
/// only exporter cannot write for a while (its folder is a file), so that the buffer fills and the collector refuses
/// with "unavailable, retry later". Whatever the collector acknowledged is written exactly once and what it refused is
/// not written: the SDK's HTTP exporters retry the refusals after the delay the collector gives, so every evaluation
/// arrives; its gRPC exporter does not retry at all (it reports the refused calls as failed), so only theirs are missing.
/// </summary>
public sealed class OtelJsBackPressureTests : IDisposable
{
    // Room for 300 events, sent in requests of 100: the fourth request finds the buffer full while the exporter is blocked.
    private const int Evaluations = 1_000;
    private const int BatchSize = 100;
    private const int MaxBufferedEvents = 300;

    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    private readonly TempDirectory _directory = new();

    [Theory]
    [InlineData("http-json")]
    [InlineData("http-proto")]
    public async Task HttpExporter_RetriesTheRefusals_AndEveryEvaluationIsWrittenExactlyOnce(string protocol)
    {
        (OtelJsRun run, string[] written, CollectorProcess collector) = await RunBlockedAsync(protocol);
        using (collector)
        {
            string report = $"exports: {string.Join("; ", run.Exports.Select(Describe))}\n{run.Report}\ncollector:\n{collector.Output}";
            TestContext.Current.TestOutputHelper?.WriteLine(report);
            Assert.True(run.Exports.All(e => e.Code == 0), report); // the SDK's retries carried every refused request
            Assert.Equal(Evaluations, run.Exports.SelectMany(e => e.ContextIds).OfType<string>().Count()); // each sent, in one call
            AssertExactlyOnce(ContextIds(0, Evaluations), written, report);
        }
    }

    [Fact]
    public async Task GrpcExporter_DoesNotRetryUnavailable_RefusedCallsAreNotWritten_AcknowledgedOnesExactlyOnce()
    {
        (OtelJsRun run, string[] written, CollectorProcess collector) = await RunBlockedAsync("grpc");
        using (collector)
        {
            string report = $"exports: {string.Join("; ", run.Exports.Select(Describe))}\n{run.Report}\ncollector:\n{collector.Output}";
            TestContext.Current.TestOutputHelper?.WriteLine(report);
            Assert.Contains(run.Exports, e => e.Code == 1 && e.Status == 14); // UNAVAILABLE, not retried by this SDK
            Assert.All(run.Exports.Where(e => e.Code != 0), e => Assert.True(e.Status == 14, report));
            string[] acknowledged = [.. run.Exports.Where(e => e.Code == 0).SelectMany(e => e.ContextIds).OfType<string>()];
            AssertExactlyOnce(acknowledged, written, report);
        }
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>
    /// Starts the collector with its exporter blocked, emits the evaluations, unblocks the exporter as soon as the
    /// collector has refused a request, and returns what the SDK reported and the context ids written, once the
    /// collector has stopped cleanly. The caller disposes the collector.
    /// </summary>
    private async Task<(OtelJsRun Run, string[] Written, CollectorProcess Collector)> RunBlockedAsync(string protocol)
    {
        _ = await OtelJsPackages.NodeModulesAsync();
        string exports = _directory.Combine("exports");
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            bufferDirectory: ""  # memory mode: the back-pressure of maxBufferedEvents
            {(protocol == "grpc" ? "otlpGrpcUrls: http://127.0.0.1:0" : "")}
            exporters:
              - kind: file
                outputDir: ./exports
                flushInterval: 200
                maxEventInMemory: 100
                maxBufferedEvents: {MaxBufferedEvents.ToString(CultureInfo.InvariantCulture)}
            """, Cancellation);
        var collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        try
        {
            string address = await collector.WaitUntilListeningAsync();
            string endpoint = protocol == "grpc" ? await OtlpGrpcAddress.WaitAsync(collector) : address;

            // The exporter's folder becomes a file: every export fails (and is retried) until it is a folder again.
            if (Directory.Exists(exports))
            {
                Directory.Delete(exports, recursive: true);
            }

            await File.WriteAllTextAsync(exports, "not a folder", Cancellation);

            // The exporter's timeout bounds its retries: 60 s leaves room for all five of them at the collector's delay.
            var settings = new OtelJsSettings(endpoint, protocol) { BatchSize = BatchSize, ExporterTimeout = TimeSpan.FromSeconds(60) };
            OtelEvaluation[] evaluations = [.. ContextIds(0, Evaluations).Select((id, i) => new OtelEvaluation(
                1_765_000_000_000 + i,
                new JsonObject { ["feature_flag.key"] = "checkout-flow", ["feature_flag.result.variant"] = "new", ["feature_flag.result.value"] = true, ["feature_flag.context.id"] = id }))];
            Task<OtelJsRun> emitting = OtelJsClient.EmitAsync(settings, evaluations, TimeSpan.FromMinutes(3));
            await DurableCollector.WaitUntilAsync(
                () => Task.FromResult(collector.Output.Contains("Refusing requests with 503", StringComparison.Ordinal) || emitting.IsCompleted),
                "the collector refuses a request for lack of room", seconds: 60);
            Assert.False(emitting.IsCompleted && !collector.Output.Contains("Refusing requests with 503", StringComparison.Ordinal),
                $"The SDK finished before the buffer filled.\ncollector:\n{collector.Output}");
            File.Delete(exports); // the exporter writes again at its next retry

            OtelJsRun run = await emitting;
            collector.Signal("TERM");
            Assert.Equal(0, await collector.WaitForExitAsync());
            string[] written = [.. Directory.GetFiles(exports).Where(f => !Path.GetFileName(f).StartsWith('.'))
                .SelectMany(f => File.ReadAllText(f).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!)];
            return (run, written, collector);
        }
        catch
        {
            collector.Dispose();
            throw;
        }
    }

    private static string[] ContextIds(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"user-{i:D5}"))];

    private static void AssertExactlyOnce(string[] expected, string[] written, string report)
    {
        string[] twice = [.. written.GroupBy(k => k, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key)];
        Assert.True(twice.Length == 0, $"{twice.Length} evaluations written more than once, for example {string.Join(", ", twice.Take(5))}\n{report}");
        string[] missing = [.. expected.Except(written, StringComparer.Ordinal)];
        Assert.True(missing.Length == 0, $"{missing.Length} acknowledged evaluations missing, for example {string.Join(", ", missing.Take(5))}\n{report}");
        string[] unexpected = [.. written.Except(expected, StringComparer.Ordinal)];
        Assert.True(unexpected.Length == 0, $"{unexpected.Length} evaluations written that were refused, for example {string.Join(", ", unexpected.Take(5))}\n{report}");
    }

    private static string Describe(OtelJsExport export) => $"{export.Count} items: code {export.Code} status {export.Status} {export.Error}";
}
