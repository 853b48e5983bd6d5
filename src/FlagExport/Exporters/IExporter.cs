namespace FlagExport;

/// <summary>
/// Writes one batch of events somewhere: a file, an S3 object, anything.
/// </summary>
/// <remarks>
/// <para>The pipeline owns batching, retries, dead letters and shutdown; an exporter only writes. Let exceptions
/// propagate when a batch cannot be written: the pipeline keeps the batch and tries it again later, with the same
/// <see cref="ExportBatch.Id"/> and events. An export that returns normally must have written every event of the batch,
/// exactly once.</para>
/// <para>Exactly once across retries is the exporter's part of the contract: when an attempt may have written output
/// before it failed (or before the process died), the next attempt must recognise that output, for example by a name
/// recorded with <see cref="ExportBatch.RecordAsync"/> before writing and the batch's <see cref="ExportBatch.Id"/>
/// stored with it.</para>
/// <para>Throw an exception implementing <see cref="IExportFailure"/> with <see cref="IExportFailure.IsPermanent"/>
/// set when retrying cannot help (the bucket does not exist, access is denied, the events cannot be encoded): the
/// pipeline then sets the batch aside as a dead letter instead of retrying it.</para>
/// <para>The batch belongs to the pipeline: do not keep a reference to it after the returned task completes.</para>
/// </remarks>
public interface IExporter
{
    /// <summary>Writes <paramref name="batch"/>'s events, all of the same <see cref="EventType"/>, in order.</summary>
    /// <param name="batch">The batch, never empty, with its identity and attempt.</param>
    /// <param name="cancellationToken">Cancelled when the export takes too long or the process is stopping.</param>
    Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken);
}
