using System.Net;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>GET /metrics.</summary>
[Collection(nameof(ProcessWideMetrics))]
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_ArePrometheusText_WithFlagExportAndAspNetCoreInstruments()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        _ = await collector.PostAsync("""{"events":[{"kind":"feature","key":"a"},{"kind":"feature","key":"b"},{"kind":"feature","key":7}]}""");
        await collector.FlushAsync();

        HttpResponseMessage response = await collector.Client.GetAsync("/metrics", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("flagexport_events_added_total{otel_scope_name=\"FlagExport\",otel_scope_flagexport_exporter=\"exporter-0\",flagexport_exporter=\"exporter-0\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("flagexport_events_exported_total{", text, StringComparison.Ordinal);
        Assert.Contains("flagexport_collector_events_total{otel_scope_name=\"FlagExport.Collector\",flagexport_collector_outcome=\"ingested\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("flagexport_collector_events_total{otel_scope_name=\"FlagExport.Collector\",flagexport_collector_outcome=\"rejected\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountTheIdempotencyKeysHeld_AndTheRetriesAnsweredFromThem()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        for (int i = 0; i < 2; i++)
        {
            HttpResponseMessage answer = await collector.PostAsync("""{"events":[{"kind":"feature","key":"a"}]}""",
                configure: request => request.Headers.Add("Idempotency-Key", "batch-1"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        string text = await collector.Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        Assert.Contains("flagexport_collector_idempotency_keys{otel_scope_name=\"FlagExport.Collector\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("flagexport_collector_requests_duplicate_total{otel_scope_name=\"FlagExport.Collector\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("flagexport_collector_idempotency_forgotten_total{otel_scope_name=\"FlagExport.Collector\"} 0", text, StringComparison.Ordinal);
    }
}
