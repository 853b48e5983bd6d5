namespace FlagExport;

/// <summary>
/// Marks an exception thrown by <see cref="IExporter.ExportAsync"/> as one that retrying the same batch cannot heal:
/// a bucket that does not exist, access denied, a batch that cannot be encoded.
/// </summary>
/// <remarks>
/// The pipeline writes such a batch to the dead-letter folder at once instead of retrying it. Any other exception is
/// taken as transient and retried with backoff until <see cref="DataExporterOptions.MaxRetryDuration"/>.
/// </remarks>
public interface IPermanentExportFailure
{
    /// <summary>Why the batch cannot be written, for the dead letter's manifest and the log.</summary>
    string Reason { get; }
}
