namespace FlagExport;

/// <summary>
/// Where the application hands its events: every registered exporter pipeline receives the events of its
/// <see cref="DataExporterOptions.EventType"/>. Registered by <c>AddFlagExport</c> as a singleton.
/// </summary>
public interface IFlagEventSink
{
    /// <summary>
    /// Buffers <paramref name="exportableEvent"/> in every pipeline of its event type. Never blocks, never does I/O and
    /// never throws because a buffer is full. With the durable buffer on, the event is written to disk by a background
    /// writer within about <see cref="FlagExportBuilder.DurableIntakeInterval"/> and one fsync.
    /// </summary>
    /// <param name="exportableEvent">The event; it must not be changed afterwards.</param>
    /// <returns>
    /// <see langword="true"/> when at least one pipeline buffered the event; <see langword="false"/> when no pipeline
    /// takes its event type, when every such pipeline dropped it because its buffer was full, or after shutdown.
    /// </returns>
    bool Add(ExportableEvent exportableEvent);

    /// <summary>
    /// Exports, in every pipeline, the events buffered when called. With the durable buffer on, those events are on disk
    /// first, so they survive a crash even when the export then fails.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the exports go on.</param>
    /// <returns>A task that completes when every pipeline wrote them, or fails when one of them could not.</returns>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
