using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Otlp;

/// <summary>The OTLP receiver's log messages (event ids 40-49). No message includes an API key or event content.</summary>
internal static partial class OtlpLog
{
    [LoggerMessage(EventId = 40, EventName = "OtlpEvaluationsRejected", Level = LogLevel.Warning,
        Message = "Rejected {Rejected} feature-flag evaluations of an OTLP {Signal} request (answered in partial_success); the first: {Reason}")]
    public static partial void EvaluationsRejected(this ILogger logger, int rejected, OtlpSignal signal, string reason);

    [LoggerMessage(EventId = 41, EventName = "OtlpRequestRefused", Level = LogLevel.Information,
        Message = "Refused an OTLP {Signal} request ({Outcome}): {Reason}")]
    public static partial void RequestRefused(this ILogger logger, OtlpSignal signal, OtlpOutcomeKind outcome, string reason);

    [LoggerMessage(EventId = 42, EventName = "OtlpDurableBufferFailed", Level = LogLevel.Debug,
        Message = "The durable buffer could not write an OTLP request's events to disk; the request was refused as unavailable")]
    public static partial void DurableBufferFailed(this ILogger logger, Exception exception);
}
