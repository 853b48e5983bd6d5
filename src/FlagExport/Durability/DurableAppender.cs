namespace FlagExport.Durability;

/// <summary>
/// The exporter of the durable buffer's intake pipelines: <see cref="IFlagEventSink.Add"/> stays a non-blocking,
/// allocation-free enqueue into an ordinary in-memory pipeline, and this "exporter" moves each batch into the log and
/// waits until it is on disk.
/// </summary>
/// <remarks>
/// <para>Invariant: the log never holds an event of a batch twice. A retry of the same batch goes on after the events
/// whose records are durable, and waits for those appended but not yet durable instead of appending them again; only
/// records the log reports discarded (their group commit failed, nothing of them kept) are appended again.</para>
/// <para>A batch larger than one append can take (<see cref="DurableEventStore.MaxAppendBytes"/>) is appended in
/// smaller slices, each made durable before the next: the library acknowledged each event when it was added, so a
/// batch need not be kept whole. A single event larger than that can never be kept and is a permanent failure (the
/// intake sets it aside as a dead letter).</para>
/// </remarks>
internal sealed class DurableAppender(DurableEventStore store) : IExporter
{
    private string? _batchId;
    private int _durableCount;    // events of the batch whose records are durable
    private int _appendedCount;   // events of the batch appended (durable or not yet)
    private long _appendedEnd;

    /// <inheritdoc/>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        IReadOnlyList<ExportableEvent> events = batch.Events;
        if (_batchId != batch.Id)
        {
            (_batchId, _durableCount, _appendedCount) = (batch.Id, 0, 0);
        }

        int slice = events.Count - _durableCount;
        while (_durableCount < events.Count)
        {
            if (_appendedCount == _durableCount)
            {
                slice = Math.Min(slice, events.Count - _durableCount);
                IReadOnlyList<ExportableEvent> part = _durableCount == 0 && slice == events.Count
                    ? events
                    : Slice(events, _durableCount, slice);
                bool appended;
                try
                {
                    appended = store.TryAppend(part, out _appendedEnd);
                }
                catch (DurableRequestTooLargeException) when (slice > 1)
                {
                    slice /= 2;
                    continue;
                }

                if (!appended)
                {
                    throw new DurableBufferFullException(store.Directory, store.MaxBytes);
                }

                _appendedCount = _durableCount + slice;
            }

            try
            {
                await store.WaitForDurableAsync(_appendedEnd, cancellationToken).ConfigureAwait(false);
            }
            catch (RecordsDiscardedException)
            {
                _appendedCount = _durableCount; // nothing of that slice was kept: the retry appends it again
                throw;
            }

            _durableCount = _appendedCount;
        }
    }

    /// <summary>A copy of <paramref name="count"/> events from <paramref name="start"/>: only for a batch too large for one append.</summary>
    private static ExportableEvent[] Slice(IReadOnlyList<ExportableEvent> events, int start, int count)
    {
        var slice = new ExportableEvent[count];
        for (int i = 0; i < count; i++)
        {
            slice[i] = events[start + i];
        }

        return slice;
    }
}
