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
/// <para>With the durable buffer on, events go to the buffer instead, through its one appender
/// (<see cref="DurableAppender"/>): <see cref="Add"/> queues them for its background loop; the collector's requests go
/// through <see cref="Intake"/>, which answers once they are on disk. Every export pipeline reads the log from its own
/// cursor.</para>
/// <para>Implements <see cref="IDisposable"/> as well, so that a container disposed synchronously still drains the
/// pipelines (blocking up to their shutdown deadlines) instead of throwing for an async-only singleton.</para>
/// </remarks>
internal sealed class ExporterPipelines : IFlagEventSink, IAsyncDisposable, IDisposable
{
    private readonly ExportWorker[] _all;
    private readonly DataExporter[] _feature;   // memory mode: the pipelines Add and the admission write to
    private readonly DataExporter[] _tracking;
    private readonly DurableBatchSource[] _durableSources;  // durable mode: told where the log's durable end is
    private readonly DurableEventStore? _store;
    private readonly DurableAppender? _appender;
    private readonly EventAdmission? _admission;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger? _logger;
    private readonly bool _takesFeature;
    private readonly bool _takesTracking;
    private int _noExporterWarned;   // bit per EventType: the warning is logged once per type

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
        _logger = loggerFactory?.CreateLogger<IFlagEventSink>();
        ILogger? logger = loggerFactory?.CreateLogger<DataExporter>();
        var created = new List<ExportWorker>();
        var inMemory = new List<DataExporter>();
        var durableSources = new List<DurableBatchSource>();
        var allOptions = new List<DataExporterOptions>();
        try
        {
            if (durableOptions.Enabled)
            {
                // The collector registers its idempotency keys: they are recovered from, and journaled beside, this buffer.
                _store = DurableEventStore.Open(
                    durableOptions.BufferDirectory!, durableOptions.MaxBufferBytes, loggerFactory?.CreateLogger<DurableEventStore>(),
                    keys: (IdempotencyKeys?)services.GetService(typeof(IdempotencyKeys)));
            }

            foreach (ExporterRegistration registration in registrations)
            {
                IExporter exporter = registration.Factory(services)
                    ?? throw new InvalidOperationException($"The factory of exporter '{registration.Name}' returned null.");
                DataExporterOptions pipelineOptions = options.Get(registration.Name);
                allOptions.Add(pipelineOptions);
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
            if (_store is not null)
            {
                // Added events wait for the disk in a queue per type, bounded as the operator bounded that type's
                // exporters; a type no exporter takes has none, and its events are refused, as without a buffer.
                _appender = new DurableAppender(_store,
                    MaxBufferedOf(allOptions, EventType.Feature), MaxBufferedOf(allOptions, EventType.Tracking),
                    allOptions.Select(o => o.ShutdownTimeout).DefaultIfEmpty(DataExporterOptions.DefaultShutdownTimeout).Max(),
                    timeProvider, loggerFactory?.CreateLogger<DurableAppender>(), meterFactory);
            }
        }
        catch
        {
            // Do not leave workers of the pipelines already started running.
            _appender?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (ExportWorker pipeline in created)
            {
                pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        _all = [.. created];
        _takesFeature = allOptions.Any(o => o.EventType == EventType.Feature);
        _takesTracking = allOptions.Any(o => o.EventType == EventType.Tracking);
        _durableSources = [.. durableSources];
        _admission = _store is null ? new EventAdmission(_feature, _tracking) : null;

        static long? MaxBufferedOf(List<DataExporterOptions> all, EventType eventType) =>
            all.Where(o => o.EventType == eventType).Select(o => (long?)o.EffectiveMaxBufferedEvents).Max();
    }

    /// <summary>The export pipelines' workers, in registration order.</summary>
    internal IReadOnlyList<ExportWorker> Pipelines => _all;

    /// <summary>The durable buffer, or null when events are held in memory.</summary>
    internal DurableEventStore? DurableBuffer => _store;

    /// <summary>The durable buffer's appender, or null when events are held in memory.</summary>
    internal DurableAppender? Appender => _appender;

    /// <summary>
    /// The collector's way in, whichever mode: each request's events kept all or nothing, in the pipelines' memory
    /// (<see cref="EventAdmission"/>) or on disk (<see cref="DurableAppender"/>).
    /// </summary>
    internal IEventIntake Intake => (IEventIntake?)_appender ?? _admission!;

    /// <inheritdoc/>
    public bool Track(string key, string targetingKey, IReadOnlyDictionary<string, FlagValue>? context = null, IReadOnlyDictionary<string, FlagValue>? details = null) =>
        Add(TrackingEvent.ForTrack(key, targetingKey, context, details, _timeProvider));

    /// <inheritdoc/>
    public bool Add(ExportableEvent exportableEvent)
    {
        ArgumentNullException.ThrowIfNull(exportableEvent);
        EventType eventType = exportableEvent.EventType; // read once: the pipelines are told, not asked again
        if (!(eventType == EventType.Feature ? _takesFeature : _takesTracking))
        {
            WarnNoExporterOnce(eventType);
            return false;
        }

        if (_appender is not null)
        {
            return _appender.TryAdd(exportableEvent, eventType);
        }

        DataExporter[] targets = eventType == EventType.Feature ? _feature : _tracking;
        bool accepted = false;
        foreach (DataExporter pipeline in targets)
        {
            accepted |= pipeline.AddOfType(exportableEvent, eventType);
        }

        return accepted;
    }

    // Without it, Track with only feature exporters registered returns false and writes nothing, silently.
    private void WarnNoExporterOnce(EventType eventType)
    {
        int bit = 1 << (int)eventType;
        if (_logger is null || (Interlocked.Or(ref _noExporterWarned, bit) & bit) != 0)
        {
            return;
        }

        string name = eventType == EventType.Feature ? "feature" : "tracking";
        _logger.NoExporterForType(name, eventType.ToString(), name);
    }

    /// <inheritdoc/>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_appender is not null)
        {
            // Added events reach the log first; the export pipelines' targets then include them.
            await _appender.FlushAsync(cancellationToken).ConfigureAwait(false);
            AdvanceToDurable(_appender.Store);
        }

        await Task.WhenAll(_all.Select(p => p.FlushAsync(cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>Stops every pipeline, each writing what is left within its own deadline or until <paramref name="cancellationToken"/>.</summary>
    internal async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_appender is not null)
        {
            await _appender.ShutdownAsync(cancellationToken).ConfigureAwait(false);
            AdvanceToDurable(_appender.Store);
        }

        await Task.WhenAll(_all.Select(p => p.ShutdownAsync(cancellationToken))).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_appender is not null)
        {
            await _appender.DisposeAsync().ConfigureAwait(false);
            AdvanceToDurable(_appender.Store);
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
    /// appender's last appends are then part of the flush or the shutdown drain that follows.
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
}
