using System.Diagnostics.Metrics;
using FlagExport.Durability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>
/// The pipelines registered with <see cref="FlagExportBuilder.AddExporter"/>, created and started together; the
/// <see cref="IFlagEventSink"/> that fans events out to the pipelines of their type.
/// </summary>
/// <remarks>
/// <para>With the durable buffer on, events go to the buffer instead: <see cref="Add"/> into a small in-memory intake
/// pipeline per event type whose exporter appends to the buffer's log; <see cref="TryAppendDurableAsync"/> straight into
/// the log (the collector, which answers only once its events are on disk). Every export pipeline reads the log from
/// its own cursor.</para>
/// <para>Implements <see cref="IDisposable"/> as well, so that a container disposed synchronously still drains the
/// pipelines (blocking up to their shutdown deadlines) instead of throwing for an async-only singleton.</para>
/// </remarks>
internal sealed class ExporterPipelines : IFlagEventSink, IAsyncDisposable, IDisposable
{
    /// <summary>The intake's batch: how many added events one append to the log takes at most.</summary>
    private const int IntakeBatch = 4096;

    /// <summary>The intake's bound on events waiting in memory for the disk.</summary>
    private const int IntakeMaxBuffered = 1_000_000;

    private readonly ExportWorker[] _all;
    private readonly DataExporter[] _feature;   // memory mode: the pipelines Add and TryAddAll write to
    private readonly DataExporter[] _tracking;
    private readonly bool _featureExported;     // whether some exporter takes feature events
    private readonly bool _trackingExported;
    private readonly DurableBatchSource[] _durableSources;  // durable mode: told where the log's durable end is
    private readonly DurableEventStore? _store;
    private readonly DataExporter? _featureIntake;
    private readonly DataExporter? _trackingIntake;
    private readonly EventAdmission? _admission;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates every registered exporter and starts its pipeline.</summary>
    /// <exception cref="OptionsValidationException">The options of a pipeline are invalid.</exception>
    /// <exception cref="InvalidOperationException">A factory returned null.</exception>
    internal ExporterPipelines(
        IEnumerable<ExporterRegistration> registrations,
        IServiceProvider services,
        IOptionsMonitor<DataExporterOptions> options,
        DurableBufferOptions durableOptions,
        TimeProvider timeProvider,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory)
    {
        _timeProvider = timeProvider;
        ILogger? logger = loggerFactory?.CreateLogger<DataExporter>();
        var created = new List<ExportWorker>();
        var inMemory = new List<DataExporter>();
        var durableSources = new List<DurableBatchSource>();
        try
        {
            if (durableOptions.Enabled)
            {
                _store = DurableEventStore.Open(durableOptions.BufferDirectory!, durableOptions.MaxBufferBytes, loggerFactory?.CreateLogger<DurableEventStore>());
            }

            foreach (ExporterRegistration registration in registrations)
            {
                IExporter exporter = registration.Factory(services)
                    ?? throw new InvalidOperationException($"The factory of exporter '{registration.Name}' returned null.");
                DataExporterOptions pipelineOptions = options.Get(registration.Name);
                if (_store is null)
                {
                    var pipeline = new DataExporter(exporter, pipelineOptions, registration.Name, registration.Name, timeProvider, logger, meterFactory, jitterSample: null);
                    inMemory.Add(pipeline);
                    created.Add(pipeline.Worker);
                }
                else
                {
                    // Reads the log from its own cursor: nothing is added to it, so it has no DataExporter façade.
                    DurableBatchSource source = CreateDurableSource(_store, registration.Name, pipelineOptions, logger, out WorkerSignal signal);
                    created.Add(new ExportWorker(exporter, pipelineOptions, registration.Name, source, signal, timeProvider, logger, meterFactory, jitterSample: null));
                    durableSources.Add(source);
                    _store.OnDurable(source.OnDurableAdvanced);
                }
            }

            _store?.AllCursorsOpened();
            _feature = [.. inMemory.Where(p => p.EventType == EventType.Feature)];
            _tracking = [.. inMemory.Where(p => p.EventType == EventType.Tracking)];
            _featureExported = created.Any(p => p.EventType == EventType.Feature);
            _trackingExported = created.Any(p => p.EventType == EventType.Tracking);
            if (_store is not null)
            {
                // An intake only for a type some exporter takes: the other type's events are refused, as without a buffer.
                _featureIntake = _featureExported ? CreateIntake(EventType.Feature) : null;
                _trackingIntake = _trackingExported ? CreateIntake(EventType.Tracking) : null;
            }
        }
        catch
        {
            // Do not leave workers of the pipelines already started running.
            foreach (IAsyncDisposable pipeline in created.Concat<IAsyncDisposable>(Intakes()))
            {
                pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        _all = [.. created];
        _durableSources = [.. durableSources];
        _admission = _store is null ? new EventAdmission(_feature, _tracking) : null;

        DataExporter CreateIntake(EventType eventType) => new(
            new DurableAppender(_store),
            new DataExporterOptions
            {
                EventType = eventType,
                FlushInterval = FlagExportBuilder.DurableIntakeInterval,
                MaxEventInMemory = IntakeBatch,

                // The intake encodes records, where metadata shared by its events counts once: the largest bound keeps
                // such events in few appends, so their metadata is stored in few records.
                MaxBatchEncodedBytes = DataExporterOptionsValidator.MaxBatchEncodedBytesLimit,
                MaxBufferedEvents = IntakeMaxBuffered,
                MaxRetryDuration = TimeSpan.FromDays(49), // the log only refuses when full: keep trying, never set aside
            },
            optionsName: null,
            name: $"durable-buffer.{eventType.ToString().ToLowerInvariant()}",
            timeProvider,
            logger,
            meterFactory,
            jitterSample: null,
            traced: false);
    }

    /// <summary>The export pipelines' workers, in registration order.</summary>
    internal IReadOnlyList<ExportWorker> Pipelines => _all;

    /// <summary>The durable buffer, or null when events are held in memory.</summary>
    internal DurableEventStore? DurableBuffer => _store;

    /// <inheritdoc/>
    public bool Track(string key, string targetingKey, IReadOnlyDictionary<string, FlagValue>? context = null, IReadOnlyDictionary<string, FlagValue>? details = null) =>
        Add(TrackingEvent.ForTrack(key, targetingKey, context, details, _timeProvider));

    /// <inheritdoc/>
    public bool Add(ExportableEvent exportableEvent)
    {
        ArgumentNullException.ThrowIfNull(exportableEvent);
        EventType eventType = exportableEvent.EventType; // read once: the pipelines are told, not asked again
        if (_store is not null)
        {
            DataExporter? intake = eventType == EventType.Feature ? _featureIntake : _trackingIntake;
            return intake?.AddOfType(exportableEvent, eventType) ?? false;
        }

        DataExporter[] targets = eventType == EventType.Feature ? _feature : _tracking;
        bool accepted = false;
        foreach (DataExporter pipeline in targets)
        {
            accepted |= pipeline.AddOfType(exportableEvent, eventType);
        }

        return accepted;
    }

    /// <summary>
    /// Without the durable buffer: adds every event that an exporter takes to every pipeline of its type, or none of them
    /// when one of those pipelines has no room (see <see cref="EventAdmission"/>).
    /// </summary>
    internal EventAdmissionResult TryAddAll(IReadOnlyList<ExportableEvent> events) =>
        (_admission ?? throw new InvalidOperationException("The durable buffer is on: append the events with TryAppendDurableAsync.")).TryAddAll(events);

    /// <summary>
    /// Durable buffer only: appends the events that an exporter takes (their type has a pipeline) and completes once they
    /// are on disk. Appends all of them or none.
    /// </summary>
    /// <returns>How many were appended, or -1 when the buffer is full (none appended).</returns>
    internal async ValueTask<int> TryAppendDurableAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        DurableEventStore store = _store ?? throw new InvalidOperationException("The durable buffer is off.");
        List<ExportableEvent>? taken = null;
        for (int i = 0; i < events.Count; i++)
        {
            bool exported = events[i].EventType == EventType.Feature ? _featureExported : _trackingExported;
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
        if (!store.TryAppend(appended, out long end))
        {
            return -1;
        }

        await store.WaitForDurableAsync(end, cancellationToken).ConfigureAwait(false);
        return appended.Count;
    }

    /// <inheritdoc/>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_store is not null)
        {
            // Added events reach the log first; the export pipelines' targets then include them.
            await Task.WhenAll(Intakes().Select(p => p.FlushAsync(cancellationToken))).ConfigureAwait(false);
            await _store.FlushAsync(cancellationToken).ConfigureAwait(false);
            AdvanceToDurable(_store);
        }

        await Task.WhenAll(_all.Select(p => p.FlushAsync(cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>Stops every pipeline, each writing what is left within its own deadline or until <paramref name="cancellationToken"/>.</summary>
    internal async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_store is not null)
        {
            await Task.WhenAll(Intakes().Select(p => p.ShutdownAsync(cancellationToken))).ConfigureAwait(false);
            AdvanceToDurable(_store);
        }

        await Task.WhenAll(_all.Select(p => p.ShutdownAsync(cancellationToken))).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (DataExporter intake in Intakes())
        {
            await intake.DisposeAsync().ConfigureAwait(false);
        }

        if (_store is not null)
        {
            AdvanceToDurable(_store);
        }

        foreach (ExportWorker pipeline in _all)
        {
            await pipeline.DisposeAsync().ConfigureAwait(false);
        }

        if (_store is not null)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Tells every export pipeline where the buffer's durable end is now, without waiting for the store's notifier: the
    /// intakes' last appends are then part of the flush or the shutdown drain that follows.
    /// </summary>
    private void AdvanceToDurable(DurableEventStore store)
    {
        foreach (DurableBatchSource source in _durableSources)
        {
            source.OnDurableAdvanced(store.DurablePosition);
        }
    }

    /// <summary>The source of an export pipeline reading the log from the cursor of exporter <paramref name="name"/>.</summary>
    private static DurableBatchSource CreateDurableSource(DurableEventStore store, string name, DataExporterOptions options, ILogger? logger, out WorkerSignal signal)
    {
        DataExporterOptionsValidator.ThrowIfInvalid(name, options);
        ILogger log = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        ExporterCursor cursor = store.OpenCursor(name, options.EventType);
        var durable = new DurableSource(store, cursor, new DurableEventReader(store.Log, cursor.Committed, options.EventType, name, log));
        signal = new WorkerSignal();
        return new DurableBatchSource(name, options, durable, signal, log);
    }

    private IEnumerable<DataExporter> Intakes()
    {
        if (_featureIntake is not null)
        {
            yield return _featureIntake;
        }

        if (_trackingIntake is not null)
        {
            yield return _trackingIntake;
        }
    }
}
