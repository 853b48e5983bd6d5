namespace FlagExport.Templates;

/// <summary>The field sets templates are compiled against, one per kind of template.</summary>
internal static class TemplateFieldSets
{
    /// <summary>Fields of a feature event in a CSV line (the <c>CsvTemplate</c> option).</summary>
    public static TemplateFieldSet FeatureCsv { get; } = TemplateFieldSet.FromEnum<FeatureCsvField>("feature events");

    /// <summary>Fields of a tracking event in a CSV line (the <c>CsvTemplate</c> option of a tracking exporter).</summary>
    public static TemplateFieldSet TrackingCsv { get; } = TemplateFieldSet.FromEnum<TrackingCsvField>("tracking events");

    /// <summary>Fields of an exported file's name (the <c>Filename</c> option).</summary>
    public static TemplateFieldSet Filename { get; } = TemplateFieldSet.FromEnum<FilenameField>("file names");

    /// <summary>Fields of a partition path (<see cref="PartitionTemplate"/>, such as the <c>S3Path</c> option).</summary>
    public static TemplateFieldSet Partition { get; } = TemplateFieldSet.FromEnum<PartitionField>("partition paths");

    /// <summary>The CSV field set for events of <paramref name="eventType"/>.</summary>
    public static TemplateFieldSet ForCsv(EventType eventType) => eventType switch
    {
        EventType.Feature => FeatureCsv,
        EventType.Tracking => TrackingCsv,
        _ => throw new ArgumentOutOfRangeException(nameof(eventType), eventType, null),
    };
}

/// <summary>The fields of a feature event a CSV template can print; the names are the template's field names.</summary>
internal enum FeatureCsvField
{
    Kind,
    ContextKind,
    UserKey,
    CreationDate,
    Key,
    Variation,
    Value,
    Default,
    Version,
    Source,
    Metadata,
    FormattedDate,
}

/// <summary>The fields of a tracking event a CSV template can print.</summary>
internal enum TrackingCsvField
{
    Kind,
    ContextKind,
    UserKey,
    CreationDate,
    Key,
    EvaluationContext,
    TrackingEventDetails,
    FormattedDate,
}

/// <summary>The fields of a file name template.</summary>
internal enum FilenameField
{
    /// <summary>The machine name.</summary>
    Hostname,

    /// <summary>Unix seconds of the flush.</summary>
    Timestamp,

    /// <summary>json, csv or parquet.</summary>
    Format,

    /// <summary>A new random UUID per file, lower case with hyphens.</summary>
    UUID,

    /// <summary>A per-process counter, 1 for the first file.</summary>
    Sequence,
}

/// <summary>The fields of a partition path, from an event's creation date, in UTC.</summary>
internal enum PartitionField
{
    /// <summary>Four digits.</summary>
    Year,

    /// <summary>Two digits, 01 to 12.</summary>
    Month,

    /// <summary>Two digits, 01 to 31.</summary>
    Day,

    /// <summary>Two digits, 00 to 23.</summary>
    Hour,
}
