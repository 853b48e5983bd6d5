namespace FlagExport.Collector.Otlp;

/// <summary>One OTLP export request read into feature events, with what was rejected and what was ignored.</summary>
internal sealed class OtlpExport
{
    /// <summary>The feature events, in request order.</summary>
    public List<ExportableEvent> Events { get; } = [];

    /// <summary>Flag evaluations (log records or span events) without <c>feature_flag.key</c>: counted, not kept.</summary>
    public int Rejected { get; set; }

    /// <summary>
    /// What <c>partial_success</c> counts as rejected: log records for logs, spans (with at least one rejected evaluation)
    /// for traces.
    /// </summary>
    public int RejectedItems { get; set; }

    /// <summary>Why the first rejected evaluation was rejected, naming where it was; null when none was.</summary>
    public string? FirstRejection { get; set; }

    /// <summary>Log records and span events that are not flag evaluations: counted and ignored.</summary>
    public int Ignored { get; set; }

    /// <summary>
    /// What the kept events take once written, estimated from the request's bytes: each evaluation's encoded bytes plus
    /// its resource's <c>service.name</c>, which every event of that resource carries; bounded by maxRequestExpandedBytes.
    /// </summary>
    public long ExpandedBytes { get; set; }
}
