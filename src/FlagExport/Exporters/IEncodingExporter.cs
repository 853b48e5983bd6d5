namespace FlagExport;

/// <summary>
/// An exporter that writes each batch as files or objects in an export format, built for one
/// <see cref="FlagExport.EventType"/> (usually with an <see cref="ExportFileEncoder"/>).
/// </summary>
/// <remarks>
/// The pipeline refuses such an exporter, when it is built, for events of the other type (see
/// <see cref="ITypedExporter"/>); and a dead letter of a batch it could not write holds the object itself, as
/// <see cref="EncodeObjectAsync"/> returns it, beside the events.
/// </remarks>
public interface IEncodingExporter : ITypedExporter
{
    /// <summary>
    /// Encodes <paramref name="events"/> as one object in the exporter's format and compression, for a dead letter;
    /// <see cref="ExportFileOptions.MaxBatchBytes"/> does not apply (a dead letter keeps its batch whole).
    /// </summary>
    /// <param name="events">The events of one batch, all of <see cref="EventType"/>.</param>
    /// <param name="cancellationToken">Cancels the encoding.</param>
    /// <returns>
    /// The bytes, which the caller disposes, and a file name to keep them under, such as <c>object.parquet</c> or
    /// <c>object.json.gz</c>.
    /// </returns>
    /// <exception cref="ExportEncodingException">An event could not be encoded.</exception>
    ValueTask<(PooledBufferWriter Content, string FileName)> EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken);
}
