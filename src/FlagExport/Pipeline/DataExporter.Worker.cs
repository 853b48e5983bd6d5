using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <content>The background worker: the only code that takes events out of the buffer and calls the exporter.</content>
public sealed partial class DataExporter
{
    // Used only by the worker.
    private List<ExportableEvent> _batch;  // the batch in flight or waiting for its retry; reused unless an export was abandoned
    private BatchState? _batchState;       // the identity of _batch, from its cut until it is written
    private readonly ExportRetryPolicy _retryPolicy;
    private TimeSpan _lastRetryDelay;
    private long _droppedReported;

    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync().ConfigureAwait(false);
                int reasons = Interlocked.Exchange(ref _wakeReasons, 0);

                if ((reasons & WakeReasons.BufferFull) != 0)
                {
                    _logger.BufferFull(Name, _maxBuffered);
                }

                if ((reasons & WakeReasons.Shutdown) != 0)
                {
                    await DrainAsync().ConfigureAwait(false);
                    return;
                }

                if ((reasons & WakeReasons.Export) != 0)
                {
                    // No size wake-up while this export runs (it takes every full batch waiting anyway): the trigger is
                    // armed again below, counted from where the export left off.
                    Volatile.Write(ref _sizeWakeAt, SizeTriggerDisarmed);

                    // The size trigger exports full batches only; the interval and a retry export everything buffered now.
                    long target = (reasons & WakeReasons.Drain) != 0 ? Sequence : Volatile.Read(ref _retired);
                    if (await ExportUntilAsync(target).ConfigureAwait(false))
                    {
                        // Fewer than a full batch wait beyond what was taken: the next full batch wakes the worker.
                        ArmSizeTrigger(_dequeued + _maxBatch);
                    }
                    else
                    {
                        // The kept batch, and full batches waiting behind it, must not trigger the retry at once: that
                        // would loop on a failing exporter. Only MaxEventInMemory events added after this failure do (a new
                        // crossing), and while nothing is written MaxBufferedEvents bounds the events accepted, so it
                        // bounds these retries too. A size wake-up still pending from before the failure is spent.
                        _ = Interlocked.And(ref _wakeReasons, ~WakeReasons.Size);
                        ArmSizeTrigger(Sequence + _maxBatch);
                    }
                }
            }
        }
