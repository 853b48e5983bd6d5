using System.Diagnostics.Metrics;

namespace FlagExport.Durability;

/// <summary>
/// The instruments of <see cref="DurableAppender"/> on the <c>FlagExport</c> meter: events waiting for the disk,
/// appended, dropped (tagged <c>flagexport.drop_reason</c>) and refused appends (tagged
/// <c>flagexport.append_refusal</c>).
/// </summary>
/// <remarks>
/// Counts that change on the caller's thread (<see cref="IFlagEventSink.Add"/>) are observable instruments read from the
/// appender's own counters, so adding an event never touches a metric.
/// </remarks>
internal sealed class DurableAppenderMetrics : IDisposable
{
    internal const string EventsQueuedName = "flagexport.durable.events.queued";
    internal const string EventsAppendedName = "flagexport.durable.events.appended";
    internal const string EventsDroppedName = "flagexport.durable.events.dropped";
    internal const string AppendsRefusedName = "flagexport.durable.appends.refused";

    /// <summary>The tag carrying why an append was refused: <c>buffer_full</c>, <c>too_large</c> or <c>error</c>.</summary>
    internal const string RefusalTag = "flagexport.append_refusal";

    private static readonly KeyValuePair<string, object?>[] BufferFullTags = [new(PipelineMetrics.ReasonTag, "buffer_full")];
    private static readonly KeyValuePair<string, object?>[] TooLargeTags = [new(PipelineMetrics.ReasonTag, "too_large")];
    private static readonly KeyValuePair<string, object?>[] ShutdownTags = [new(PipelineMetrics.ReasonTag, "shutdown")];
    private static readonly KeyValuePair<string, object?>[] ClosedTags = [new(PipelineMetrics.ReasonTag, "closed")];

    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _refused;

    /// <summary>Creates the instruments, reading the counts from <paramref name="appender"/>.</summary>
    internal DurableAppenderMetrics(DurableAppender appender, IMeterFactory? meterFactory)
    {
        var options = new MeterOptions(PipelineMetrics.MeterName);
        Meter meter = meterFactory?.Create(options) ?? (_ownedMeter = new Meter(options));
        _ = meter.CreateObservableUpDownCounter(EventsQueuedName, () => appender.QueuedCount, "{event}", "Events added and waiting in memory for the durable buffer.");
        _ = meter.CreateObservableCounter(EventsAppendedName, () => appender.AppendedCount, "{event}", "Events appended to the durable buffer and on disk.");
        _ = meter.CreateObservableCounter<long>(
            EventsDroppedName,
            () => [new(appender.DroppedBufferFullCount, BufferFullTags), new(appender.DroppedTooLargeCount, TooLargeTags), new(appender.NotAppendedCount, ShutdownTags), new(appender.RefusedAfterCloseCount, ClosedTags)],
            "{event}",
            "Added events that never reached the durable buffer: its queue was full, one was larger than an append can take, the application stopped first, or it had stopped.");
        _refused = meter.CreateCounter<long>(AppendsRefusedName, "{append}", "Appends to the durable buffer refused: the buffer was full, the events could never fit, or the disk failed; nothing of them was kept.");
    }

    /// <summary>An append was refused for <paramref name="refusal"/> (<c>buffer_full</c>, <c>too_large</c>, <c>error</c>).</summary>
    internal void Refused(string refusal) => _refused.Add(1, new KeyValuePair<string, object?>(RefusalTag, refusal));

    /// <inheritdoc/>
    public void Dispose() => _ownedMeter?.Dispose();
}
