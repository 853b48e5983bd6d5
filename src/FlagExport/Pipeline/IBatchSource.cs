namespace FlagExport;

/// <summary>
/// Where an <see cref="ExportWorker"/> cuts its batches from: events numbered by position from 0, made available at the
/// end (<see cref="Sequence"/>) and retired from the start by the worker once written or set aside. The in-memory ring
/// (<see cref="RingBatchSource"/>) and the durable log (<see cref="DurableBatchSource"/>) differ only behind these members,
/// so the worker has no mode of its own.
/// </summary>
/// <remarks>
/// <para>Invariant: <c>Retired ≤ the worker's next position ≤ Sequence</c>; positions below <see cref="Retired"/> are
/// never handed out again.</para>
/// <para>The counters are read from any thread; every method is called by the worker only.</para>
/// </remarks>
internal interface IBatchSource
{
    /// <summary>The end of the positions available: what a drain or a flush waits for.</summary>
    long Sequence { get; }

    /// <summary>Positions below this one are written or set aside.</summary>
    long Retired { get; }

    /// <summary>How many real events were accepted (for the events-added metric): positions given back as holes are not.</summary>
    long AcceptedCount { get; }

    /// <summary>How many events were refused because the buffer was full.</summary>
    long DroppedCount { get; }

    /// <summary>How many events were refused because the source had stopped accepting them.</summary>
    long RefusedAfterStopCount { get; }

    /// <summary>Whether what is not written at a stop survives it (the durable log).</summary>
    bool IsDurable { get; }

    /// <summary>Wakes the worker when a full batch is available.</summary>
    SizeTrigger Trigger { get; }

    /// <summary>Stops accepting events: <see cref="Sequence"/> read afterwards is the drain's final target.</summary>
    void Close();

    /// <summary>
    /// Moves the events of positions <c>[first, first + count)</c> into <paramref name="batch"/>, fewer when the next
    /// would take it past <paramref name="maxBatchBytes"/>, and gives the batch its identity (its end is where the next
    /// cut starts). A batch the source recorded before a restart is returned as it was, whatever the count.
    /// </summary>
    /// <remarks>May throw (a disk, a damaged record): nothing was taken then, and the worker retries the cut.</remarks>
    BatchState Take(long first, long count, List<ExportableEvent> batch, long maxBatchBytes);

    /// <summary>Records the attempts and first failure of the batch in flight where a restart finds them; never throws.</summary>
    void SaveProgress();

    /// <summary>Records that the batch ending at <paramref name="end"/> left the pipeline; may throw (the batch is then retried).</summary>
    void Commit(long end);

    /// <summary>Retires positions below <paramref name="end"/>, after <see cref="Commit"/>: their room is free again.</summary>
    void Retire(long end);

    /// <summary>
    /// At a stop, lets go of <paramref name="count"/> events not written (from <see cref="Retired"/> on; those from
    /// <paramref name="from"/> on were never taken into a batch).
    /// </summary>
    /// <returns>How many of them are lost: all for memory, none for the durable log (the next start exports them).</returns>
    long Abandon(long from, long count);
}
