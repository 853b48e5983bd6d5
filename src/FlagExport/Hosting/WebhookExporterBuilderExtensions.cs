using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>Adds <see cref="WebhookExporter"/> pipelines to <c>AddFlagExport</c>.</summary>
public static class WebhookExporterBuilderExtensions
{
    /// <summary>The name <see cref="AddWebhookExporter"/> uses when none is given.</summary>
    internal const string DefaultName = "webhook";

    /// <summary>
    /// Adds a pipeline that posts its batches to an HTTP endpoint, as go-feature-flag's webhook exporter does.
    /// </summary>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="name">
    /// The exporter's name. Its options, both <see cref="WebhookExporterOptions"/> and <see cref="DataExporterOptions"/>,
    /// are read from the configuration section <c>FlagExport:Exporters:&lt;name&gt;</c>. The default value is <c>webhook</c>.
    /// </param>
    /// <param name="configure">Sets the webhook options in code; configuration values override them.</param>
    /// <param name="configurePipeline">Sets the pipeline options (flush interval, sizes) in code; configuration values override them.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Invalid options stop the host at start-up with a message naming the configuration key and the value. An endpoint
    /// that does not answer HTTP (refused, unresolved, TLS failure) stops it too, unless
    /// <see cref="WebhookExporterOptions.VerifyEndpointOnStart"/> is turned off; any HTTP answer passes.
    /// </remarks>
    /// <example>
    /// <code>
    /// builder.Services.AddFlagExport(export => export
    ///     .AddWebhookExporter("audit", webhook =>
    ///     {
    ///         webhook.EndpointUrl = "https://collector.example.com/v1/data/collector";
    ///         webhook.Secret = builder.Configuration["WEBHOOK_SECRET"];
    ///     }));
    /// </code>
    /// </example>
    public static FlagExportBuilder AddWebhookExporter(
        this FlagExportBuilder builder,
        string name = DefaultName,
        Action<WebhookExporterOptions>? configure = null,
        Action<DataExporterOptions>? configurePipeline = null)
    {
        _ = builder.AddOptionsExporter(
            name,
            configure,
            configurePipeline,
            static (section, options) => section.Bind(options),
            static (options, _) => WebhookExporter.Validate(options),
            static (_, options, eventType) => new WebhookExporter(options, eventType));
        _ = builder.Services.AddSingleton<IHostedService>(services => new WebhookEndpointCheck(name, services));
        return builder;
    }

    /// <summary>Runs <see cref="WebhookExporter.VerifyEndpointAsync"/> when the host starts, if the exporter's options ask for it.</summary>
    private sealed class WebhookEndpointCheck(string name, IServiceProvider services) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (!services.GetRequiredService<IOptionsMonitor<WebhookExporterOptions>>().Get(name).VerifyEndpointOnStart)
            {
                return;
            }

            try
            {
                _ = await services.GetRequiredKeyedService<WebhookExporter>(name).VerifyEndpointAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (WebhookExportException error)
            {
                // The exporter's message names the endpoint; the host's names which exporter and which option.
                throw new WebhookExportException(
                    $"{FlagExportBuilder.GetConfigurationPath(name)}:{nameof(WebhookExporterOptions.EndpointUrl)}: {error.Message} " +
                    $"Set {nameof(WebhookExporterOptions.VerifyEndpointOnStart)} to false if the receiver may start later.", error);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
