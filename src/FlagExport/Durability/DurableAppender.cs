using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.Durability;

/// <summary>
/// The one way into the durable buffer's log, for the collector and the library: each append call keeps all of its
/// events or none (<see cref="DurableEventStore.TryAppend(IReadOnlyList{ExportableEvent}, out long)"/> of the whole list, then a wait for its group commit).
/// </summary>
/// <remarks>
/// <para>The collector calls <see cref="AcceptAsync(IReadOnlyList{ExportableEvent}, CancellationToken)"/> with a request's events and answers once they are on disk; a
/// refusal leaves nothing behind, so the client can send the same request again. Concurrent requests share one fsync
/// (the log's flusher groups them), and one request is one group.</para>
/// <para>The library's <see cref="TryAdd"/> never blocks: the event waits in a bounded queue of its type
/// (<see cref="DurableAddQueue"/>) and a background loop appends what is waiting. An append the log refuses (full, or
/// its group commit failed: nothing of it kept) is tried again, with back-off, with the same events, so an accepted
/// event is appended exactly once or, only if the application stops first, counted as not appended. A batch larger than
/// one append can take (<see cref="DurableEventStore.MaxAppendBytes"/>) is appended in slices, each durable before the
/// next: the events were acknowledged one by one when added, so a batch need not be kept whole.</para>
/// </remarks>
internal sealed class DurableAppender : IEventIntake, IAsyncDisposable
{
    /// <summary>The most added events one append takes: a few fsyncs a second carry millions of events.</summary>
    internal const int AppendBatch = 8192;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    private readonly DurableEventStore _store;
    private readonly DurableAddQueue? _feature;
    private readonly DurableAddQueue? _tracking;
    private readonly DurableAddQueue[] _queues;
    private readonly WorkerSignal _signal = new();
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _shutdownTimeout;
    private readonly ILogger _logger;
    private readonly DurableAppenderMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ExportableEvent[] _batch = new ExportableEvent[AppendBatch];
    private readonly BatchSlice _slice;
    private readonly Task _loop;
    private readonly bool[] _dropLogged;
    private readonly long[] _dropReported;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _appended;
    private long _droppedTooLarge;
    private long _notAppended;
    private string? _lastFailure;
    private bool _refusing;
    private int _closed;

