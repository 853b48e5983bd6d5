using Microsoft.Extensions.Configuration;

namespace FlagExport.BucketFolderExporter;

/// <summary>Registers a <see cref="BucketFolderExporter"/> with FlagExport.</summary>
public static class BucketFolderExporterBuilderExtensions
{
    // How this kind binds and checks its options and builds its exporter; the same for every exporter of the kind.
    private static readonly ExportFileExporterDescriptor<BucketFolderExporterOptions, BucketFolderExporter> Descriptor = new()
    {
        BindOptions = static (section, options) => section.Bind(options),
        ValidateOptions = static (options, eventType) => _ = BucketFolderExporter.Check(options, eventType),
        ExporterFactory = static (services, options, eventType) => new BucketFolderExporter(options, eventType, services.GetService(typeof(TimeProvider)) as TimeProvider),
    };

    /// <summary>
    /// Adds a bucket-folder exporter named <paramref name="name"/>, configured in code and by the section
    /// <c>FlagExport:Exporters:&lt;name&gt;</c> (its options and the pipeline's), checked when the host starts.
    /// </summary>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="name">The exporter's name.</param>
    /// <param name="configure">Sets the exporter's options in code; the configuration section overrides it.</param>
    /// <param name="configurePipeline">Sets the pipeline's options in code; the configuration section overrides it.</param>
    /// <returns>The builder, for chaining.</returns>
    public static FlagExportBuilder AddBucketFolderExporter(
        this FlagExportBuilder builder,
        string name = "bucket-folder",
        Action<BucketFolderExporterOptions>? configure = null,
        Action<DataExporterOptions>? configurePipeline = null) =>
        builder.AddExportFileExporter(name, Descriptor, configure, configurePipeline);
}
