namespace FlagExport;

/// <summary>
/// One evaluation of a feature flag, with the fields go-feature-flag exports.
/// </summary>
/// <example>
/// <code>
/// var evaluation = new FeatureEvent
/// {
///     ContextKind = "anonymousUser",
///     UserKey = "ABCD",
///     CreationDate = 1617970547,
///     Key = "random-key",
///     Variation = "Default",
///     Value = "YO",
///     Source = "SERVER",
/// };
/// </code>
/// </example>
public sealed class FeatureEvent : ExportableEvent
{
    /// <summary>Creates an event; set its fields with an object initializer.</summary>
    public FeatureEvent()
        : base(EventType.Feature)
    {
    }

    private FlagObject? _metadata;

    /// <summary>The kind written to the output. The default value is <c>feature</c>.</summary>
    public override string Kind { get; init; } = "feature";

    /// <summary>The name of the variation served. The default value is an empty string.</summary>
    public string Variation { get; init; } = "";

    /// <summary>The value served, any JSON value. The default value is JSON null.</summary>
    public FlagValue Value { get; init; }

    /// <summary><see langword="true"/> when the SDK's default value was served, for example because the flag is missing.</summary>
    public bool Default { get; init; }

    /// <summary>The version of the flag. The default value is an empty string, which is written as <c>""</c>.</summary>
    public string Version { get; init; } = "";

    /// <summary>Where the evaluation happened, for example <c>SERVER</c> or <c>PROVIDER_CACHE</c>. The default value is <c>SERVER</c>.</summary>
    public string Source { get; init; } = "SERVER";

    /// <summary>
    /// Extra information about the evaluation, or <see langword="null"/>. Omitted from the output when null or empty.
    /// </summary>
    /// <remarks>The dictionary given is copied into a <see cref="FlagObject"/> unless it already is one: share one
    /// <see cref="FlagObject"/> across events that carry the same metadata.</remarks>
    public IReadOnlyDictionary<string, FlagValue>? Metadata
    {
        get => _metadata;
        init => _metadata = value is null ? null : FlagObject.Create(value);
    }

    /// <summary>The metadata as stored, for encoders.</summary>
    internal FlagObject? MetadataObject => _metadata;

    /// <summary>
    /// Replaces the metadata while the event is still owned by the decoder that built it (a request-wide <c>meta</c> that
    /// comes after the events); never after the event was handed on.
    /// </summary>
    internal void ReplaceMetadata(FlagObject? metadata) => _metadata = metadata;

}
