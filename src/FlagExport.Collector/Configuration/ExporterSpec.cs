using FlagExport.Formats;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// One checked entry of the <c>exporters</c> list: which exporter kind it registers, under which name, with which options.
/// </summary>
internal abstract class ExporterSpec
{
    /// <summary>The pipeline name, <c>exporter-&lt;index&gt;</c>; also its metric tag and <c>FlagExport:Exporters</c> key.</summary>
    public required string Name { get; init; }

    /// <summary>Where the entry was read, such as <c>exporters[0]</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The pipeline options read from the entry (<c>flushInterval</c>, <c>maxEventInMemory</c>, <c>eventType</c>).</summary>
    public required PipelineSettings Pipeline { get; init; }

    /// <summary>The exporter kind as written in the configuration: <c>file</c> or <c>s3</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>The output format as the documentation writes it (JSON, CSV, Parquet), whatever case was configured.</summary>
    public string Format => ExportFormats.TryParse(FileOptions.Format, out ExportFormat format) ? format.ToDisplayName() : FileOptions.Format;

    /// <summary>The file options read from the entry (format, filename, templates, codec).</summary>
    protected abstract ExportFileOptions FileOptions { get; }

    /// <summary>Adds the exporter to <paramref name="builder"/>.</summary>
    public abstract void Register(FlagExportBuilder builder);

    /// <summary>One line for the start-up log: kind, format and destination.</summary>
    public string Describe() => $"{Name} ({Path}): {Kind}, {Format}, {Pipeline.EventTypeName} events, to {Destination}";

    /// <summary>Where the files or objects go, for <see cref="Describe"/>.</summary>
    protected abstract string Destination { get; }

    /// <summary>Copies the file options both kinds share onto <paramref name="target"/>.</summary>
    protected void CopyFileOptionsTo(ExportFileOptions target)
    {
        target.Format = FileOptions.Format;
        target.Filename = FileOptions.Filename;
        target.CsvTemplate = FileOptions.CsvTemplate;
        target.ParquetCompressionCodec = FileOptions.ParquetCompressionCodec;
    }
}

/// <summary>The pipeline options an <c>exporters</c> entry may set; <see langword="null"/> keeps FlagExport's default.</summary>
internal sealed record PipelineSettings(TimeSpan? FlushInterval, int? MaxEventInMemory, EventType EventType)
{
    /// <summary>The event type as the relay proxy spells it: <c>feature</c> or <c>tracking</c>.</summary>
    public string EventTypeName => EventType == EventType.Tracking ? "tracking" : "feature";

    public void Apply(DataExporterOptions options)
    {
        options.EventType = EventType;
        if (FlushInterval is { } interval)
        {
            options.FlushInterval = interval;
        }

        if (MaxEventInMemory is { } max)
        {
            options.MaxEventInMemory = max;
        }
    }
}

/// <summary>An entry of kind <c>file</c>.</summary>
internal sealed class FileExporterSpec : ExporterSpec
{
    public required FileExporterOptions Options { get; init; }

    public override string Kind => "file";

    protected override ExportFileOptions FileOptions => Options;

    protected override string Destination => System.IO.Path.GetFullPath(Options.OutputDir);

    public override void Register(FlagExportBuilder builder) =>
        builder.AddFileExporter(Name, CopyTo, Pipeline.Apply);

    private void CopyTo(FileExporterOptions target)
    {
        target.OutputDir = Options.OutputDir;
        CopyFileOptionsTo(target);
    }
}
