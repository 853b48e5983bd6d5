using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport;

/// <summary>Adds <see cref="FileExporter"/> pipelines to <c>AddFlagExport</c>.</summary>
public static class FileExporterBuilderExtensions
{
    /// <summary>The name <see cref="AddFileExporter"/> uses when none is given.</summary>
    internal const string DefaultName = "file";

    // How the options are bound and checked, and the exporter built; shared by every file exporter.
    private static readonly ExportFileExporterDescriptor<FileExporterOptions, FileExporter> Descriptor = new()
    {
        BindOptions = static (section, options) => section.Bind(options),
        ValidateOptions = static (options, eventType) => _ = new FileExporter(options, eventType),
        ExporterFactory = static (services, options, eventType) => new FileExporter(options, eventType, services.GetRequiredService<TimeProvider>()),
    };

    /// <summary>
    /// Adds a pipeline that writes its batches to files in a local folder.
    /// </summary>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="name">
    /// The exporter's name. Its options, both <see cref="FileExporterOptions"/> and <see cref="DataExporterOptions"/>, are
    /// read from the configuration section <c>FlagExport:Exporters:&lt;name&gt;</c>. The default value is <c>file</c>.
    /// </param>
    /// <param name="configure">Sets the file options in code; configuration values override them.</param>
    /// <param name="configurePipeline">Sets the pipeline options (flush interval, sizes) in code; configuration values override them.</param>
    /// <returns>The builder.</returns>
    /// <remarks>Invalid options stop the host at start-up with a message naming the configuration key and the value.</remarks>
    /// <example>
    /// <code>
    /// builder.Services.AddFlagExport(export => export
    ///     .AddFileExporter("csv", file => { file.Format = "CSV"; file.OutputDir = "/var/flags"; },
    ///         pipeline => pipeline.FlushInterval = TimeSpan.FromSeconds(10)));
    /// </code>
    /// </example>
    public static FlagExportBuilder AddFileExporter(
        this FlagExportBuilder builder,
        string name = DefaultName,
        Action<FileExporterOptions>? configure = null,
        Action<DataExporterOptions>? configurePipeline = null) =>
        builder.AddExportFileExporter(name, Descriptor, configure, configurePipeline);
}
