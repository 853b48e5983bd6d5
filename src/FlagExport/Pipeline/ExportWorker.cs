using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport;

/// <summary>
/// The worker of one export pipeline: the only code that cuts batches from its <see cref="IBatchSource"/> and calls the
/// exporter. It exports when the interval elapses, when a full batch waits (the source's <see cref="SizeTrigger"/>), on a
/// flush and at shutdown; retries a failed batch, the same events in the same order, after a backoff; sets a batch aside
/// as a dead letter when retrying cannot help; and drains what is left at shutdown until its deadline.
/// </summary>
/// <remarks>
/// <para>Whatever differs between memory and the durable log is the source's: this type has no mode of its own.</para>
/// <para>After a failure the size trigger counts from the failure: the kept batch, or full batches waiting behind it,
/// never trigger the retry at once, so a failing exporter is not retried in a loop.</para>
/// <para>The counters it keeps (written, set aside, failing since, not written) are what metrics, readiness and the
/// collector's exit code read.</para>
/// </remarks>
internal sealed class ExportWorker : IAsyncDisposable
{
    // Immutable after construction.
    private readonly IExporter _exporter;
    private readonly IBatchSource _source;
    private readonly SizeTrigger _trigger;
    private readonly WorkerSignal _signal;
    private readonly int _maxBatch;
    private readonly long _maxBatchBytes;
    private readonly long _maxBuffered;
    private readonly TimeSpan _exportTimeout;
    private readonly TimeSpan _shutdownTimeout;
    private readonly TimeSpan _maxRetryDuration;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PipelineMetrics _metrics;
    private readonly DeadLetterWriter _deadLetters;
    private readonly ExportRetryPolicy _retryPolicy;
    private readonly FlushWaiters _flushWaiters;
    private readonly ExportTracing _tracing;
    private readonly ITimer _intervalTimer;
    private readonly ITimer _retryTimer;
    private readonly Task _worker;

    // Reached at the shutdown deadline (or when the caller of ShutdownAsync gives up): every export token is linked to it.
    private readonly ShutdownDeadline _deadline = new();

    // Used only by the worker.
    private List<ExportableEvent> _batch;  // the batch in flight or waiting for its retry; reused unless an export was abandoned
    private BatchState? _batchState;       // the identity of _batch, from its cut until it left the pipeline
    private long _dequeued;                // the next position to cut from
    private TimeSpan _lastRetryDelay;

    // Written by the worker only; read by anyone (Volatile).
    private long _notWritten;  // events lost at the stop
    private long _attempts;    // export calls started
    private long _deadLetteredEvents;
    private long _deadLetterBatches;
    private volatile string? _deadLetterError; // why the last dead letter could not be written; null once one is
    private DateTimeOffset? _lastSuccessTimestamp;
    private long _failingSinceUtcTicks; // 0 while the last export succeeded; ticks, so that readiness reads it whole

    // Shutdown and disposal, first call wins.
    private int _shutdownStarted;
    private int _disposed;

