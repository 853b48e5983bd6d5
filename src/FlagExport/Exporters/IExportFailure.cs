namespace FlagExport;

/// <summary>
/// Implemented by an exception thrown from <see cref="IExporter.ExportAsync"/> that knows whether retrying the same batch
/// can help: a bucket that does not exist, access denied or a batch that cannot be encoded cannot heal by waiting.
/// </summary>
/// <remarks>
/// When <see cref="IsPermanent"/> is true the pipeline writes the batch to the dead-letter folder at once instead of
/// retrying it. Any other exception is taken as transient (network, timeouts, 5xx, throttling) and retried with backoff
/// until <see cref="DataExporterOptions.MaxRetryDuration"/>, after which the batch becomes a dead letter too.
/// The pipeline looks through <see cref="Exception.InnerException"/> for it.
/// </remarks>
public interface IExportFailure
{
    /// <summary>Whether retrying the same batch cannot succeed until something outside is fixed.</summary>
    bool IsPermanent { get; }

    /// <summary>Why the batch could not be written, for the dead letter's manifest and the log.</summary>
    string Reason { get; }
}
