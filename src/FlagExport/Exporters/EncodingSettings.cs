namespace FlagExport;

/// <summary>
/// The options that decide a batch's bytes and where its parts are cut, as given (not normalised), so that an encoder
/// built again from them encodes and cuts a batch exactly as the first one did.
/// </summary>
internal sealed record EncodingSettings(
    string Format, string CsvTemplate, string ParquetCompressionCodec, int ParquetRowGroupSize, int? MaxBatchBytes, EventType EventType)
{
    /// <summary>The options to build that encoder from (<see cref="ExportFileEncoder.Create"/>).</summary>
    public ExportFileOptions ToOptions() => new Options
    {
        Format = Format,
        CsvTemplate = CsvTemplate,
        ParquetCompressionCodec = ParquetCompressionCodec,
        ParquetRowGroupSize = ParquetRowGroupSize,
        MaxBatchBytes = MaxBatchBytes,
    };

    private sealed class Options : ExportFileOptions;
}