    /// <summary>Creates the worker of <paramref name="exporter"/> reading <paramref name="source"/>, and starts it.</summary>
    /// <param name="exporter">Writes the batches. Not disposed by the worker.</param>
    /// <param name="options">The options, already validated.</param>
    /// <param name="name">The exporter's name in logs, metric tags and traces.</param>
    /// <param name="source">Where batches are cut from.</param>
    /// <param name="signal">Wakes the worker; the one <paramref name="source"/> wakes.</param>
    /// <param name="timeProvider">The clock for the interval, backoff and timeouts; the system clock when null.</param>
    /// <param name="logger">Receives failures and unwritten events; none when null.</param>
    /// <param name="meterFactory">Creates the <c>FlagExport</c> meter; an own meter when null.</param>
    /// <param name="jitterSample">Samples the backoff's jitter (tests); random when null.</param>
    /// <exception cref="ArgumentException">The exporter was built for the other event type.</exception>
    internal ExportWorker(
        IExporter exporter,
        DataExporterOptions options,
        string name,
        IBatchSource source,
        WorkerSignal signal,
        TimeProvider? timeProvider,
        ILogger? logger,
        IMeterFactory? meterFactory,
        Func<double>? jitterSample)
    {
        if (exporter is ITypedExporter typed && typed.EventType != options.EventType)
        {
            // Caught here rather than as an encoder error on every batch, which could only end as dead letters.
            throw new ArgumentException(
                $"Exporter '{name}' was built for {typed.EventType} events, but its pipeline's EventType is {options.EventType}: build the exporter with eventType: EventType.{options.EventType}.",
                nameof(exporter));
        }

        _exporter = exporter;
        Name = name;
        EventType = options.EventType;
        _source = source;
        _trigger = source.Trigger;
        _signal = signal;
        _maxBatch = options.MaxEventInMemory;
        _maxBatchBytes = options.MaxBatchEncodedBytes;
        _maxBuffered = options.EffectiveMaxBufferedEvents;
        _exportTimeout = options.ExportTimeout;
        _shutdownTimeout = options.ShutdownTimeout;
        _maxRetryDuration = options.MaxRetryDuration;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _deadLetters = new DeadLetterWriter(options.DeadLetterDirectory, options.MaxBatchEncodedBytes);
        _retryPolicy = new ExportRetryPolicy(_timeProvider, jitterSample);
        _dequeued = source.Retired;
        _batch = new List<ExportableEvent>(Math.Min(_maxBatch, 16_384));
        _flushWaiters = new FlushWaiters(name, source, () => Volatile.Read(ref _attempts));
        _tracing = new ExportTracing(name, source.Retired, source.Sequence);
        _metrics = new PipelineMetrics(name, meterFactory, () => source.AcceptedCount, () => source.DroppedCount, () => NotWrittenCount, () => source.RefusedAfterStopCount, () => BufferedCount);

        TimeSpan interval = options.FlushInterval;
        (_intervalTimer, _retryTimer, _worker) = WithoutExecutionContext(() => (
            _timeProvider.CreateTimer(static s => ((WorkerSignal)s!).Wake(WakeReasons.Interval), signal, interval, interval),
            _timeProvider.CreateTimer(static s => ((WorkerSignal)s!).Wake(WakeReasons.Retry), signal, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan),
            Task.Run(RunAsync)));
    }

    /// <summary>The exporter's name in logs and metric tags.</summary>
    internal string Name { get; }

    /// <summary>The type of events this pipeline exports.</summary>
    internal EventType EventType { get; }

    /// <summary>Where batches are cut from.</summary>
    internal IBatchSource Source => _source;

    /// <summary>How many events are held: available and not yet written.</summary>
    internal long BufferedCount => _source.Sequence - _source.Retired;

    /// <summary>How many events (positions) were written or set aside.</summary>
    internal long ExportedCount => _source.Retired;

    /// <summary>How many events were refused because the buffer was full.</summary>
    internal long DroppedCount => _source.DroppedCount;

    /// <summary>How many events were set aside as dead letters.</summary>
    internal long DeadLetteredCount => Interlocked.Read(ref _deadLetteredEvents);

    /// <summary>How many batches were set aside as dead letters.</summary>
    internal long DeadLetterBatchCount => Interlocked.Read(ref _deadLetterBatches);

    /// <summary>
    /// Why the last attempt to set a batch aside failed (the dead-letter folder cannot be written), or null: the batch
    /// then stays and is retried, and later batches wait behind it.
    /// </summary>
    internal string? DeadLetterError => _deadLetterError;

    /// <summary>The folder dead letters go to.</summary>
    internal string DeadLetterDirectory => _deadLetters.Directory;

    /// <summary>When the last export succeeded, or null before the first.</summary>
    internal DateTimeOffset? LastSuccess => _lastSuccessTimestamp;

