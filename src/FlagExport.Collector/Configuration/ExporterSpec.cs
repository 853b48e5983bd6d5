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
    public string Format => ExportFormats.TryParse(ConfiguredFormat, out ExportFormat format) ? format.ToDisplayName() : ConfiguredFormat;

    /// <summary>The output format as configured.</summary>
    protected abstract string ConfiguredFormat { get; }

    /// <summary>Adds the exporter to <paramref name="builder"/>.</summary>
    public abstract void Register(FlagExportBuilder builder);

    /// <summary>One line for the start-up log: kind, format and destination.</summary>
    public abstract string Describe();
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

    protected override string ConfiguredFormat => Options.Format;

    public override void Register(FlagExportBuilder builder) =>
        builder.AddFileExporter(Name, o => CopyTo(o), Pipeline.Apply);

    public override string Describe() =>
        $"{Name} ({Path}): file, {Format}, {Pipeline.EventTypeName} events, to {System.IO.Path.GetFullPath(Options.OutputDir)}";

    private void CopyTo(FileExporterOptions target)
    {
        target.OutputDir = Options.OutputDir;
        target.Format = Options.Format;
        target.Filename = Options.Filename;
        target.CsvTemplate = Options.CsvTemplate;
        target.ParquetCompressionCodec = Options.ParquetCompressionCodec;
    }
}
