namespace FlagExport.Collector.Otlp;

/// <summary>What became of one log record or span event.</summary>
internal enum OtlpRecordOutcome
{
    /// <summary>A flag evaluation, kept as a feature event.</summary>
    Kept,

    /// <summary>A flag evaluation without <c>feature_flag.key</c>: counted in <c>partial_success</c>.</summary>
    Rejected,

    /// <summary>Not a flag evaluation.</summary>
    Ignored,
}
