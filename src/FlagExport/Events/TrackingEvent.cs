namespace FlagExport;

/// <summary>
/// A tracking call (for example a conversion), with the fields go-feature-flag exports for it.
/// </summary>
public sealed class TrackingEvent : ExportableEvent
{
    private FlagObject _evaluationContext = FlagObject.Empty;
    private FlagObject _trackingEventDetails = FlagObject.Empty;

    /// <summary>The kind written to the output. The default value is <c>tracking</c>.</summary>
    public override string Kind { get; init; } = "tracking";

    /// <summary>The evaluation context of the call. The default value is an empty object.</summary>
    public IReadOnlyDictionary<string, FlagValue> EvaluationContext
    {
        get => _evaluationContext;
        init => _evaluationContext = FlagObject.Create(value);
    }

    /// <summary>What was tracked. The default value is an empty object.</summary>
    public IReadOnlyDictionary<string, FlagValue> TrackingEventDetails
    {
        get => _trackingEventDetails;
        init => _trackingEventDetails = FlagObject.Create(value);
    }

    internal FlagObject EvaluationContextObject => _evaluationContext;

    internal FlagObject TrackingEventDetailsObject => _trackingEventDetails;

    internal override EventType EventType => EventType.Tracking;
}
