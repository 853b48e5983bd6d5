namespace FlagExport;

/// <summary>
/// A tracking call (for example a conversion), with the fields go-feature-flag exports for it.
/// </summary>
public sealed class TrackingEvent : ExportableEvent
{
    /// <summary>Creates an event; set its fields with an object initializer.</summary>
    public TrackingEvent()
        : base(EventType.Tracking)
    {
    }

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

    /// <summary>The event of a <c>IFlagEventSink.Track</c> call, at <paramref name="time"/>'s current second.</summary>
    internal static TrackingEvent ForTrack(
        string key, string targetingKey, IReadOnlyDictionary<string, FlagValue>? context, IReadOnlyDictionary<string, FlagValue>? details, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(targetingKey);
        FlagObject attributes = FlagObject.Create(context);
        bool anonymous = attributes.TryGetValue("anonymous", out FlagValue flag) && flag.Kind == FlagValueKind.Boolean && flag.AsBoolean();
        return new TrackingEvent
        {
            ContextKind = anonymous ? "anonymousUser" : "user",
            UserKey = targetingKey,
            CreationDate = time.GetUtcNow().ToUnixTimeSeconds(),
            Key = key,
            _evaluationContext = attributes.With("targetingKey", targetingKey),
            _trackingEventDetails = details is null ? null : FlagObject.Create(details),
        };
    }

    /// <summary>The <c>targetingKey</c> string of an OpenFeature evaluation context.</summary>
    internal static string TargetingKeyOf(IReadOnlyDictionary<string, FlagValue> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.TryGetValue("targetingKey", out FlagValue value) || value.Kind != FlagValueKind.String || value.AsString().Length == 0)
        {
            throw new ArgumentException(
                $"The context has no targetingKey string (targetingKey: {(context.TryGetValue("targetingKey", out value) ? value.ToString() : "absent")}); pass it as the targetingKey argument or add it to the context.",
                nameof(context));
        }

        return value.AsString();
    }

    internal FlagObject? EvaluationContextObject => _evaluationContext;

    internal FlagObject? TrackingEventDetailsObject => _trackingEventDetails;

}