    /// <summary>When the first failure after the last success happened, or null while the last export succeeded.</summary>
    internal DateTimeOffset? FailingSince => Volatile.Read(ref _failingSinceUtcTicks) is var ticks and not 0
        ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : null;

    /// <summary>How many exports in a row failed (0 after a success).</summary>
    internal int ConsecutiveFailures => _retryPolicy.ConsecutiveFailures;

    /// <summary>The bound on buffered events (memory), for readiness.</summary>
    internal long MaxBuffered => _maxBuffered;

    /// <summary>Whether the source is the durable log.</summary>
    internal bool IsDurable => _source.IsDurable;

    /// <summary>How many events were lost at the stop (not written by its deadline, and not kept by the source).</summary>
    internal long NotWrittenCount => Volatile.Read(ref _notWritten);

    /// <summary>
    /// Whether the worker is idle: parked with no wake-up pending, so it calls the exporter again only after a trigger
    /// (a timer or a threshold crossing), a flush or disposal wakes it. For tests.
    /// </summary>
    internal bool IsIdle => _signal.HasWaiter;

    /// <summary>
    /// Hands <paramref name="batch"/> to the exporter at once, outside the source and the worker, within
    /// <see cref="DataExporterOptions.ExportTimeout"/> (replaying a dead letter). Throws what the exporter throws.
    /// </summary>
    internal async Task ExportDirectlyAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_exportTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        await _exporter.ExportAsync(batch, linked.Token).ConfigureAwait(false);
    }

    /// <summary>Completes when every position available now is written; see <see cref="DataExporter.FlushAsync"/>.</summary>
    internal Task FlushAsync(CancellationToken cancellationToken)
    {
        Task written = _flushWaiters.Add(_source.Sequence, out bool waiting);
        if (!waiting)
        {
            return written;
        }

        _signal.Wake(WakeReasons.Flush);
        return written.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops the source accepting events and writes what is left, until <see cref="DataExporterOptions.ShutdownTimeout"/>
    /// elapses or <paramref name="cancellationToken"/> is cancelled, whichever comes first. The first call wins; later
    /// calls wait for it.
    /// </summary>
    internal async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _shutdownStarted, 1) == 0)
        {
            _source.Close();
            _intervalTimer.Dispose();

            _deadline.Start(_timeProvider, _shutdownTimeout, cancellationToken);
            _signal.Wake(WakeReasons.Shutdown);
        }

        await _worker.ConfigureAwait(false);
    }

    /// <summary>Shuts down (<see cref="ShutdownAsync"/>) and releases the timers and the meter. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _deadline.DisposeAsync().ConfigureAwait(false);
            _metrics.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="create"/> with the caller's ExecutionContext suppressed: timers and the worker must not capture
    /// it (its AsyncLocals, the current Activity) and keep it alive for the pipeline's lifetime.
    /// </summary>
    internal static T WithoutExecutionContext<T>(Func<T> create)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return create();
        }

        using AsyncFlowControl flow = ExecutionContext.SuppressFlow();
        return create();
    }

    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync().ConfigureAwait(false);
                int reasons = _signal.TakeReasons();

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
                    _trigger.Disarm();

                    // The size trigger exports full batches only; the interval and a retry export everything available now.
                    long target = (reasons & WakeReasons.Drain) != 0 ? _source.Sequence : _source.Retired;
                    if (await ExportUntilAsync(target).ConfigureAwait(false))
                    {
                        // Fewer than a full batch wait beyond what was taken: the next full batch wakes the worker.
                        _trigger.Arm(_dequeued + _maxBatch, _source);
                    }
                    else
                    {
                        // The kept batch, and full batches waiting behind it, must not trigger the retry at once: that
                        // would loop on a failing exporter. Only MaxEventInMemory events added after this failure do (a new
                        // crossing), and while nothing is written MaxBufferedEvents bounds the events accepted, so it
                        // bounds these retries too. A size wake-up still pending from before the failure is spent.
                        _signal.Forget(WakeReasons.Size);
                        _trigger.Arm(_source.Sequence + _maxBatch, _source);
                    }
                }
            }
        }
