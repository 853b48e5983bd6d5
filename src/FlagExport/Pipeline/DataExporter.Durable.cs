using FlagExport.Durability;
using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <content>
/// Durable mode: the pipeline reads its events from the shared durable buffer instead of its own ring. Positions are
/// the buffer's; <see cref="Sequence"/> is the durable position seen; a batch is a range of positions, saved in the
/// exporter's cursor before its first attempt and committed there after it is written.
/// </content>
public sealed partial class DataExporter
{
    /// <summary>Called by the store's notifier when records up to <paramref name="durablePosition"/> are on disk.</summary>
    internal void OnDurableAdvanced(long durablePosition)
    {
        long state = Volatile.Read(ref _state);
        while ((state & ~ClosedBit) < durablePosition)
        {
            long seen = Interlocked.CompareExchange(ref _state, durablePosition | (state & ClosedBit), state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        long wakeAt = Volatile.Read(ref _sizeWakeAt);
        if (durablePosition >= wakeAt && Interlocked.CompareExchange(ref _sizeWakeAt, SizeTriggerDisarmed, wakeAt) == wakeAt)
        {
            Wake(WakeReasons.Size);
        }
    }

    /// <summary>
    /// Cuts the next batch from the buffer: positions <c>[_dequeued, _dequeued + count)</c>, ended early before the
    /// event that would take the batch past <see cref="DataExporterOptions.MaxBatchEncodedBytes"/>, or exactly the batch the
    /// cursor saved before a restart. Saves it in the cursor before it is attempted.
    /// </summary>
    /// <remarks>
    /// The cut by bytes depends only on the records and the options, so a crash before the range is saved cuts the same
    /// range again (with the same options); once saved, the range is reused as it is.
    /// </remarks>
    /// <exception cref="IOException">The cursor could not be saved; nothing was taken.</exception>
    private void TakeDurableBatch(long count)
    {
        DurableSource durable = _durable!;
        long first = _dequeued;
        BatchState? recovered = durable.Cursor.InFlight;
        long end = recovered?.EndPosition ?? first + count;

        // Any failure below leaves nothing taken: the caller clears the batch and retries the cut.
        end = durable.Reader.ReadRange(first, end, _batch, recovered is null ? _maxBatchBytes : long.MaxValue, EventSize.Bound);
        BatchState state = recovered ?? new BatchState(BatchState.FormatId(durable.Store.BufferId, _idScope, first, end), first, end);
        state.Persist = (_, _) =>
        {
            durable.Cursor.Save();
            return ValueTask.CompletedTask;
        };

        if (recovered is null)
        {
            durable.Cursor.SaveInFlight(state);
        }
        else
        {
            _logger.ResumingBatch(Name, state.Id, _batch.Count, state.Attempts);
        }

        _batchState = state;
        Volatile.Write(ref _dequeued, end);
    }

    /// <summary>Saves the attempt count and first failure of the batch in flight; a failure only leaves them behind, the batch is safe.</summary>
    private void SaveBatchProgress()
    {
        try
        {
            _durable!.Cursor.Save();
        }
#pragma warning disable CA1031 // The range and the names are on disk already; only the count would be stale after a crash.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Records in the cursor that the batch ending at <paramref name="end"/> is written, and frees what no exporter needs.</summary>
    private void CommitDurable(long end)
    {
        _durable!.Cursor.Commit(end);
        _durable.Store.Release();
    }
}
