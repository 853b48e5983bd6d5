namespace FlagExport.Collector.Ingestion;

/// <summary>The fields of a feature or tracking event that the collector reads.</summary>
internal enum EventField
{
    /// <summary>A property the collector does not read; its value is skipped.</summary>
    Other,
    Kind,
    ContextKind,
    UserKey,
    CreationDate,
    Key,
    Variation,
    Value,
    Default,

    /// <summary>go-feature-flag's .NET provider (1.x) names <c>default</c> so; <c>default</c> wins when both are set.</summary>
    DefaultValue,
    Version,
    Source,
    Metadata,
    EvaluationContext,
    TrackingEventDetails,
}