#pragma warning disable CA1031 // The worker must never die silently: whatever escapes is a bug, logged and reported to flush callers.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _logger.WorkerFailed(exception, Name);
            _tracing.EndAttempt(ExportActivities.Failed, exception, timedOut: false, deadLetter: null);
            _tracing.EndReplay(ExportActivities.Stopped, exception);
            long left = _source.Sequence - _source.Retired;
            if (left > 0)
            {
                // Lost with the worker unless the source keeps them: counted, so the exit code says so.
                Volatile.Write(ref _notWritten, _source.Abandon(_dequeued, left));
            }
        }
        finally
        {
            _flushWaiters.Finish();
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
                long goal = Math.Max(target, _flushWaiters.Target);
                long waiting = _source.Sequence - _dequeued;
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

                if (!TryTakeBatch(take))
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

    /// <summary>Cuts the next batch from the source; a cut that fails counts as a failed export.</summary>
    private bool TryTakeBatch(long take)
    {
        try
        {
            BatchState state = _source.Take(_dequeued, take, _batch, _maxBatchBytes);
            _batchState = state;
            _dequeued = state.EndPosition;
            return true;
        }
#pragma warning disable CA1031 // Whatever the disk or a damaged record throws must not kill the worker: the cut is retried.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            // A disk that fails or a record damaged while running: nothing was taken, retried like a failed export
            // (a restart quarantines a damaged segment).
            _batch.Clear();
            _batchState = null;
            OnBatchFailed(exception, timedOut: false, 0, TimeSpan.Zero, Interlocked.Increment(ref _attempts));
            return false;
        }
    }

    /// <summary>Hands the batch to the exporter once, with the export timeout and the shutdown deadline.</summary>
    /// <returns><see langword="true"/> when the batch left the pipeline (written or set aside); otherwise it is kept for the retry.</returns>
    private async Task<bool> ExportBatchAsync()
    {
        int count = _batch.Count;
        long attempt = Interlocked.Increment(ref _attempts);
        BatchState state = _batchState!;
        state.Attempts++;
        if (state.Attempts > 1)
        {
            _source.SaveProgress(); // so that attempts count across restarts; the first was saved with the batch
        }

        long started = _timeProvider.GetTimestamp();
        using var timeout = new CancellationTokenSource(_exportTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _deadline.Token);
        Exception? failure = null;
        var batch = new ExportBatch(_batch, state, state.Attempts) { Clock = _timeProvider, StartedTimestamp = started };
        _tracing.StartAttempt(batch, count);
        try
        {
            // A range of the durable log may hold only the other type's events: nothing to export, only to commit.
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

            _source.Commit(state.EndPosition); // a failure here retries the batch, which the exporter finds written
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

        OnBatchFailed(failure, timedOut: timeout.IsCancellationRequested && !_deadline.IsReached, count, duration, attempt);
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
        _lastSuccessTimestamp = _timeProvider.GetUtcNow();
        Volatile.Write(ref _failingSinceUtcTicks, 0);
        _metrics.ExportSucceeded(count, duration);

        if (_retryPolicy.ConsecutiveFailures > 0)
        {
            _logger.ExportRecovered(Name, _retryPolicy.ConsecutiveFailures);
            _retryPolicy.MarkSuccess();
            _ = _retryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _source.Retire(end);
        _tracing.EndAttempt(ExportActivities.Written, failure: null, timedOut: false, deadLetter: null);
        _tracing.OnReplayProgress(count, end, deadLettered: false);
        _flushWaiters.Complete(end, failure: null, failedAttempt: 0);
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
            _source.SaveProgress(); // MaxRetryDuration counts across restarts, also for a process that dies on every attempt
        }

        IExportFailure? permanent = ExportFailures.PermanentFailureOf(failure);
        if (permanent is null && now - state.FirstFailure.Value < _maxRetryDuration)
        {
            return false;
        }

        string letter;
        try
        {
            letter = await _deadLetters.WriteAsync(Name, _exporter, batch, state, failure, state.FirstFailure.Value, now, _deadline.Token).ConfigureAwait(false);
            _source.Commit(state.EndPosition);
        }
#pragma warning disable CA1031 // A letter that cannot be written (disk, an event the record codec refuses) keeps the batch; the worker lives on.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _deadLetterError = exception.Message;
            // One line with the reason; the exception and its stack only at Debug.
            _logger.DeadLetterFailed(Name, _deadLetters.Directory, exception.Message);
            _logger.DeadLetterFailureDetail(exception, Name);
            return false; // stays the batch in flight: retried, and set aside again next time (a letter is named by the batch id)
        }

        _deadLetterError = null;
        long before = _source.Retired;
        _batch.Clear();
        _batchState = null;
        _source.Retire(state.EndPosition); // first: whoever sees the letter counted sees the batch gone
        _ = Interlocked.Add(ref _deadLetteredEvents, count);
        _ = Interlocked.Increment(ref _deadLetterBatches);
        _metrics.DeadLettered(count);
        _logger.BatchSetAside(Name, count, permanent?.Reason ?? $"still failing after {_maxRetryDuration}: {ExportFailures.ReasonOf(failure)}", letter);
        _logger.BatchSetAsideDetail(failure, Name, letter);

        // Moving on: the next batch starts without the backoff of this one.
        _retryPolicy.MarkSuccess();
        _ = _retryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _tracing.EndAttempt(ExportActivities.DeadLettered, failure, timedOut: false, letter);
        _tracing.OnReplayProgress(count, state.EndPosition, deadLettered: true);

        // Last, once counted and logged: flush callers waiting for these events learn they were set aside, not written.
        // Every waiting request that covers them fails, whenever it was made: those events were not written.
        _flushWaiters.Complete(before, new InvalidOperationException(
            $"Exporter '{Name}' could not write {count} events; they were set aside as a dead letter in '{letter}'.", failure), failedAttempt: long.MaxValue);
        return true;
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
            _logger.ExportFailed(Name, count, ExportFailures.ReasonOf(failure), _retryPolicy.ConsecutiveFailures, _timeProvider.GetUtcNow() + _lastRetryDelay, _lastRetryDelay);
            _logger.ExportFailureDetail(failure, Name, attempt);
        }

        if (Volatile.Read(ref _shutdownStarted) == 0)
        {
            _ = _retryTimer.Change(_lastRetryDelay, Timeout.InfiniteTimeSpan);
        }

        _tracing.EndAttempt(ExportActivities.Failed, failure, timedOut, deadLetter: null);
        _flushWaiters.Complete(_source.Retired, new InvalidOperationException(
            $"Exporter '{Name}' failed to write {count} events; they stay buffered and are retried.", failure), attempt);
    }

    /// <summary>
    /// The shutdown drain: exports everything available, retrying with backoff, until done or until the deadline; then
    /// lets go of what could not be written, counting what is lost.
    /// </summary>
    private async Task DrainAsync()
    {
        long target = _source.Sequence; // final for memory: the source is closed, so nothing more is accepted
        while (_source.Retired < target && !_deadline.IsReached)
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

        _tracing.EndReplay(ExportActivities.Stopped, failure: null); // a replay not done by now goes on at the next start
        long notWritten = target - _source.Retired;
        _batch.Clear();
        if (notWritten > 0)
        {
            long lost = _source.Abandon(_dequeued, notWritten);
            if (lost > 0)
            {
                Volatile.Write(ref _notWritten, lost);
                _logger.EventsNotWritten(Name, lost, _shutdownTimeout);
            }
        }
    }
}