    /// <summary>Creates the appender and starts its loop.</summary>
    /// <param name="store">The durable buffer.</param>
    /// <param name="featureBound">The most added feature events waiting at once; null when no exporter takes them.</param>
    /// <param name="trackingBound">The same for tracking events.</param>
    /// <param name="shutdownTimeout">How long <see cref="ShutdownAsync"/> waits for the waiting events to reach the disk.</param>
    /// <param name="timeProvider">The clock of the retry back-off and of the shutdown timeout.</param>
    /// <param name="logger">The log, or null.</param>
    /// <param name="meterFactory">Creates the <c>FlagExport</c> meter, or null.</param>
    internal DurableAppender(DurableEventStore store, long? featureBound, long? trackingBound, TimeSpan shutdownTimeout, TimeProvider timeProvider, ILogger? logger, IMeterFactory? meterFactory)
    {
        _store = store;
        _feature = featureBound is long f ? new DurableAddQueue(EventType.Feature, f, _signal) : null;
        _tracking = trackingBound is long t ? new DurableAddQueue(EventType.Tracking, t, _signal) : null;
        _queues = [.. new[] { _feature, _tracking }.OfType<DurableAddQueue>()];
        _dropLogged = new bool[_queues.Length];
        _dropReported = new long[_queues.Length];
        _slice = new BatchSlice(_batch);
        _shutdownTimeout = shutdownTimeout;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _metrics = new DurableAppenderMetrics(this, meterFactory);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The buffer appended to.</summary>
    internal DurableEventStore Store => _store;

    /// <summary>Added events waiting in memory now.</summary>
    internal long QueuedCount => _queues.Sum(q => q.Count);

    /// <summary>The most added events that can wait at once (the sum of the queues' bounds).</summary>
    internal long QueueBound => _queues.Sum(q => q.Bound);

    /// <summary>Events appended and durable, by either entry point.</summary>
    internal long AppendedCount => Volatile.Read(ref _appended);

    /// <summary>Added events dropped because their queue was full.</summary>
    internal long DroppedBufferFullCount => _queues.Sum(q => q.DroppedCount);

    /// <summary>Added events dropped because one alone is larger than an append can take.</summary>
    internal long DroppedTooLargeCount => Volatile.Read(ref _droppedTooLarge);

    /// <summary>Added events still waiting when the application stopped.</summary>
    internal long NotAppendedCount => Volatile.Read(ref _notAppended);

    /// <summary>Events added after the appender closed.</summary>
    internal long RefusedAfterCloseCount => _queues.Sum(q => q.RefusedAfterCloseCount);

    /// <summary>Every added event that never reached the buffer: full queue, too large, or not appended by the stop.</summary>
    internal long DroppedCount => DroppedBufferFullCount + DroppedTooLargeCount + NotAppendedCount + RefusedAfterCloseCount;

    /// <summary>Why the last append was refused (full buffer, too large, disk error); null once an append succeeds after it.</summary>
    internal string? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>
    /// Library: queues <paramref name="exportableEvent"/> of <paramref name="eventType"/> for the buffer. Never blocks and
    /// allocates nothing; false when no exporter takes the type (not counted: no queue), and false and counted when its
    /// queue is full or the appender stopped.
    /// </summary>
    internal bool TryAdd(ExportableEvent exportableEvent, EventType eventType) =>
        (eventType == EventType.Feature ? _feature : _tracking)?.TryAdd(exportableEvent) ?? false;

    /// <inheritdoc/>
    /// <remarks>
    /// Events of a type no exporter takes are left out (their count is in the result). A full buffer, a request larger than one
    /// append can take or a failed group commit keeps nothing.
    /// </remarks>
    public ValueTask<EventIntakeResult> AcceptAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        AcceptAsync(events, key: null, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The key record is appended after the events in the one <see cref="DurableEventStore.TryAppend(IReadOnlyList{ExportableEvent}, IdempotencyRecord?, out long)"/> call.</remarks>
    public async ValueTask<EventIntakeResult> AcceptAsync(IReadOnlyList<ExportableEvent> events, IdempotencyRecord? key, CancellationToken cancellationToken)
    {
        List<ExportableEvent>? taken = null;
        for (int i = 0; i < events.Count; i++)
        {
            bool exported = (events[i].EventType == EventType.Feature ? _feature : _tracking) is not null;
            if (!exported && taken is null)
            {
                taken = [.. events.Take(i)];
            }
            else if (exported)
            {
                taken?.Add(events[i]);
            }
        }

        IReadOnlyList<ExportableEvent> appended = taken ?? events;
        int notExported = events.Count - appended.Count;
        try
        {
            if (!_store.TryAppend(appended, key is null ? null : key with { EventCount = appended.Count }, out long end))
            {
                Refused("buffer_full", $"the buffer is full (MaxBufferBytes = {_store.MaxBytes})");
                return EventIntakeResult.Refused(EventIntakeOutcome.Full,
                    $"The durable buffer is full (maxBufferBytes = {_store.MaxBytes}); nothing was accepted, send the events again later.");
            }

            // A keyed request learns its group commit's outcome even when the sender gave up waiting: the index must
            // hold every key that the log holds, or a retry of events kept on disk would be kept twice.
            await _store.WaitForDurableAsync(end, key is null ? cancellationToken : CancellationToken.None).ConfigureAwait(false);
        }
        catch (DurableRequestTooLargeException exception)
        {
            // Waiting would not help: only smaller requests, or a larger buffer, can be kept.
            Refused("too_large", exception.Message);
            return EventIntakeResult.Refused(EventIntakeOutcome.TooLarge,
                $"The events take {exception.Bytes} bytes in the durable buffer, more than one request can ever take there: at most {exception.Limit} bytes (maxBufferBytes = {exception.MaxBytes}, less the segment being written); nothing was accepted, send them in smaller requests.");
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The disk refused the write (the log cut it back: nothing of it is kept, the next append tries the disk
            // again); or disposed while stopping. Either way nothing was acknowledged.
            Refused("error", exception.Message);
            return EventIntakeResult.Refused(EventIntakeOutcome.Failed,
                $"The durable buffer could not write the events to disk ({exception.Message}); nothing was acknowledged, send them again later.", exception);
        }

        Appended(appended.Count);
        return EventIntakeResult.Kept(appended.Count, notExported);
    }

    /// <summary>Completes once every event added before the call is on disk.</summary>
    /// <exception cref="ObjectDisposedException">The appender stopped before they were appended.</exception>
    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        long featureTarget = _feature?.Reserved ?? 0;
        long trackingTarget = _tracking?.Reserved ?? 0;
        while (true)
        {
            Task progress = Volatile.Read(ref _progress).Task;
            if ((_feature?.Retired ?? 0) >= featureTarget && (_tracking?.Retired ?? 0) >= trackingTarget)
            {
                return;
            }

            ObjectDisposedException.ThrowIf(_loop.IsCompleted, this);
            _signal.Wake(WakeReasons.Flush);
            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses later events and appends those waiting, within the shutdown timeout or until
    /// <paramref name="cancellationToken"/>; what is left then is counted as not appended and logged.
    /// </summary>
    internal async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            foreach (DurableAddQueue queue in _queues)
            {
                queue.Close();
            }

            _signal.Wake(WakeReasons.Shutdown);
        }

        // On the appender's clock, as the pipelines' deadlines are.
        using var timeout = new CancellationTokenSource(_shutdownTimeout, _timeProvider);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _loop.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        _metrics.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                bool took = false;
                for (int q = 0; q < _queues.Length; q++)
                {
                    NoteDrops(q);
                    int count = _queues[q].Take(_batch);
                    if (count > 0)
                    {
                        took = true;
                        await AppendTakenAsync(_queues[q], count).ConfigureAwait(false);
                    }
                }

                if (took)
                {
                    continue;
                }

                if (Volatile.Read(ref _closed) == 1 && _queues.All(q => q.Count == 0))
                {
                    return;
                }

                if (_queues.All(q => q.ArmWakeUp()))
                {
                    await _signal.WaitAsync().WaitAsync(_stopping.Token).ConfigureAwait(false);
                    _ = _signal.TakeReasons(); // the loop looks at the queues and the flush target itself: the reason adds nothing
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopped at the deadline: what is left is counted below.
        }
        catch (ObjectDisposedException)
        {
            // The buffer was disposed first: what is left is counted below.
        }
        finally
        {
            Array.Clear(_batch);
            long left = _queues.Sum(q => q.Count);
            if (left > 0)
            {
                _ = Interlocked.Add(ref _notAppended, left);
                _logger.EventsNotAppended(left, _store.Directory);
            }

            Progressed();
        }
    }

    /// <summary>Appends the <paramref name="count"/> events taken into <see cref="_batch"/>, in slices the log can take, until each is durable.</summary>
    private async Task AppendTakenAsync(DurableAddQueue queue, int count)
    {
        int done = 0;
        int slice = count;
        TimeSpan delay = FirstRetryDelay;
        while (done < count)
        {
            slice = Math.Min(slice, count - done);
            _slice.Set(done, slice);
            bool kept;
            long end;
            try
            {
                kept = _store.TryAppend(_slice, out end);
            }
            catch (DurableRequestTooLargeException) when (slice > 1)
            {
                slice /= 2;
                continue;
            }
            catch (DurableRequestTooLargeException exception)
            {
                // One event the buffer can never take: waiting cannot help, and it must not hold back the rest.
                _logger.EventTooLarge(queue.TypeName, exception.Bytes, exception.Limit, exception.MaxBytes);
                _metrics.Refused("too_large");
                _ = Interlocked.Increment(ref _droppedTooLarge);
                Done(queue, ref done, 1);
                continue;
            }

            if (kept)
            {
                try
                {
                    await _store.WaitForDurableAsync(end, _stopping.Token).ConfigureAwait(false);
                }
                catch (RecordsDiscardedException exception)
                {
                    kept = false; // nothing of that slice was kept: the retry appends it again
                    RefusedLibraryAppend(queue, slice, "error", exception.Message, exception);
                }
            }
            else
            {
                RefusedLibraryAppend(queue, slice, "buffer_full", $"the buffer is full (MaxBufferBytes = {_store.MaxBytes})", exception: null);
            }

            if (!kept)
            {
                // Events dropped while this append waits for the log are warned about now, not once the log takes it:
                // a full or failing disk can last.
                for (int q = 0; q < _queues.Length; q++)
                {
                    NoteDrops(q);
                }

                await Task.Delay(delay, _timeProvider, _stopping.Token).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                continue;
            }

            if (_refusing)
            {
                _refusing = false;
                _logger.AppendResumed(_store.Directory);
            }

            Appended(slice);
            Done(queue, ref done, slice);
        }

        Array.Clear(_batch, 0, count);
    }

    private void Done(DurableAddQueue queue, ref int done, int count)
    {
        done += count;
        queue.Retire(count);
        Progressed();
    }

    /// <summary>Logs a refused append of added events once per run of refusals; each is counted.</summary>
    private void RefusedLibraryAppend(DurableAddQueue queue, int count, string refusal, string reason, Exception? exception)
    {
        Refused(refusal, reason);
        if (!_refusing)
        {
            _refusing = true;
            _logger.AppendRefused(_store.Directory, count, queue.TypeName, reason);
            if (exception is not null)
            {
                _logger.AppendRefusedDetail(exception);
            }
        }
    }

    private void Refused(string refusal, string reason)
    {
        _metrics.Refused(refusal);
        Volatile.Write(ref _lastFailure, reason);
    }

    private void Appended(int count)
    {
        _ = Interlocked.Add(ref _appended, count);
        if (Volatile.Read(ref _lastFailure) is not null)
        {
            Volatile.Write(ref _lastFailure, null);
        }
    }

    /// <summary>One warning when a queue starts dropping, one line when it has room again, with the count dropped.</summary>
    private void NoteDrops(int q)
    {
        DurableAddQueue queue = _queues[q];
        if (!_dropLogged[q] && queue.InDropEpisode)
        {
            _dropLogged[q] = true;
            _logger.AddQueueFull(queue.Bound, queue.TypeName, _store.Directory);
        }
        else if (_dropLogged[q] && queue.Count < queue.Bound)
        {
            _ = queue.TakeDropEpisode();
            _dropLogged[q] = false;
            long dropped = queue.DroppedCount;
            _logger.AddQueueRecovered(queue.TypeName, dropped - _dropReported[q]);
            _dropReported[q] = dropped;
        }
    }

    private void Progressed() =>
        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>A window on the taken events, handed to the log without copying them.</summary>
    private sealed class BatchSlice(ExportableEvent[] events) : IReadOnlyList<ExportableEvent>
    {
        private int _start;

        public int Count { get; private set; }

        public ExportableEvent this[int index] => (uint)index < (uint)Count ? events[_start + index] : throw new ArgumentOutOfRangeException(nameof(index));

        internal void Set(int start, int count) => (_start, Count) = (start, count);

        public IEnumerator<ExportableEvent> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return events[_start + i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
