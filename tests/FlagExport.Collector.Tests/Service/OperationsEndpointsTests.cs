using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Service;

/// <summary>GET /health, /info and /metrics.</summary>
public sealed class OperationsEndpointsTests
{
    [Fact]
    public async Task Health_Is200_AsTheRelayProxyAnswers()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.Client.GetAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"initialized":true}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Info_GivesVersionsAndExporters_WithoutTheirSettings()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.Client.GetAsync("/info", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        using JsonDocument info = JsonDocument.Parse(text);
        Assert.Equal("FlagExport.Collector", info.RootElement.GetProperty("name").GetString());
        Assert.StartsWith("1.0.0", info.RootElement.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("1.0.0", info.RootElement.GetProperty("flagExportVersion").GetString(), StringComparison.Ordinal);
        Assert.True(info.RootElement.GetProperty("startedAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
        Assert.Equal(
            """[{"name":"exporter-0","kind":"file","format":"JSON","eventType":"feature"},{"name":"exporter-1","kind":"file","format":"JSON","eventType":"tracking"}]""",
            info.RootElement.GetProperty("exporters").GetRawText());
        Assert.DoesNotContain(collector.FeatureDir, text, StringComparison.Ordinal);
    }

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
}
