using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport.AzureBlob;

/// <summary>Adds <see cref="AzureBlobExporter"/> pipelines to <c>AddFlagExport</c>.</summary>
public static class AzureBlobExporterBuilderExtensions
{
    /// <summary>The name <see cref="AddAzureBlobExporter"/> uses when none is given.</summary>
    internal const string DefaultName = "azureBlob";

    /// <summary>Adds a pipeline that writes its batches as blobs in an Azure Blob Storage container.</summary>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="name">
    /// The exporter's name. Its options, both <see cref="AzureBlobExporterOptions"/> and <see cref="DataExporterOptions"/>,
    /// are read from the configuration section <c>FlagExport:Exporters:&lt;name&gt;</c>. The default value is <c>azureBlob</c>.
    /// </param>
    /// <param name="configure">Sets the Azure Blob options in code; configuration values override them.</param>
    /// <param name="configurePipeline">Sets the pipeline options in code; configuration values override them.</param>
    /// <param name="containerClient">
    /// Supplies the container client. The default value is <see langword="null"/>: the exporter builds its own from the
    /// options and the standard Azure sources.
    /// </param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Invalid options stop the host at start-up with a message naming the configuration key and the value. A missing
    /// container or refused credentials stop it too, unless <see cref="AzureBlobExporterOptions.VerifyContainerOnStart"/> is off.
    /// </remarks>
    public static FlagExportBuilder AddAzureBlobExporter(
        this FlagExportBuilder builder,
        string name = DefaultName,
        Action<AzureBlobExporterOptions>? configure = null,
        Action<DataExporterOptions>? configurePipeline = null,
        Func<IServiceProvider, BlobContainerClient>? containerClient = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var descriptor = new ExportFileExporterDescriptor<AzureBlobExporterOptions, AzureBlobExporter>
        {
            BindOptions = static (section, options) => section.Bind(options),
            ValidateOptions = (options, eventType) => AzureBlobExporter.Check(options, eventType, containerClient is null ? Environment.GetEnvironmentVariable : null).Encoder.Dispose(),
            ExporterFactory = (services, options, eventType) => new AzureBlobExporter(
                options,
                containerClient?.Invoke(services),
                eventType,
                services.GetService<TimeProvider>(),
                services.GetService<ILoggerFactory>()?.CreateLogger<AzureBlobExporter>()),
        };
        _ = builder.AddExportFileExporter(name, descriptor, configure, configurePipeline);

        _ = builder.Services.AddSingleton<IHostedService>(services => new ContainerCheck(name, services));
        return builder;
    }

    /// <summary>Runs <see cref="AzureBlobExporter.VerifyContainerAsync"/> when the host starts, if the options ask for it.</summary>
    private sealed class ContainerCheck(string name, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            services.GetRequiredService<IOptionsMonitor<AzureBlobExporterOptions>>().Get(name).VerifyContainerOnStart
                ? services.GetRequiredKeyedService<AzureBlobExporter>(name).VerifyContainerAsync(cancellationToken)
                : Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
