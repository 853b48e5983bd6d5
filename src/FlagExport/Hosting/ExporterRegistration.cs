namespace FlagExport;

/// <summary>One named pipeline registered with <see cref="FlagExportBuilder.AddExporter"/>.</summary>
/// <param name="Name">The pipeline's name: its options name, configuration key, log and metric tag.</param>
/// <param name="Factory">Creates the exporter when the pipelines start.</param>
internal sealed record ExporterRegistration(string Name, Func<IServiceProvider, IExporter> Factory);
