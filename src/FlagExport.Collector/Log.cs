using Microsoft.Extensions.Logging;

namespace FlagExport.Collector;

/// <summary>The collector's log messages, with stable event ids. No message ever includes an API key or event content.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "FlagExport collector listening on {Addresses}; POST events to /v1/data/collector")]
    public static partial void Listening(this ILogger logger, string addresses);

    [LoggerMessage(EventId = 2, EventName = "ExporterConfigured", Level = LogLevel.Information, Message = "Exporting with {Exporter}")]
    public static partial void ExporterConfigured(this ILogger logger, string exporter);

    [LoggerMessage(EventId = 3, EventName = "ApiKeysRequired", Level = LogLevel.Information,
        Message = "API keys required on /v1/data/collector ({Count} configured)")]
    public static partial void ApiKeysRequired(this ILogger logger, int count);

    [LoggerMessage(EventId = 4, EventName = "EventsRejected", Level = LogLevel.Warning,
        Message = "Rejected {Rejected} of {Total} events of a request; the first: events[{Index}] {Reason}")]
    public static partial void EventsRejected(this ILogger logger, int rejected, int total, int index, string reason);

    [LoggerMessage(EventId = 5, EventName = "EventRejected", Level = LogLevel.Debug, Message = "Rejected events[{Index}]: {Reason}")]
    public static partial void EventRejected(this ILogger logger, int index, string reason);

    [LoggerMessage(EventId = 6, EventName = "NoTrackingExporter", Level = LogLevel.Warning,
        Message = "Received tracking events but no exporter has eventType: tracking; they are dropped (logged once)")]
    public static partial void NoTrackingExporter(this ILogger logger);

    // EventId 7 (EventsNotBuffered) is retired: a request whose events do not fit is refused whole, not partly dropped.

    [LoggerMessage(EventId = 8, EventName = "RequestRefused", Level = LogLevel.Information,
        Message = "Refused a request with {StatusCode}: {Reason}")]
    public static partial void RequestRefused(this ILogger logger, int statusCode, string reason);

    [LoggerMessage(EventId = 9, EventName = "MonitoringPortIgnored", Level = LogLevel.Warning,
        Message = "monitoringPort is not supported by the collector: /health, /info and /metrics are served on its main address")]
    public static partial void MonitoringPortIgnored(this ILogger logger);

    // Debug: the buffer logs each failed write once, at Error, however many requests it refused.
    [LoggerMessage(EventId = 10, EventName = "DurableBufferFailed", Level = LogLevel.Debug,
        Message = "The durable buffer could not write a request's events to disk; the request was refused with 503")]
    public static partial void DurableBufferFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 11, EventName = "EventsLost", Level = LogLevel.Error,
        Message = "The collector stopped with {Count} events neither written nor kept in a durable buffer ({Exporters}); exit code {ExitCode}")]
    public static partial void EventsLost(this ILogger logger, long count, string exporters, int exitCode);

    [LoggerMessage(EventId = 12, EventName = "DeadLettersWritten", Level = LogLevel.Warning,
        Message = "{Batches} batches ({Events} events) were set aside as dead letters during this run ({Exporters}); they are kept on disk, replay them with DeadLetters.ReplayAsync once the cause is fixed")]
    public static partial void DeadLettersWritten(this ILogger logger, long batches, long events, string exporters);

    [LoggerMessage(EventId = 13, EventName = "DurableBuffer", Level = LogLevel.Information,
        Message = "Durable buffer in {Directory} (maxBufferBytes {MaxBufferBytes}): a 200 means the events are on disk")]
    public static partial void DurableBuffer(this ILogger logger, string directory, long maxBufferBytes);

    [LoggerMessage(EventId = 14, EventName = "MemoryBuffer", Level = LogLevel.Information,
        Message = "Events are held in memory (bufferDirectory is empty or none): a crash loses those not yet written")]
    public static partial void MemoryBuffer(this ILogger logger);

    // Refusals for lack of room (503) come in episodes under overload: one line at its start, one at its end.
    [LoggerMessage(EventId = 15, EventName = "RefusingForLackOfRoom", Level = LogLevel.Warning,
        Message = "Refusing requests with 503 until there is room (further refusals are logged at Debug): {Reason}")]
    public static partial void RefusingForLackOfRoom(this ILogger logger, string reason);

    [LoggerMessage(EventId = 16, EventName = "RefusedForLackOfRoom", Level = LogLevel.Debug,
        Message = "Refused a request with 503, {Refused} in this episode: {Reason}")]
    public static partial void RefusedForLackOfRoom(this ILogger logger, long refused, string reason);

    [LoggerMessage(EventId = 17, EventName = "AcceptingAgain", Level = LogLevel.Information,
        Message = "Accepting requests again; {Refused} were refused with 503 for lack of room meanwhile")]
    public static partial void AcceptingAgain(this ILogger logger, long refused);

    [LoggerMessage(EventId = 18, EventName = "DuplicateRequest", Level = LogLevel.Information,
        Message = "Answered a retry of the request acknowledged at {AcknowledgedAt:O} with Idempotency-Key '{Key}' as it was answered ({Count} events); nothing was kept again")]
    public static partial void DuplicateRequest(this ILogger logger, string key, int count, DateTimeOffset acknowledgedAt);
}
