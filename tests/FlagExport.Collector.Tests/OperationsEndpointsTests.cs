using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

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
        // The informational versions the build stamped (VersionPrefix in Directory.Build.props, plus the commit).
        Assert.Equal(InformationalVersion(typeof(CollectorApp)), info.RootElement.GetProperty("version").GetString());
        Assert.Equal(InformationalVersion(typeof(IFlagEventSink)), info.RootElement.GetProperty("flagExportVersion").GetString());
        Assert.Matches(@"^\d+\.\d+\.\d+", info.RootElement.GetProperty("version").GetString());
        Assert.True(info.RootElement.GetProperty("startedAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
        Assert.Equal(
            """[{"name":"exporter-0","kind":"file","format":"JSON","eventType":"feature"},{"name":"exporter-1","kind":"file","format":"JSON","eventType":"tracking"}]""",
            info.RootElement.GetProperty("exporters").GetRawText());
        Assert.DoesNotContain(collector.FeatureDir, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_NamesFormatsAsTheDocumentationDoes_WhateverTheirCaseInTheConfiguration()
    {
        await using TestCollector collector = await TestCollector.StartAsync(
            new Dictionary<string, string?> { ["exporters:0:format"] = "csv", ["exporters:1:format"] = "PARQUET" });

        string text = await collector.Client.GetStringAsync("/info", TestContext.Current.CancellationToken);

        using JsonDocument info = JsonDocument.Parse(text);
        Assert.Equal(["CSV", "Parquet"], info.RootElement.GetProperty("exporters").EnumerateArray().Select(e => e.GetProperty("format").GetString()));
    }

    private static string? InformationalVersion(Type type) =>
        System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(type.Assembly)?.InformationalVersion;
}
