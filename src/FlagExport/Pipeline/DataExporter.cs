using System.Runtime.CompilerServices;
using FlagExport.Durability;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport;

/// <summary>
/// An export pipeline for one <see cref="IExporter"/>: buffers events of one <see cref="EventType"/> and exports them
/// in batches from a single background worker, when <see cref="DataExporterOptions.FlushInterval"/> elapses, when
/// <see cref="DataExporterOptions.MaxEventInMemory"/> events are waiting, and on <see cref="FlushAsync"/> and disposal.
/// </summary>
/// <remarks>
/// <para>Every <c>Add</c> overload is safe to call from many threads at once. It never blocks, never does I/O and never
/// throws because the buffer is full: when <see cref="DataExporterOptions.MaxBufferedEvents"/> are held, the new
/// event is dropped, counted, and one warning is logged per episode.</para>
/// <para>A batch that fails to export stays, with the same events in the same order, and is retried at the next
/// trigger and after an exponential backoff with jitter (1 second doubling to 60 seconds). Events keep buffering
/// meanwhile. After a failure the size trigger counts from the failure: it retries once
/// <see cref="DataExporterOptions.MaxEventInMemory"/> events have been added since, never because the kept batch or the
/// events already waiting fill a batch, so a failing exporter is not retried in a loop.</para>
/// <para>Disposal stops accepting events and writes what is left within
/// <see cref="DataExporterOptions.ShutdownTimeout"/>; events not written by then are logged and counted.
/// The pipeline does not dispose the exporter.</para>
/// <para>The buffer-full warning is logged by the worker, so it can come after an export in progress ends.</para>
/// </remarks>
public sealed partial class DataExporter : IAsyncDisposable
{
    /// <summary>The sign bit of <see cref="_state"/>: set once the pipeline stops accepting events.</summary>
    private const long ClosedBit = long.MinValue;

    /// <summary>The value of <see cref="_sizeWakeAt"/> while the size trigger is disarmed: no sequence number reaches it.</summary>
    private const long SizeTriggerDisarmed = long.MaxValue;

    // Immutable after construction.
    private readonly IExporter _exporter;
    private readonly EventType _eventType;
    private readonly string _idScope;
    private readonly string _idPrefix = BatchState.NewInstancePrefix();
    private readonly int _maxBatch;
    private readonly long _maxBatchBytes;
    private readonly long _maxBuffered;
    private readonly TimeSpan _exportTimeout;
    private readonly TimeSpan _shutdownTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PipelineMetrics _metrics;
    private readonly EventRing _ring;            // memory mode only
    private readonly DurableSource? _durable;     // durable mode: the shared log, this exporter's cursor and reader
    private readonly TimeSpan _maxRetryDuration;
    private readonly DeadLetterWriter _deadLetters;
    private readonly WorkerSignal _signal = new();
    private readonly ITimer _intervalTimer;
    private readonly ITimer _retryTimer;
    private readonly Task _worker;

    // Cancelled at the shutdown deadline (or when the caller of ShutdownAsync gives up): every export token is linked to it.
    private readonly CancellationTokenSource _deadline = new();

    // Written by producers (Add), read by the worker.
    // _state counts the events ever accepted: a producer reserves its place with one CAS, which also enforces
    // MaxBufferedEvents exactly and sees the ClosedBit set by shutdown, so no event is accepted after the drain target is taken.
    private long _state;
    private long _droppedBufferFull;
    private long _refusedAfterStop;
    private int _dropEpisode;  // 1 from the first drop until the worker sees the buffer has room again
    private int _wakeReasons;

    // The size trigger: the Sequence at which Add wakes the worker, or SizeTriggerDisarmed. Written by the worker when it
    // arms the trigger; the producer that reaches it disarms it with one CAS, so there is one wake-up per crossing.
    private long _sizeWakeAt;

