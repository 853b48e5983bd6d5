namespace FlagExport;

/// <summary>
/// The options every file-writing exporter shares, named as go-feature-flag's exporters name them.
/// </summary>
/// <remarks>
/// Designed for inheritance by <see cref="FileExporterOptions"/> and the S3 exporter's options. Values are checked when
/// the exporter is created; a bad value throws an <see cref="ArgumentException"/> that names the option and the value.
/// </remarks>
public abstract class ExportFileOptions
{
    /// <summary>The default for <see cref="Filename"/>.</summary>
    internal const string DefaultFilename = Templates.FilenameTemplate.DefaultText;

    /// <summary>The default for <see cref="CsvTemplate"/>, ending with a newline.</summary>
    internal const string DefaultCsvTemplate = Formats.CsvEncoder.DefaultFeatureTemplate;

    /// <summary>The default for <see cref="Format"/>.</summary>
    internal const string DefaultFormat = "JSON";

    /// <summary>The default for <see cref="ParquetCompressionCodec"/>.</summary>
    internal const string DefaultParquetCompressionCodec = "SNAPPY";

    /// <summary>The default for <see cref="ParquetRowGroupSize"/>: one million rows.</summary>
    internal const int DefaultParquetRowGroupSize = 1_000_000;

    /// <summary>The smallest value <see cref="MaxBatchBytes"/> accepts: 1 KiB.</summary>
    internal const int MinMaxBatchBytes = 1024;

    /// <summary>
    /// The output format: <c>JSON</c> (JSON lines), <c>CSV</c> or <c>Parquet</c>, case-insensitive.
    /// The default value is <c>JSON</c>.
    /// </summary>
    public string Format { get; set; } = DefaultFormat;

    /// <summary>
    /// The name of each file, a Go template with the fields <c>{{ .Hostname}}</c>, <c>{{ .Timestamp}}</c> (Unix seconds of
    /// the flush), <c>{{ .Format}}</c> (json, csv or parquet), <c>{{ .UUID}}</c> and <c>{{ .Sequence}}</c> (a per-process counter).
    /// The default value is <c>flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}</c>.
    /// </summary>
    /// <remarks>A name that is already taken gets <c>-1</c>, <c>-2</c>… before its extension: no file is ever overwritten.</remarks>
    public string Filename { get; set; } = DefaultFilename;

    /// <summary>
    /// The line written for each event when <see cref="Format"/> is CSV, a Go template over the event's fields
    /// (<c>{{ .Kind}}</c>, <c>{{ .UserKey}}</c>, <c>{{ .Value}}</c>, <c>{{ .FormattedDate}}</c>, …). Ignored for other formats.
    /// The default value is go-feature-flag's
    /// <c>{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}</c>
    /// followed by a newline; a tracking exporter left on this default writes its own fields instead.
    /// </summary>
    public string CsvTemplate { get; set; } = DefaultCsvTemplate;

    /// <summary>
    /// The Parquet compression codec: UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, LZ4_RAW or ZSTD, case-insensitive.
    /// Ignored for other formats. The default value is <c>SNAPPY</c>.
    /// </summary>
    public string ParquetCompressionCodec { get; set; } = DefaultParquetCompressionCodec;

    /// <summary>
    /// The most rows (events) in one Parquet row group, at least 1: a larger batch is written as several row groups,
    /// each with its own dictionaries and min/max statistics. Ignored for other formats. The default value is
    /// 1,000,000, so a batch of the default <c>MaxEventInMemory</c> is one row group.
    /// </summary>
    /// <remarks>
    /// Readers split work and skip data by row group; the writer holds one row group's columns in memory at a time
    /// (about 350 bytes per row with string dictionaries). docs/parquet.md explains the default.
    /// </remarks>
    public int ParquetRowGroupSize { get; set; } = DefaultParquetRowGroupSize;

    /// <summary>
    /// The most bytes in one file or object, at least 1 KiB, or <see langword="null"/> (the default) for no limit: a batch
    /// whose encoding is larger is written as several files or objects, in order, each one at most this size and, except
    /// the last of a batch (or of an S3 partition), at least 90% of it.
    /// </summary>
    /// <remarks>
    /// Measured on the bytes written: the Parquet file, or the JSON lines or CSV after the S3 exporter's
    /// <c>Compression</c>. The batch is cut first by <c>MaxEventInMemory</c> and <c>FlushInterval</c>; raise them to get
    /// objects near this size. Each part's events are recorded with the batch before the part is written, and a retry
    /// writes the same parts under the same names with the options the batch started with, even after this option
    /// changed. One event larger than the limit is written alone, in a file of its own above the limit.
    /// </remarks>
    public int? MaxBatchBytes { get; set; }
}
