namespace FlagExport;

/// <summary>The file formats an exporter writes, named by the <see cref="ExportFileOptions.Format"/> option.</summary>
internal enum ExportFormat
{
    /// <summary>JSON lines (<c>json</c>): one event per line, byte for byte as go-feature-flag writes it.</summary>
    Json,

    /// <summary>CSV (<c>csv</c>): one line per event from <see cref="ExportFileOptions.CsvTemplate"/>.</summary>
    Csv,

    /// <summary>Parquet (<c>parquet</c>): one file per batch, compressed by <see cref="ExportFileOptions.ParquetCompressionCodec"/>.</summary>
    Parquet,
}