    // Written by the worker only; read by producers and flush callers (Volatile).
    private long _dequeued;    // events taken from the ring into a batch
    private long _retired;     // events written by the exporter
    private long _notWritten;  // events given up at the shutdown deadline
    private long _attempts;    // export calls started
    private long _deadLetteredEvents;
    private long _deadLetterBatches;
    private volatile string? _deadLetterError; // why the last dead letter could not be written; null once one is
    private DateTimeOffset? _lastSuccessTimestamp;
    private long _failingSinceUtcTicks; // 0 while the last export succeeded; ticks, so that readiness reads it whole

    // Flush requests; _flushTarget is the largest target requested, read by the worker without the lock.
    private readonly Lock _flushGate = new();
    private readonly List<FlushRequest> _flushRequests = [];
    private long _flushTarget;
    private bool _workerDone;

    // Shutdown and disposal, first call wins.
    private int _shutdownStarted;
    private int _disposed;
    private ITimer? _deadlineTimer;
    private CancellationTokenRegistration _callerRegistration;

    /// <summary>Creates a pipeline for <paramref name="exporter"/> and starts its background worker.</summary>
    /// <param name="exporter">Writes the batches. Not disposed by the pipeline.</param>
    /// <param name="options">The options, validated and copied here; later changes have no effect.</param>
    /// <param name="timeProvider">The clock for the interval, backoff and timeouts. The default value is <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives failures, drops and unwritten events. The default value is no logging.</param>
    /// <param name="meterFactory">Creates the <c>FlagExport</c> meter. When null, the pipeline creates and disposes its own meter.</param>
    /// <param name="name">The exporter's name in logs and metric tags. The default value is the exporter's type name.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message names it and its value.</exception>
    public DataExporter(
        IExporter exporter,
        DataExporterOptions options,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        IMeterFactory? meterFactory = null,
        string? name = null)
        : this(exporter, options, optionsName: null, name, timeProvider, logger, meterFactory, jitterSample: null, durable: null)
    {
    }

    /// <summary>Creates a pipeline whose options are the named options <paramref name="optionsName"/> (for error messages).</summary>
    /// <remarks><paramref name="traced"/> is false for the durable buffer's intakes: their appends to the log are not exports.</remarks>
    internal DataExporter(
        IExporter exporter,
        DataExporterOptions options,
        string? optionsName,
        string? name,
        TimeProvider? timeProvider,
        ILogger? logger,
        IMeterFactory? meterFactory,
        Func<double>? jitterSample,
        DurableSource? durable = null,
        bool traced = true)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(options);
        DataExporterOptionsValidator.ThrowIfInvalid(optionsName, options);

        _exporter = exporter;
        Name = name ?? optionsName ?? exporter.GetType().Name;
        if (exporter is ITypedExporter typed && typed.EventType != options.EventType)
        {
            // Caught here rather than as an encoder error on every batch, which could only end as dead letters.
            throw new ArgumentException(
                $"Exporter '{Name}' was built for {typed.EventType} events, but its pipeline's EventType is {options.EventType}: build the exporter with eventType: EventType.{options.EventType}.",
                nameof(exporter));
        }

        _idScope = BatchState.ScopeOf(Name);
        _eventType = options.EventType;
        _maxBatch = options.MaxEventInMemory;
        _maxBatchBytes = options.MaxBatchEncodedBytes;
        _sizeWakeAt = _maxBatch;
        _maxBuffered = options.EffectiveMaxBufferedEvents;
        _ring = durable is null ? new EventRing(_maxBuffered) : new EventRing(1);
        _durable = durable;
        _maxRetryDuration = options.MaxRetryDuration;
        _deadLetters = new DeadLetterWriter(options.DeadLetterDirectory, options.MaxBatchEncodedBytes);
        if (durable is not null)
        {
            // Resume where the cursor says: positions below Committed are written, the batch in flight is cut again.
            long committed = durable.Cursor.Committed;
            _dequeued = _retired = committed;
            _state = Math.Max(committed, durable.Store.DurablePosition);
            _sizeWakeAt = committed + _maxBatch;
            if (_state > committed)
            {
                // What the buffer held before the restart: its export is traced as one replay (see StartReplay). Its start
                // is on the wall clock, as every activity's time is, not on the pipeline's TimeProvider.
                _replayEnd = _state;
                _replayRecords = _state - committed;
                _replayStartedUtc = DateTimeOffset.UtcNow;
            }
        }

