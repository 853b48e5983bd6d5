using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
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
/// <para>A façade: the events wait in a <see cref="RingBatchSource"/>, and an <see cref="ExportWorker"/> exports them.</para>
/// </remarks>
public sealed class DataExporter : IAsyncDisposable
{
    private readonly EventType _eventType;
    private readonly RingBatchSource _buffer;
    private readonly ExportWorker _worker;

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
        : this(exporter, options, optionsName: null, name, timeProvider, logger, meterFactory, jitterSample: null)
    {
    }

    /// <summary>Creates a pipeline whose options are the named options <paramref name="optionsName"/> (for error messages).</summary>
    internal DataExporter(
        IExporter exporter,
        DataExporterOptions options,
        string? optionsName,
        string? name,
        TimeProvider? timeProvider,
        ILogger? logger,
        IMeterFactory? meterFactory,
        Func<double>? jitterSample)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(options);
        DataExporterOptionsValidator.ThrowIfInvalid(optionsName, options);

        string pipelineName = name ?? optionsName ?? exporter.GetType().Name;
        logger ??= NullLogger.Instance;
        var signal = new WorkerSignal();
        _eventType = options.EventType;
        _buffer = new RingBatchSource(pipelineName, options, signal, logger);
        _worker = new ExportWorker(exporter, options, pipelineName, _buffer, signal, timeProvider, logger, meterFactory, jitterSample);
    }

    /// <summary>The worker exporting this pipeline's events.</summary>
    internal ExportWorker Worker => _worker;

    /// <summary>The exporter's name in logs and metric tags.</summary>
    internal string Name => _worker.Name;

    /// <summary>The type of events this pipeline accepts.</summary>
    internal EventType EventType => _eventType;

    /// <summary>How many events were accepted since the start (a sequence number: event n is number n - 1).</summary>
    internal long Sequence => _buffer.Sequence;

    /// <summary>How many events are held: accepted and not yet written.</summary>
    internal long BufferedCount => _worker.BufferedCount;

    /// <summary>How many events were written by the exporter.</summary>
    internal long ExportedCount => _worker.ExportedCount;

    /// <summary>How many events were refused because the buffer was full.</summary>
    internal long DroppedCount => _buffer.DroppedCount;

    /// <summary>How many events were refused because the pipeline had stopped accepting them.</summary>
    internal long RefusedAfterStopCount => _buffer.RefusedAfterStopCount;

    /// <summary>How many events were set aside as dead letters.</summary>
    internal long DeadLetteredCount => _worker.DeadLetteredCount;

    /// <summary>How many batches were set aside as dead letters.</summary>
    internal long DeadLetterBatchCount => _worker.DeadLetterBatchCount;

    /// <summary>The folder dead letters go to.</summary>
    internal string DeadLetterDirectory => _worker.DeadLetterDirectory;

    /// <summary>The bound on buffered events.</summary>
    internal long MaxBuffered => _buffer.MaxBuffered;

    /// <summary>How many events the shutdown could not write before its deadline.</summary>
    internal long NotWrittenCount => _worker.NotWrittenCount;

    /// <summary>Whether the worker is idle (see <see cref="ExportWorker.IsIdle"/>). For tests.</summary>
    internal bool WorkerIsIdle => _worker.IsIdle;

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
    internal bool AddOfType(ExportableEvent exportableEvent, EventType eventType) =>
        eventType == _eventType && _buffer.TryAdd(exportableEvent);

    /// <summary>
    /// Exports every event buffered when called, in batches of at most <see cref="DataExporterOptions.MaxEventInMemory"/>,
    /// without waiting for the interval.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the export itself goes on.</param>
    /// <returns>A task that completes when those events are written.</returns>
    /// <exception cref="InvalidOperationException">An export failed; the events stay buffered and are retried.</exception>
    /// <exception cref="ObjectDisposedException">The pipeline stopped before the events could be written.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _worker.FlushAsync(cancellationToken);

    /// <summary>
    /// Stops accepting events, writes what is left within <see cref="DataExporterOptions.ShutdownTimeout"/>, logs an
    /// error with the count of events not written, and releases the timers. Safe to call more than once.
    /// </summary>
    public ValueTask DisposeAsync() => _worker.DisposeAsync();

    /// <summary>
    /// Stops accepting events and writes what is left, until <see cref="DataExporterOptions.ShutdownTimeout"/> elapses or
    /// <paramref name="cancellationToken"/> is cancelled, whichever comes first. The first call wins; later calls wait for it.
    /// </summary>
    internal Task ShutdownAsync(CancellationToken cancellationToken) => _worker.ShutdownAsync(cancellationToken);

    /// <inheritdoc cref="RingBatchSource.TryReserve"/>
    internal ReserveOutcome TryReserve(int count, out long start) => _buffer.TryReserve(count, out start);

    /// <inheritdoc cref="RingBatchSource.Probe"/>
    internal ReserveOutcome Probe(int count) => _buffer.Probe(count);

    /// <inheritdoc cref="RingBatchSource.WriteReserved"/>
    internal void WriteReserved(long sequence, ExportableEvent exportableEvent) => _buffer.WriteReserved(sequence, exportableEvent);

    /// <inheritdoc cref="RingBatchSource.Release"/>
    internal void Release(long start, int count) => _buffer.Release(start, count);

    /// <inheritdoc cref="RingBatchSource.Published"/>
    internal void Published(long end) => _buffer.Published(end);
}
