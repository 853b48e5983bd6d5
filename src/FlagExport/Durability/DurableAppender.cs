namespace FlagExport.Durability;

/// <summary>
/// The exporter of the durable buffer's intake pipelines: <see cref="IFlagEventSink.Add"/> stays a non-blocking,
/// allocation-free enqueue into an ordinary in-memory pipeline, and this "exporter" moves each batch into the log and
/// waits until it is on disk.
/// </summary>
/// <remarks>
/// A retry of the same batch waits for the records appended the first time instead of appending them again, so the log
/// never holds an event twice; only once the log reports them discarded (their group commit failed, nothing of them is
/// kept) does the retry append them again.
/// </remarks>
internal sealed class DurableAppender(DurableEventStore store) : IExporter
{
    private string? _appendedBatchId;
    private long _appendedEnd;

    /// <inheritdoc/>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        if (_appendedBatchId != batch.Id)
        {
            if (!store.TryAppend(batch.Events, out long end))
            {
                throw new DurableBufferFullException(store.Directory, store.MaxBytes);
            }

            (_appendedBatchId, _appendedEnd) = (batch.Id, end);
        }

        try
        {
            await store.WaitForDurableAsync(_appendedEnd, cancellationToken).ConfigureAwait(false);
        }
        catch (RecordsDiscardedException)
        {
            _appendedBatchId = null;
            throw;
        }
    }
}
