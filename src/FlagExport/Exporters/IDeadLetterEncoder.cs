using FlagExport.Buffers;

namespace FlagExport;

/// <summary>
/// An exporter that can encode a batch exactly as it would have written it, so that a dead letter holds the object
/// itself (CSV, Parquet, compressed) beside the events.
/// </summary>
internal interface IDeadLetterEncoder
{
    /// <summary>Encodes <paramref name="events"/> as one object; the caller disposes the buffer.</summary>
    /// <returns>The bytes and the file name to keep them under, such as <c>object.parquet</c> or <c>object.json.gz</c>.</returns>
    ValueTask<(PooledBufferWriter Content, string FileName)> EncodeAsDeadLetterAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken);
}