#pragma warning disable CA1031 // The worker must never die silently: whatever escapes is a bug, logged and reported to flush callers.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _logger.WorkerFailed(exception, Name);
            EndExportActivity(ExportActivities.Failed, exception, timedOut: false, deadLetter: null);
            EndReplay(ExportActivities.Stopped, exception);
            if (_durable is null)
            {
                Volatile.Write(ref _notWritten, Sequence - Volatile.Read(ref _retired)); // lost with the worker: counted, so the exit code says so
            }
        }
        finally
        {
            FinishFlushRequests();
            _retryTimer.Dispose();
        }
    }

    /// <summary>
    /// Exports batches until every event up to <paramref name="target"/> (and up to any flush request) is written and
    /// fewer than a full batch are waiting. Stops at the first failure.
    /// </summary>
    /// <returns><see langword="true"/> when every export succeeded.</returns>
    private async Task<bool> ExportUntilAsync(long target)
    {
        while (true)
        {
            if (_batchState is null)
            {
                long goal = Math.Max(target, Volatile.Read(ref _flushTarget));
                long waiting = Sequence - _dequeued;
                long take;
                if (_dequeued < goal)
                {
                    take = Math.Min(goal - _dequeued, _maxBatch);
                }
                else if (waiting >= _maxBatch)
                {
                    take = _maxBatch;
                }
                else
                {
                    return true;
                }

                if (_durable is null)
                {
                    TakeBatch((int)take);
                }
                else if (!TryTakeDurableBatch(take))
                {
                    return false;
                }
            }

            if (!await ExportBatchAsync().ConfigureAwait(false))
            {
                return false;
            }
        }
    }

    /// <summary>Cuts a batch from the durable buffer; a cursor that cannot be saved counts as a failed export.</summary>
    private bool TryTakeDurableBatch(long take)
    {
        try
        {
            TakeDurableBatch(take);
            return true;
        }
#pragma warning disable CA1031 // Whatever the disk or a damaged record throws must not kill the worker: the cut is retried.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            // A disk that fails or a segment damaged while running: nothing was taken, retried like a failed export
            // (a restart quarantines a damaged segment).
            _batch.Clear();
            _batchState = null;
            OnBatchFailed(exception, timedOut: false, 0, TimeSpan.Zero, Interlocked.Increment(ref _attempts));
            return false;
        }
    }

    /// <summary>
    /// Moves the next <paramref name="count"/> events, all already reserved by producers, into the batch; fewer when the
    /// next one would take the batch past <see cref="DataExporterOptions.MaxBatchEncodedBytes"/> (it opens the next batch).
    /// </summary>
    private void TakeBatch(int count)
    {
        var spinner = default(SpinWait);
        long next = _dequeued;
        long end = next + count;
        long bytes = 0;
        while (next < end)
        {
            if (_ring.TryPeek(next, out ExportableEvent? item))
            {
                if (ReferenceEquals(item, EventRing.Hole))
                {
                    _ = _ring.TryTake(next, out _); // a refused request's reservation: retired, never exported
                    next++;
                    continue;
                }

                long size = EventSize.Bound(item);
                if (_batch.Count > 0 && bytes + size > _maxBatchBytes)
                {
                    break;
                }

                _ = _ring.TryTake(next, out _);
                _batch.Add(item);
                bytes += size;
                next++;
            }
            else
            {
                // A producer reserved this number but has not stored the event yet: it is a few instructions away.
                spinner.SpinOnce();
            }
        }

        _batchState = BatchState.CreateInMemory(_idPrefix, _idScope, _dequeued, next);
        Volatile.Write(ref _dequeued, next);
    }

    /// <summary>Hands the batch to the exporter once, with the export timeout and the shutdown deadline.</summary>
    /// <returns><see langword="true"/> when the batch was written; otherwise it is kept for the retry.</returns>
    private async Task<bool> ExportBatchAsync()
    {
        int count = _batch.Count;
        long attempt = Interlocked.Increment(ref _attempts);
        BatchState state = _batchState!;
        state.Attempts++;
        if (_durable is not null && state.Attempts > 1)
        {
            SaveBatchProgress(); // so that attempts count across restarts; the first was saved with the batch
        }

        long started = _timeProvider.GetTimestamp();
        using var timeout = new CancellationTokenSource(_exportTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _deadline.Token);
        Exception? failure = null;
        var batch = new ExportBatch(_batch, state, state.Attempts) { Clock = _timeProvider, StartedTimestamp = started };
        StartExportActivity(batch, count);
        try
        {
            // A range of the durable buffer may hold only the other type's events: nothing to export, only to commit.
            Task export = count == 0 ? Task.CompletedTask : _exporter.ExportAsync(batch, linked.Token);
            try
            {
                // Before shutdown this is a plain await; at the shutdown deadline an exporter that ignores its token is abandoned.
                await export.WaitAsync(_deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!export.IsCompleted)
            {
                // The abandoned exporter still reads its list: keep the events in a copy, never clear the list under it.
                _batch = [.. _batch];
                _ = export.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }

            if (_durable is not null)
            {
                CommitDurable(state.EndPosition); // a failure here retries the batch, which the exporter finds written
            }
        }
#pragma warning disable CA1031 // Any exporter failure keeps the batch for a retry; it must not crash the worker.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            failure = exception;
        }

        TimeSpan duration = _timeProvider.GetElapsedTime(started);
        if (failure is null)
        {
            LogWritten(batch);
            OnBatchWritten(count, state.EndPosition, duration);
            return true;
        }

        if (await TrySetAsideAsync(batch, state, failure, count).ConfigureAwait(false))
        {
            _metrics.ExportFailed(duration);
            return true;
        }

        OnBatchFailed(failure, timedOut: timeout.IsCancellationRequested && !_deadline.IsCancellationRequested, count, duration, attempt);
        return false;
    }

    /// <summary>One line per file or object the attempt reported, each timed from the end of the one before.</summary>
    private void LogWritten(ExportBatch batch)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        TimeSpan previous = TimeSpan.Zero;
        foreach (WrittenObject written in batch.Written)
        {
            _logger.ObjectWritten(Name, written.Location, written.EventCount, written.ByteCount, (long)(written.Elapsed - previous).TotalMilliseconds);
            previous = written.Elapsed;
        }
    }

    private void OnBatchWritten(int count, long end, TimeSpan duration)
    {
        _batch.Clear();
        _batchState = null;
        long retired = end;
        Volatile.Write(ref _retired, retired);
        _lastSuccessTimestamp = _timeProvider.GetUtcNow();
        Volatile.Write(ref _failingSinceUtcTicks, 0);
        _metrics.ExportSucceeded(count, duration);

        if (_retryPolicy.ConsecutiveFailures > 0)
        {
            _logger.ExportRecovered(Name, _retryPolicy.ConsecutiveFailures);
            _retryPolicy.MarkSuccess();
            _ = _retryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        // The episode ends once the buffer has room: the next drop logs a new warning.
        if (Volatile.Read(ref _dropEpisode) == 1 && Sequence - retired < _maxBuffered)
        {
            Volatile.Write(ref _dropEpisode, 0);
            long dropped = DroppedCount;
            _logger.BufferRecovered(Name, dropped - _droppedReported);
            _droppedReported = dropped;
        }

        EndExportActivity(ExportActivities.Written, failure: null, timedOut: false, deadLetter: null);
        OnReplayProgress(count, end, deadLettered: false);
        CompleteFlushRequests(retired, failure: null, failedAttempt: 0);
    }

    /// <summary>
    /// Sets the failed batch aside as a dead letter when retrying cannot help (<see cref="IExportFailure.IsPermanent"/>) or
    /// it has failed for <see cref="DataExporterOptions.MaxRetryDuration"/>; the pipeline then moves on.
    /// </summary>
    /// <returns><see langword="true"/> when the batch left the pipeline as a dead letter.</returns>
    private async Task<bool> TrySetAsideAsync(ExportBatch batch, BatchState state, Exception failure, int count)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        if (state.FirstFailure is null)
        {
            state.FirstFailure = now;
            if (_durable is not null)
            {
                SaveBatchProgress(); // MaxRetryDuration counts across restarts, also for a process that dies on every attempt
            }
        }

        IExportFailure? permanent = PermanentFailureOf(failure);
        if (permanent is null && now - state.FirstFailure.Value < _maxRetryDuration)
        {
            return false;
        }

        string letter;
        try
        {
            letter = await _deadLetters.WriteAsync(Name, _exporter, batch, state, failure, state.FirstFailure.Value, now, _deadline.Token).ConfigureAwait(false);
            if (_durable is not null)
            {
                CommitDurable(state.EndPosition);
            }
        }
#pragma warning disable CA1031 // A letter that cannot be written (disk, an event the record codec refuses) keeps the batch; the worker lives on.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _deadLetterError = exception.Message;
            _logger.DeadLetterFailed(exception, Name, _deadLetters.Directory);
            return false; // stays the batch in flight: retried, and set aside again next time (a letter is named by the batch id)
        }

        _deadLetterError = null;
        long before = Volatile.Read(ref _retired);
        _batch.Clear();
        _batchState = null;
        Volatile.Write(ref _retired, state.EndPosition); // first: whoever sees the letter counted sees the batch gone
        _ = Interlocked.Add(ref _deadLetteredEvents, count);
        _ = Interlocked.Increment(ref _deadLetterBatches);
        _metrics.DeadLettered(count);
        _logger.BatchSetAside(failure, Name, count, permanent?.Reason ?? $"still failing after {_maxRetryDuration}", letter);

        // Moving on: the next batch starts without the backoff of this one.
        _retryPolicy.MarkSuccess();
        _ = _retryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        EndExportActivity(ExportActivities.DeadLettered, failure, timedOut: false, letter);
        OnReplayProgress(count, state.EndPosition, deadLettered: true);

        // Last, once counted and logged: flush callers waiting for these events learn they were set aside, not written.
        // Every waiting request that covers them fails, whenever it was made: those events were not written.
        CompleteFlushRequests(before, new InvalidOperationException(
            $"Exporter '{Name}' could not write {count} events; they were set aside as a dead letter in '{letter}'.", failure), failedAttempt: long.MaxValue);
        return true;
    }

    /// <summary>The first <see cref="IExportFailure"/> in <paramref name="failure"/>'s chain when it is permanent, or null.</summary>
    internal static IExportFailure? PermanentFailureOf(Exception failure) => ClassifiedFailureOf(failure) is { IsPermanent: true } permanent ? permanent : null;

    /// <summary>The first <see cref="IExportFailure"/> in <paramref name="failure"/>'s chain (the exporter's own account of it), or null.</summary>
    private static IExportFailure? ClassifiedFailureOf(Exception failure)
    {
        for (Exception? current = failure; current is not null; current = current.InnerException)
        {
            if (current is IExportFailure classified)
            {
                return classified;
            }
        }

        return null;
    }

    private void OnBatchFailed(Exception failure, bool timedOut, int count, TimeSpan duration, long attempt)
    {
        _lastRetryDelay = _retryPolicy.MarkFailure();
        if (Volatile.Read(ref _failingSinceUtcTicks) == 0)
        {
            Volatile.Write(ref _failingSinceUtcTicks, _timeProvider.GetUtcNow().UtcTicks);
        }

        _metrics.ExportFailed(duration);
        if (timedOut)
        {
            _logger.ExportTimedOut(Name, count, _exportTimeout, _retryPolicy.ConsecutiveFailures, _lastRetryDelay);
        }
        else
        {
            // One warning with the reason; the exception and its stack only at Debug.
            _logger.ExportFailed(Name, count, ReasonOf(failure), _retryPolicy.ConsecutiveFailures, _timeProvider.GetUtcNow() + _lastRetryDelay, _lastRetryDelay);
            _logger.ExportFailureDetail(failure, Name, attempt);
        }

        if (Volatile.Read(ref _shutdownStarted) == 0)
        {
            _ = _retryTimer.Change(_lastRetryDelay, Timeout.InfiniteTimeSpan);
        }

        EndExportActivity(ExportActivities.Failed, failure, timedOut, deadLetter: null);
        CompleteFlushRequests(Volatile.Read(ref _retired), new InvalidOperationException(
            $"Exporter '{Name}' failed to write {count} events; they stay buffered and are retried.", failure), attempt);
    }

    /// <summary>
    /// The reason of a failure in a line: an exporter's own (<see cref="IExportFailure.Reason"/>) when it gives one,
    /// else the messages of the exception and its inner ones.
    /// </summary>
    private static string ReasonOf(Exception failure)
    {
        if (ClassifiedFailureOf(failure) is { } classified)
        {
            return classified.Reason;
        }

        var reason = new System.Text.StringBuilder(failure.Message);
        for (Exception? inner = failure.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!failure.Message.Contains(inner.Message, StringComparison.Ordinal))
            {
                _ = reason.Append(" (").Append(inner.Message).Append(')');
            }
        }

        return reason.ToString();
    }

    /// <summary>Arms the size trigger: the producer that brings <see cref="Sequence"/> to <paramref name="wakeAt"/> wakes the worker.</summary>
    private void ArmSizeTrigger(long wakeAt)
    {
        // A full fence: the store must be visible before Sequence is read, or a producer that read "disarmed" and this
        // read of an old Sequence could both skip the wake-up, and the wake-up would be lost.
        _ = Interlocked.Exchange(ref _sizeWakeAt, wakeAt);

        // Producers that reached the threshold while the trigger was disarmed did not signal: check for them here.
        if (Sequence >= wakeAt && Interlocked.CompareExchange(ref _sizeWakeAt, SizeTriggerDisarmed, wakeAt) == wakeAt)
        {
            Wake(WakeReasons.Size);
        }
    }

    /// <summary>
    /// The shutdown drain: exports everything accepted, retrying with backoff, until done or until the deadline; then
    /// reports what could not be written.
    /// </summary>
    private async Task DrainAsync()
    {
        long target = Sequence; // final: the ClosedBit is set, so nothing more is accepted
        while (Volatile.Read(ref _retired) < target && !_deadline.IsCancellationRequested)
        {
            if (await ExportUntilAsync(target).ConfigureAwait(false))
            {
                break;
            }

            try
            {
                await Task.Delay(_lastRetryDelay, _timeProvider, _deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        EndReplay(ExportActivities.Stopped, failure: null); // a replay not done by now goes on at the next start
        long notWritten = target - Volatile.Read(ref _retired);
        if (notWritten > 0 && _durable is not null)
        {
            // Not lost: on disk, and the next start exports them (the batch in flight under the same identity).
            _logger.EventsLeftInBuffer(Name, notWritten, _durable.Store.Directory);
            _batch.Clear();
            return;
        }

        if (notWritten > 0)
        {
            Volatile.Write(ref _notWritten, notWritten);
            _logger.EventsNotWritten(Name, notWritten, _shutdownTimeout);
        }

        // Release the events that were not written (a producer still storing one is not waited for).
        _batch.Clear();
        for (long next = _dequeued, end = Sequence; next < end && _ring.TryTake(next, out _); next++)
        {
        }
    }

    /// <summary>
    /// Completes the flush requests satisfied by <paramref name="retired"/>. When <paramref name="failure"/> is set, also
    /// fails the requests made before <paramref name="failedAttempt"/> started; a request made during that attempt
    /// waits for the next one, which its own wake-up starts.
    /// </summary>
    private void CompleteFlushRequests(long retired, Exception? failure, long failedAttempt)
    {
        List<FlushRequest>? done = null;
        lock (_flushGate)
        {
            long remainingTarget = 0;
            for (int i = _flushRequests.Count - 1; i >= 0; i--)
            {
                FlushRequest request = _flushRequests[i];
                if (request.Target <= retired || (failure is not null && request.AttemptsBefore < failedAttempt))
                {
                    (done ??= []).Add(request);
                    _flushRequests.RemoveAt(i);
                }
                else
                {
                    remainingTarget = Math.Max(remainingTarget, request.Target);
                }
            }

            Volatile.Write(ref _flushTarget, remainingTarget);
        }

        if (done is null)
        {
            return;
        }

        foreach (FlushRequest request in done)
        {
            if (request.Target <= retired)
            {
                _ = request.Completion.TrySetResult();
            }
            else
            {
                _ = request.Completion.TrySetException(failure!);
            }
        }
    }

    /// <summary>When the worker ends: completes what was written, fails the rest, and refuses later flush requests.</summary>
    private void FinishFlushRequests()
    {
        long retired = Volatile.Read(ref _retired);
        List<FlushRequest> pending;
        lock (_flushGate)
        {
            _workerDone = true;
            pending = [.. _flushRequests];
            _flushRequests.Clear();
        }

        foreach (FlushRequest request in pending)
        {
            if (request.Target <= retired)
            {
                _ = request.Completion.TrySetResult();
            }
            else
            {
                _ = request.Completion.TrySetException(new ObjectDisposedException(nameof(DataExporter),
                    $"Exporter '{Name}' stopped; {request.Target - retired} events requested by the flush were not written."));
            }
        }
    }
}
