namespace FlagExport;

/// <summary>
/// Where the application hands its events: every registered exporter pipeline receives the events of its
/// <see cref="DataExporterOptions.EventType"/>. Registered by <c>AddFlagExport</c> as a singleton.
/// </summary>
public interface IFlagEventSink
{
    /// <summary>
    /// Buffers <paramref name="exportableEvent"/> in every pipeline of its event type. Never blocks, never does I/O and
    /// never throws because a buffer is full. With the durable buffer on, the event waits in memory (bounded by the largest
    /// <see cref="DataExporterOptions.MaxBufferedEvents"/> of its type's pipelines) until a background writer has appended
    /// it to the disk, with the events added meanwhile, in one fsync; <see cref="FlushAsync"/> waits for that.
    /// </summary>
    /// <param name="exportableEvent">The event; it must not be changed afterwards.</param>
    /// <returns>
    /// <see langword="true"/> when at least one pipeline buffered the event; <see langword="false"/> when no pipeline
    /// takes its event type, when every such pipeline dropped it because its buffer was full, or after shutdown.
    /// </returns>
    bool Add(ExportableEvent exportableEvent);

    /// <summary>
    /// Adds a <see cref="TrackingEvent"/> for a tracking call (a conversion, a purchase), as go-feature-flag's
    /// <c>Track</c> writes it: <see cref="ExportableEvent.UserKey"/> is <paramref name="targetingKey"/>, the evaluation
    /// context is <paramref name="context"/> with <c>targetingKey</c> added, and the context kind is
    /// <c>anonymousUser</c> when <paramref name="context"/> holds <c>anonymous: true</c>, else <c>user</c>. Reaches the
    /// pipelines whose <see cref="DataExporterOptions.EventType"/> is <see cref="EventType.Tracking"/>; as cheap as
    /// <see cref="Add"/> (the event and its context object are the only allocations).
    /// </summary>
    /// <param name="key">The name of the tracked event.</param>
    /// <param name="targetingKey">The targeting key of the evaluation context.</param>
    /// <param name="context">The other attributes of the evaluation context; a <see cref="FlagObject"/> is not copied. The default value is none.</param>
    /// <param name="details">What was tracked, such as an amount. The default value is none (written as JSON <c>null</c>).</param>
    /// <returns>As <see cref="Add"/>.</returns>
    bool Track(string key, string targetingKey, IReadOnlyDictionary<string, FlagValue>? context = null, IReadOnlyDictionary<string, FlagValue>? details = null) =>
        Add(TrackingEvent.ForTrack(key, targetingKey, context, details, TimeProvider.System));

    /// <summary>
    /// Adds a <see cref="TrackingEvent"/> for a tracking call shaped as OpenFeature's <c>Track(name, context, details)</c>:
    /// the targeting key is the context's <c>targetingKey</c> attribute, which must be a non-empty string; otherwise as
    /// <see cref="Track(string, string, IReadOnlyDictionary{string, FlagValue}?, IReadOnlyDictionary{string, FlagValue}?)"/>.
    /// </summary>
    /// <param name="key">The name of the tracked event.</param>
    /// <param name="context">The evaluation context, holding <c>targetingKey</c>; a <see cref="FlagObject"/> is not copied.</param>
    /// <param name="details">What was tracked, such as an amount; <see langword="null"/> is written as JSON <c>null</c>.</param>
    /// <returns>As <see cref="Add"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no <c>targetingKey</c> string.</exception>
    bool Track(string key, IReadOnlyDictionary<string, FlagValue> context, IReadOnlyDictionary<string, FlagValue>? details) =>
        Track(key, TrackingEvent.TargetingKeyOf(context), context, details);

    /// <summary>As <see cref="Track(string, IReadOnlyDictionary{string, FlagValue}, IReadOnlyDictionary{string, FlagValue}?)"/>, without details.</summary>
    /// <param name="key">The name of the tracked event.</param>
    /// <param name="context">The evaluation context, holding <c>targetingKey</c>.</param>
    /// <returns>As <see cref="Add"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no <c>targetingKey</c> string.</exception>
    bool Track(string key, IReadOnlyDictionary<string, FlagValue> context) => Track(key, context, null);

    /// <summary>
    /// Exports, in every pipeline, the events buffered when called. With the durable buffer on, those events are on disk
    /// first, so they survive a crash even when the export then fails.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the exports go on.</param>
    /// <returns>A task that completes when every pipeline wrote them, or fails when one of them could not.</returns>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
