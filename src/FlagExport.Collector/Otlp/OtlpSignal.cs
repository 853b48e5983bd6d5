namespace FlagExport.Collector.Otlp;

/// <summary>The OTLP signals the collector reads feature-flag evaluations from.</summary>
internal enum OtlpSignal
{
    /// <summary><c>ExportLogsServiceRequest</c>: log records named <c>feature_flag.evaluation</c>.</summary>
    Logs,

    /// <summary><c>ExportTraceServiceRequest</c>: span events named <c>feature_flag.evaluation</c> (or <c>feature_flag</c>).</summary>
    Traces,
}
