using FlagExport.Formats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// One entry of the <c>exporters</c> list: which exporter kind it registers and under which name. Its options are the
/// library's, bound from <c>FlagExport:Exporters:&lt;name&gt;</c> (where <see cref="RelayProxyAliases"/> puts the entry's
/// keys); read them from the container once the options are validated.
/// </summary>
internal abstract class ExporterSpec
{
    /// <summary>The exporter kinds an entry may name, for messages.</summary>
    public const string Kinds = "file, s3, azureBlobStorage, webhook";

    /// <summary>
    /// The pipeline name: the entry's <c>name</c>, or derived from <see cref="Destination"/>; also its metric and log tag,
    /// <c>FlagExport:Exporters</c> key, dead-letter owner and durable-buffer cursor. Never depends on the entry's position.
    /// </summary>
    public required string Name { get; init; }

    /// <summary>Whether <see cref="Name"/> was written in the entry (rather than derived).</summary>
    public bool Named { get; init; }

    /// <summary>
    /// What the exporter writes to, as its name is derived from: <c>file:&lt;full path&gt;</c>,
    /// <c>s3:&lt;bucket&gt;/&lt;prefix&gt;</c>, <c>azureBlobStorage:&lt;account&gt;/&lt;container&gt;/&lt;prefix&gt;</c> or
    /// <c>webhook:&lt;endpoint without credentials or query&gt;</c>.
    /// </summary>
    public required string Destination { get; init; }

    /// <summary>Where the entry was read, such as <c>exporters[0]</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The exporter kind as written in the configuration: <c>file</c>, <c>s3</c>, <c>azureBlobStorage</c> or <c>webhook</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Adds the exporter to <paramref name="builder"/>, with the collector's default file name.</summary>
    public abstract void Register(FlagExportBuilder builder);

    /// <summary>
    /// The exporter's file options (format, filename, templates, codec), as bound and validated; null for an exporter
    /// that writes no files (a webhook posts JSON).
    /// </summary>
    public abstract ExportFileOptions? FileOptions(IServiceProvider services);

    /// <summary>The exporter's pipeline options, as bound and validated.</summary>
    public DataExporterOptions Pipeline(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<DataExporterOptions>>().Get(Name);

    /// <summary>The output format as the documentation writes it (JSON, CSV, Parquet), whatever case was configured.</summary>
    public string Format(IServiceProvider services)
    {
        if (FileOptions(services) is not { } options)
        {
            return "JSON";
        }

        string format = options.Format;
        return ExportFormats.TryParse(format, out ExportFormat parsed) ? parsed.ToDisplayName() : format;
    }

    /// <summary>The event type as the relay proxy spells it: <c>feature</c> or <c>tracking</c>.</summary>
    public string EventTypeName(IServiceProvider services) => Pipeline(services).EventType == EventType.Tracking ? "tracking" : "feature";

    /// <summary>One line for the start-up log: kind, format and destination.</summary>
    public string Describe(IServiceProvider services) =>
        $"{Name} ({Path}): {Kind}, {Format(services)}, {EventTypeName(services)} events, to {Target(services)}";

    /// <summary>Where the files, objects or requests go, as bound, for <see cref="Describe"/>.</summary>
    protected abstract string Target(IServiceProvider services);
}

/// <summary>An entry of kind <c>file</c>.</summary>
internal sealed class FileExporterSpec : ExporterSpec
{
    public override string Kind => "file";

    public override void Register(FlagExportBuilder builder) =>
        builder.AddFileExporter(Name, static o => o.Filename = CollectorSettings.DefaultFilename);

    public override ExportFileOptions? FileOptions(IServiceProvider services) => Options(services);

    /// <summary>The exporter's options, as bound and validated.</summary>
    public FileExporterOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<FileExporterOptions>>().Get(Name);

    protected override string Target(IServiceProvider services) => System.IO.Path.GetFullPath(Options(services).OutputDir);
}
