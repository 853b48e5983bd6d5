using FlagExport.Durability;
using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <summary>
/// The durable batch source: one exporter's view of the shared durable log. Positions are the log's;
/// <see cref="Sequence"/> is the durable end seen (<see cref="OnDurableAdvanced"/>); a batch is a range of positions,
/// saved in the exporter's cursor before its first attempt and committed there once it left the pipeline.
/// </summary>
/// <remarks>
/// Events reach the log another way (the log's appenders), never through this source, so it refuses and drops nothing.
/// </remarks>
internal sealed class DurableBatchSource : IBatchSource
{
    private readonly DurableSource _durable;
    private readonly string _name;
    private readonly string _idScope;
    private readonly ILogger _logger;

    private long _end;      // the durable end seen; only grows
    private long _retired;  // written by the worker only

    /// <summary>
    /// Starts where the cursor says: positions below its committed position are written; a batch it saved in flight is
    /// cut again exactly (see <see cref="Take"/>).
    /// </summary>
    internal DurableBatchSource(string name, DataExporterOptions options, DurableSource durable, WorkerSignal signal, ILogger logger)
    {
        _durable = durable;
        _name = name;
        _idScope = BatchState.ScopeOf(name);
        _logger = logger;
        long committed = durable.Cursor.Committed;
        _retired = committed;
        _end = Math.Max(committed, durable.Store.DurablePosition);
        Trigger = new SizeTrigger(signal, committed + options.MaxEventInMemory);
    }

    /// <inheritdoc/>
    public long Sequence => Volatile.Read(ref _end);

    /// <inheritdoc/>
    public long Retired => Volatile.Read(ref _retired);

    /// <inheritdoc/>
    /// <remarks>Every position of the log this source has seen, from its start.</remarks>
    public long AcceptedCount => Sequence;

    /// <inheritdoc/>
    public long DroppedCount => 0;

    /// <inheritdoc/>
    public long RefusedAfterStopCount => 0;

    /// <inheritdoc/>
    public bool IsDurable => true;

    /// <inheritdoc/>
    public SizeTrigger Trigger { get; }

    /// <summary>Called by the store's notifier when records up to <paramref name="durablePosition"/> are on disk.</summary>
    internal void OnDurableAdvanced(long durablePosition)
    {
        long end = Volatile.Read(ref _end);
        while (end < durablePosition)
        {
            long seen = Interlocked.CompareExchange(ref _end, durablePosition, end);
            if (seen == end)
            {
                break;
            }

            end = seen;
        }

        Trigger.Reached(durablePosition);
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to close: nothing is added here, and the drain's target is the end read once.</remarks>
    public void Close()
    {
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The cut by bytes depends only on the records and the options, so a crash before the range is saved cuts the same
    /// range again (with the same options); once saved, the range is reused as it is. May hold no event at all: a range
    /// of the other type's events is only committed.
    /// </remarks>
    public BatchState Take(long first, long count, List<ExportableEvent> batch, long maxBatchBytes)
    {
        BatchState? recovered = _durable.Cursor.InFlight;
        long end = recovered?.EndPosition ?? first + count;

        // Any failure below leaves nothing taken: the worker clears the batch and retries the cut.
        end = _durable.Reader.ReadRange(first, end, batch, recovered is null ? maxBatchBytes : long.MaxValue, EventSize.Bound);
        BatchState state = recovered ?? new BatchState(BatchState.FormatId(_durable.Store.BufferId, _idScope, first, end), first, end);
        ExporterCursor cursor = _durable.Cursor;
        state.Persist = (_, _) =>
        {
            cursor.Save();
            return ValueTask.CompletedTask;
        };

        if (recovered is null)
        {
            cursor.SaveInFlight(state);
        }
        else
        {
            _logger.ResumingBatch(_name, state.Id, batch.Count, state.Attempts);
        }

        return state;
    }

    /// <inheritdoc/>
    public void SaveProgress()
    {
        try
        {
            _durable.Cursor.Save();
        }
#pragma warning disable CA1031 // The range and the names are on disk already; only the count would be stale after a crash.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <inheritdoc/>
    /// <remarks>Commits the range in the cursor and frees what no exporter needs any more.</remarks>
    public void Commit(long end)
    {
        _durable.Cursor.Commit(end);
        _durable.Store.Release();
    }

    /// <inheritdoc/>
    public void Retire(long end) => Volatile.Write(ref _retired, end);

    /// <inheritdoc/>
    /// <remarks>Not lost: on disk, and the next start exports them (the batch in flight under the same identity).</remarks>
    public long Abandon(long from, long count)
    {
        _logger.EventsLeftInBuffer(_name, count, _durable.Store.Directory);
        return 0;
    }
}
