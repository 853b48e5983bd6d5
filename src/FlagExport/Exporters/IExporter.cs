namespace FlagExport;

/// <summary>
/// Writes one batch of events somewhere: a file, an S3 object, anything.
/// </summary>
/// <remarks>
/// The pipeline owns batching, retries and shutdown; an exporter only writes. Let exceptions propagate when a batch
/// cannot be written: the pipeline then keeps the batch and tries it again later. An export that returns normally
/// must have written every event of the batch, exactly once.
/// The batch belongs to the pipeline: do not keep a reference to it after the returned task completes.
/// </remarks>
public interface IExporter
{
    /// <summary>Writes <paramref name="events"/>, all of the same <see cref="EventType"/>, in order.</summary>
    /// <param name="events">The batch, never empty.</param>
    /// <param name="cancellationToken">Cancelled when the export takes too long or the process is stopping.</param>
    Task ExportAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken);
}
