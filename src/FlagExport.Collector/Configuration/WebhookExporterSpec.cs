using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// An entry of kind <c>webhook</c>, with go-feature-flag's keys: <c>endpointUrl</c>, <c>secret</c>, <c>meta</c> and
/// <c>headers</c> (plus the pipeline's <c>flushInterval</c>, <c>maxEventInMemory</c>, <c>eventType</c>).
/// </summary>
internal sealed class WebhookExporterSpec : ExporterSpec
{
    public override string Kind => "webhook";

    public override void Register(FlagExportBuilder builder) => builder.AddWebhookExporter(Name);

    public override ExportFileOptions? FileOptions(IServiceProvider services) => null;

    /// <summary>The exporter's options, as bound and validated.</summary>
    public WebhookExporterOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<WebhookExporterOptions>>().Get(Name);

    protected override string Target(IServiceProvider services) =>
        Uri.TryCreate(Options(services).EndpointUrl, UriKind.Absolute, out Uri? endpoint) ? WebhookExporter.LocationOf(endpoint) : Options(services).EndpointUrl;
}