        _traced = traced;
        _exportDisplayName = $"export {Name}";
        _exportTimeout = options.ExportTimeout;
        _shutdownTimeout = options.ShutdownTimeout;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _retryPolicy = new ExportRetryPolicy(_timeProvider, jitterSample);
        _batch = new List<ExportableEvent>(Math.Min(_maxBatch, 16_384));
        _metrics = new PipelineMetrics(Name, meterFactory, () => AcceptedCount, () => DroppedCount, () => NotWrittenCount, () => RefusedAfterStopCount, () => BufferedCount);

        TimeSpan interval = options.FlushInterval;
        (_intervalTimer, _retryTimer, _worker) = WithoutExecutionContext(() => (
            _timeProvider.CreateTimer(static s => ((DataExporter)s!).Wake(WakeReasons.Interval), this, interval, interval),
            _timeProvider.CreateTimer(static s => ((DataExporter)s!).Wake(WakeReasons.Retry), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan),
            Task.Run(RunAsync)));
    }

    /// <summary>The exporter's name in logs and metric tags.</summary>
    internal string Name { get; }

    /// <summary>The type of events this pipeline accepts.</summary>
    internal EventType EventType => _eventType;

    /// <summary>How many events were accepted since the start (a sequence number: event n is number n - 1).</summary>
    internal long Sequence => Volatile.Read(ref _state) & ~ClosedBit;

    /// <summary>How many events are held: accepted and not yet written.</summary>
    internal long BufferedCount => Sequence - Volatile.Read(ref _retired);

    /// <summary>How many events were written by the exporter.</summary>
    internal long ExportedCount => Volatile.Read(ref _retired);

    /// <summary>How many events were refused because the buffer was full.</summary>
    internal long DroppedCount => Volatile.Read(ref _droppedBufferFull);

    /// <summary>How many events were refused because the pipeline had stopped accepting them.</summary>
    internal long RefusedAfterStopCount => Volatile.Read(ref _refusedAfterStop);

    /// <summary>
    /// Hands <paramref name="batch"/> to the exporter at once, outside the buffer and the worker, within
    /// <see cref="DataExporterOptions.ExportTimeout"/> (replaying a dead letter). Throws what the exporter throws.
    /// </summary>
    internal async Task ExportDirectlyAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_exportTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        await _exporter.ExportAsync(batch, linked.Token).ConfigureAwait(false);
    }

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

    /// <summary>The bound on buffered events (memory mode), for readiness.</summary>
    internal long MaxBuffered => _maxBuffered;

    /// <summary>Whether this pipeline reads the durable buffer.</summary>
    internal bool IsDurable => _durable is not null;

    /// <summary>How many events the shutdown could not write before its deadline.</summary>
    internal long NotWrittenCount => Volatile.Read(ref _notWritten);

    /// <summary>
    /// Whether the worker is idle: parked with no wake-up pending, so it calls the exporter again only after a trigger
    /// (a timer or a threshold crossing in <see cref="Add(ExportableEvent)"/>), a flush or disposal wakes it. For tests.
    /// </summary>
    internal bool WorkerIsIdle => _signal.HasWaiter;

    /// <summary>
    /// Buffers <paramref name="exportableEvent"/> for export. Never blocks and never throws because the buffer is full.
    /// </summary>
    /// <param name="exportableEvent">The event; it must not be changed afterwards.</param>
    /// <returns>
    /// <see langword="true"/> when the event was buffered; <see langword="false"/> when it is of the other
    /// <see cref="FlagExport.EventType"/>, when the buffer is full (the event is dropped and counted), or after disposal started.
    /// </returns>
    public bool Add(ExportableEvent exportableEvent)
    {
        ArgumentNullException.ThrowIfNull(exportableEvent);
        return AddOfType(exportableEvent, exportableEvent.EventType);
    }

    /// <summary>
    /// Buffers <paramref name="featureEvent"/> for export, as <see cref="Add(ExportableEvent)"/> does; the event's type is
    /// known from the argument's, so nothing is read from the event before it is buffered.
    /// </summary>
    /// <param name="featureEvent">The event; it must not be changed afterwards.</param>
    /// <returns>As <see cref="Add(ExportableEvent)"/>: <see langword="false"/> from a pipeline of tracking events.</returns>
    public bool Add(FeatureEvent featureEvent)
    {
        ArgumentNullException.ThrowIfNull(featureEvent);
        return AddOfType(featureEvent, EventType.Feature);
    }

    /// <summary>
    /// Buffers <paramref name="trackingEvent"/> for export, as <see cref="Add(ExportableEvent)"/> does; the event's type
    /// is known from the argument's, so nothing is read from the event before it is buffered.
    /// </summary>
    /// <param name="trackingEvent">The event; it must not be changed afterwards.</param>
    /// <returns>As <see cref="Add(ExportableEvent)"/>: <see langword="false"/> from a pipeline of feature events.</returns>
    public bool Add(TrackingEvent trackingEvent)
    {
        ArgumentNullException.ThrowIfNull(trackingEvent);
        return AddOfType(trackingEvent, EventType.Tracking);
    }

    /// <summary>
    /// <see cref="Add(ExportableEvent)"/> for an event of <paramref name="eventType"/>, known to the caller (which has
    /// read it once to route the event); <paramref name="exportableEvent"/> is not null.
    /// </summary>
    /// <remarks>
    /// With the type passed as a constant or a value already read, the check reads only this pipeline's field: reading
    /// the event's own type is a load from the event that the interlocked reservation waits for. Inlined so a constant
    /// folds.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool AddOfType(ExportableEvent exportableEvent, EventType eventType)
    {
        if (eventType != _eventType)
        {
            return false;
        }

        if (_durable is not null)
        {
            throw new InvalidOperationException($"Exporter '{Name}' reads the durable buffer: add events to the buffer, not to the pipeline.");
        }

        long state = Volatile.Read(ref _state);
        while (true)
        {
            if (state < 0)
            {
                OnRefusedAfterStop(); // ClosedBit: shutting down.
                return false;
            }

            // A stale _retired only makes the bound stricter for a moment; it never lets the buffer exceed it.
            if (state - Volatile.Read(ref _retired) >= _maxBuffered)
            {
                OnDropped();
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _state, state + 1, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        // The number is reserved and within the bound, so its slot is free; the worker waits out the short gap until
        // this store when it reaches the number.
        _ring.Write(state, exportableEvent);

        // Wake the worker once per crossing of the armed threshold: the producer that reaches it disarms it, and the
        // worker arms it again after each export (see ArmSizeTrigger).
        long wakeAt = Volatile.Read(ref _sizeWakeAt);
        if (state + 1 >= wakeAt && Interlocked.CompareExchange(ref _sizeWakeAt, SizeTriggerDisarmed, wakeAt) == wakeAt)
        {
            Wake(WakeReasons.Size);
        }

        return true;
    }

    /// <summary>
    /// Exports every event buffered when called, in batches of at most <see cref="DataExporterOptions.MaxEventInMemory"/>,
    /// without waiting for the interval.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the export itself goes on.</param>
    /// <returns>A task that completes when those events are written.</returns>
    /// <exception cref="InvalidOperationException">An export failed; the events stay buffered and are retried.</exception>
    /// <exception cref="ObjectDisposedException">The pipeline stopped before the events could be written.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        long target = Sequence;
        FlushRequest request;
        lock (_flushGate)
        {
            if (Volatile.Read(ref _retired) >= target)
            {
                return Task.CompletedTask;
            }

            if (_workerDone)
            {
                return Task.FromException(new ObjectDisposedException(nameof(DataExporter), $"Exporter '{Name}' has stopped; {target - Volatile.Read(ref _retired)} events were not written."));
            }

            request = new FlushRequest(target, Volatile.Read(ref _attempts));
            _flushRequests.Add(request);
            if (target > _flushTarget)
            {
                Volatile.Write(ref _flushTarget, target);
            }
        }

        Wake(WakeReasons.Flush);
        return request.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops accepting events, writes what is left within <see cref="DataExporterOptions.ShutdownTimeout"/>, logs an
    /// error with the count of events not written, and releases the timers. Safe to call more than once.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _callerRegistration.DisposeAsync().ConfigureAwait(false);
            _deadlineTimer?.Dispose();
            _deadline.Dispose();
            _metrics.Dispose();
        }
    }

    /// <summary>
    /// Stops accepting events and writes what is left, until <see cref="DataExporterOptions.ShutdownTimeout"/> elapses or
    /// <paramref name="cancellationToken"/> is cancelled, whichever comes first. The first call wins; later calls wait for it.
    /// </summary>
    internal async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _shutdownStarted, 1) == 0)
        {
            _ = Interlocked.Or(ref _state, ClosedBit);
            _intervalTimer.Dispose();

            _deadlineTimer = WithoutExecutionContext(() =>
                _timeProvider.CreateTimer(static s => ((DataExporter)s!).CancelDeadline(), this, _shutdownTimeout, Timeout.InfiniteTimeSpan));

            if (cancellationToken.CanBeCanceled)
            {
                _callerRegistration = cancellationToken.UnsafeRegister(static s => ((DataExporter)s!).CancelDeadline(), this);
            }

            Wake(WakeReasons.Shutdown);
        }

        await _worker.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="create"/> with the caller's ExecutionContext suppressed: timers and the worker must not capture
    /// it (its AsyncLocals, the current Activity) and keep it alive for the pipeline's lifetime.
    /// </summary>
    private static T WithoutExecutionContext<T>(Func<T> create)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return create();
        }

        using AsyncFlowControl flow = ExecutionContext.SuppressFlow();
        return create();
    }

    private void CancelDeadline()
    {
        try
        {
            _deadline.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposal finished first: nothing is left to cancel.
        }
    }

    private void OnRefusedAfterStop()
    {
        // Counted, and logged once: the worker is gone, so the first refusal logs on the caller's thread.
        if (Interlocked.Increment(ref _refusedAfterStop) == 1)
        {
            _logger.AddedAfterStop(Name);
        }
    }

    private void OnDropped()
    {
        _ = Interlocked.Increment(ref _droppedBufferFull);

        // One warning per episode: only the first drop since the buffer last had room wakes the worker to log it.
        if (Volatile.Read(ref _dropEpisode) == 0 && Interlocked.Exchange(ref _dropEpisode, 1) == 0)
        {
            Wake(WakeReasons.BufferFull);
        }
    }

    private void Wake(int reason)
    {
        _ = Interlocked.Or(ref _wakeReasons, reason);
        _signal.Set();
    }

    /// <summary>Why the worker was woken; several can be pending at once.</summary>
    private static class WakeReasons
    {
        internal const int Interval = 1;
        internal const int Size = 2;
        internal const int Flush = 4;
        internal const int Retry = 8;
        internal const int BufferFull = 16;
        internal const int Shutdown = 32;

        /// <summary>The reasons that start an export.</summary>
        internal const int Export = Interval | Size | Flush | Retry;

        /// <summary>The reasons that export everything buffered, not only full batches.</summary>
        internal const int Drain = Interval | Retry;
    }

    /// <summary>A caller of <see cref="FlushAsync"/> waiting until <see cref="Target"/> events are written.</summary>
    /// <param name="target">The sequence number to reach.</param>
    /// <param name="attemptsBefore">How many exports had started when the request was made: only a later one can fail it.</param>
    private sealed class FlushRequest(long target, long attemptsBefore)
    {
        internal long Target { get; } = target;

        internal long AttemptsBefore { get; } = attemptsBefore;

        internal TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
