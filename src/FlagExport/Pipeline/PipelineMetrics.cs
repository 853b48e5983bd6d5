using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace FlagExport;

/// <summary>
/// The instruments of one pipeline on the <c>FlagExport</c> meter, every measurement tagged with
/// <c>flagexport.exporter</c> = the exporter's name.
/// </summary>
/// <remarks>
/// Counts that change on the caller's thread (events added, events dropped because the buffer was full, events
/// buffered) are observable instruments read from the pipeline's own counters, so adding an event never
/// touches a metric. The rest is recorded by the worker, once per batch.
/// </remarks>
internal sealed class PipelineMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    internal const string MeterName = "FlagExport";

    /// <summary>The tag carrying the exporter's name.</summary>
    internal const string ExporterTag = "flagexport.exporter";

    /// <summary>The tag carrying why events were dropped: <c>buffer_full</c> or <c>shutdown</c>.</summary>
    internal const string ReasonTag = "flagexport.drop_reason";

    internal const string EventsAddedName = "flagexport.events.added";
    internal const string EventsExportedName = "flagexport.events.exported";
    internal const string EventsDroppedName = "flagexport.events.dropped";
    internal const string EventsBufferedName = "flagexport.events.buffered";
    internal const string FlushesName = "flagexport.flushes";
    internal const string FailuresName = "flagexport.export.failures";
    internal const string BatchSizeName = "flagexport.batch.size";
    internal const string FlushDurationName = "flagexport.flush.duration";
    internal const string EventsDeadLetteredName = "flagexport.events.dead_lettered";

    private static readonly ConditionalWeakTable<Meter, SourceSlot> Slots = new();
    private readonly Meter? _ownedMeter;
    private readonly SourceSlot _slot;
    private readonly Sources _sources;
    private readonly KeyValuePair<string, object?> _exporterTag;
    private readonly KeyValuePair<string, object?>[] _bufferFullTags;
    private readonly KeyValuePair<string, object?>[] _exporterTags;
    private readonly KeyValuePair<string, object?>[] _shutdownTags;
    private readonly KeyValuePair<string, object?>[] _closedTags;
    private readonly Counter<long> _exported;
    private readonly Counter<long> _flushes;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _deadLettered;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _flushDuration;

    /// <summary>Creates the instruments.</summary>
    /// <param name="exporterName">The value of the <c>flagexport.exporter</c> tag.</param>
    /// <param name="meterFactory">Creates the meter; when null the meter is created here and disposed with this object.</param>
    /// <param name="added">Reads the number of events accepted so far.</param>
    /// <param name="droppedBufferFull">Reads the number of events dropped because the buffer was full.</param>
    /// <param name="notWritten">Reads the number of events the shutdown could not write.</param>
    /// <param name="refusedAfterStop">Reads the number of events refused because the pipeline had stopped.</param>
    /// <param name="buffered">Reads the number of events held now.</param>
    internal PipelineMetrics(
        string exporterName, IMeterFactory? meterFactory, Func<long> added, Func<long> droppedBufferFull, Func<long> notWritten, Func<long> refusedAfterStop, Func<long> buffered)
    {
        _exporterTag = new(ExporterTag, exporterName);
        _exporterTags = [_exporterTag];
        _bufferFullTags = [_exporterTag, new(ReasonTag, "buffer_full")];
        _shutdownTags = [_exporterTag, new(ReasonTag, "shutdown")];
        _closedTags = [_exporterTag, new(ReasonTag, "closed")];

        // A meter per pipeline (the factory caches by name and tags) so that each pipeline owns its observable callbacks.
        var options = new MeterOptions(MeterName) { Tags = _exporterTags };
        Meter meter = meterFactory?.Create(options) ?? (_ownedMeter = new Meter(options));

        // The callbacks read the pipeline through a slot owned by the meter, not through this object: a factory caches the
        // meter and its instruments by name and tags, so a later pipeline of the same name gets the same instruments
        // (and their first callbacks). It takes the slot over; Dispose empties it so that a stopped pipeline is neither
        // kept alive nor reported.
        _slot = Slots.GetValue(meter, static _ => new SourceSlot());
        _sources = new Sources(added, droppedBufferFull, notWritten, refusedAfterStop, buffered);
        Volatile.Write(ref _slot.Current, _sources);
        SourceSlot slot = _slot;
        _ = meter.CreateObservableCounter<long>(
            EventsAddedName,
            () => Volatile.Read(ref slot.Current) is { } sources ? [new Measurement<long>(sources.Added(), _exporterTags)] : (Measurement<long>[])[],
            "{event}",
            "Events accepted by Add.");
        _ = meter.CreateObservableCounter<long>(
            EventsDroppedName,
            () => Volatile.Read(ref slot.Current) is { } sources
                ? [new(sources.DroppedBufferFull(), _bufferFullTags), new(sources.NotWritten(), _shutdownTags), new(sources.RefusedAfterStop(), _closedTags)]
                : (Measurement<long>[])[],
            "{event}",
            "Events dropped: refused because the buffer was full or the pipeline had stopped, or not written by the shutdown deadline.");
        _ = meter.CreateObservableUpDownCounter<long>(
            EventsBufferedName,
            () => Volatile.Read(ref slot.Current) is { } sources ? [new Measurement<long>(sources.Buffered(), _exporterTags)] : (Measurement<long>[])[],
            "{event}",
            "Events held in memory now.");
        _exported = meter.CreateCounter<long>(EventsExportedName, "{event}", "Events written by the exporter.");
        _flushes = meter.CreateCounter<long>(FlushesName, "{flush}", "Successful exports (one per batch).");
        _failures = meter.CreateCounter<long>(FailuresName, "{failure}", "Failed or timed-out exports.");
        _deadLettered = meter.CreateCounter<long>(EventsDeadLetteredName, "{event}", "Events set aside in the dead-letter folder because they could not be written.");
        _batchSize = meter.CreateHistogram<int>(BatchSizeName, "{event}", "Events per export call.");
        _flushDuration = meter.CreateHistogram<double>(FlushDurationName, "s", "Duration of export calls, successful or not.");
    }

    /// <summary>Records a successful export of <paramref name="count"/> events.</summary>
    /// <summary>A batch of <paramref name="count"/> events was set aside as a dead letter.</summary>
    internal void DeadLettered(int count) => _deadLettered.Add(count, _exporterTag);

    internal void ExportSucceeded(int count, TimeSpan duration)
    {
        _exported.Add(count, _exporterTag);
        _flushes.Add(1, _exporterTag);
        _batchSize.Record(count, _exporterTag);
        _flushDuration.Record(duration.TotalSeconds, _exporterTag);
    }

    /// <summary>Records a failed export.</summary>
    internal void ExportFailed(TimeSpan duration)
    {
        _failures.Add(1, _exporterTag);
        _flushDuration.Record(duration.TotalSeconds, _exporterTag);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _ = Interlocked.CompareExchange(ref _slot.Current, null, _sources); // unless a newer pipeline took the slot over
        _ownedMeter?.Dispose();
    }

    /// <summary>Where the observable instruments read the pipeline's counts.</summary>
    private sealed record Sources(Func<long> Added, Func<long> DroppedBufferFull, Func<long> NotWritten, Func<long> RefusedAfterStop, Func<long> Buffered);

    /// <summary>The pipeline a meter's observable instruments currently report, one per meter.</summary>
    private sealed class SourceSlot
    {
        internal Sources? Current;
    }
}
