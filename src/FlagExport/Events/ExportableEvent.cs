namespace FlagExport;

/// <summary>
/// An event that an exporter writes: a <see cref="FeatureEvent"/> or a <see cref="TrackingEvent"/>.
/// </summary>
/// <remarks>
/// Events are immutable once created and safe to share across threads. The fields common to both kinds live here;
/// the set of kinds is closed, so encoders can rely on it.
/// </remarks>
public abstract class ExportableEvent
{
    private protected ExportableEvent(EventType eventType) => EventType = eventType;

    /// <summary>The kind of event as written to the output: <c>feature</c> or <c>tracking</c> by default.</summary>
    public abstract string Kind { get; init; }

    /// <summary>The kind of evaluation context, usually <c>user</c> or <c>anonymousUser</c>. The default value is <c>user</c>.</summary>
    public string ContextKind { get; init; } = "user";

    /// <summary>The targeting key of the evaluation context. The default value is an empty string.</summary>
    public string UserKey { get; init; } = "";

    /// <summary>When the event happened, in Unix seconds.</summary>
    public long CreationDate { get; init; }

    /// <summary>The key of the flag (feature events) or of the tracked event. The default value is an empty string.</summary>
    public string Key { get; init; } = "";

    /// <summary>Which <see cref="EventType"/> this event belongs to.</summary>
    /// <remarks>A field, not a virtual property: <c>Add</c> reads it for every event to pick the pipelines.</remarks>
    internal EventType EventType { get; }
}
