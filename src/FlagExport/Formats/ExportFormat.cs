namespace FlagExport.Formats;

/// <summary>The file formats an exporter can write; parsed from the <c>Format</c> option by <see cref="ExportFormats"/>.</summary>
internal enum ExportFormat
{
    Json,
    Csv,
    Parquet,
}
