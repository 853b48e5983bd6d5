namespace FlagExport;

/// <summary>
/// A tracking call (for example a conversion), with the fields go-feature-flag exports for it.
/// </summary>
public sealed class TrackingEvent : ExportableEvent
{
    private FlagObject? _evaluationContext;
    private FlagObject? _trackingEventDetails;

    /// <summary>The kind written to the output. The default value is <c>tracking</c>.</summary>
    public override string Kind { get; init; } = "tracking";

    /// <summary>
    /// The evaluation context of the call, or <see langword="null"/> (written as JSON <c>null</c>, as go-feature-flag
    /// writes a missing map). The default value is <see langword="null"/>.
    /// </summary>
    public IReadOnlyDictionary<string, FlagValue>? EvaluationContext
    {
        get => _evaluationContext;
        init => _evaluationContext = value is null ? null : FlagObject.Create(value);
    }

    /// <summary>What was tracked, or <see langword="null"/> (written as JSON <c>null</c>). The default value is <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, FlagValue>? TrackingEventDetails
    {
        get => _trackingEventDetails;
        init => _trackingEventDetails = value is null ? null : FlagObject.Create(value);
    }

    internal FlagObject? EvaluationContextObject => _evaluationContext;

    internal FlagObject? TrackingEventDetailsObject => _trackingEventDetails;

    internal override EventType EventType => EventType.Tracking;
}
