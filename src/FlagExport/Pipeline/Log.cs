using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <summary>
/// Source-generated log messages of the export pipeline. Event ids and names are stable: dashboards and alerts may
/// depend on them, so never renumber or rename one.
/// </summary>
internal static partial class Log
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>An export threw.</summary>
        internal const int ExportFailed = 1;

        /// <summary>An export ran longer than <see cref="DataExporterOptions.ExportTimeout"/>.</summary>
        internal const int ExportTimedOut = 2;

        /// <summary>The buffer reached <see cref="DataExporterOptions.MaxBufferedEvents"/>; new events are dropped.</summary>
        internal const int BufferFull = 3;

        /// <summary>The buffer has room again after dropping events.</summary>
        internal const int BufferRecovered = 4;

        /// <summary>The pipeline stopped with events it could not write.</summary>
        internal const int EventsNotWritten = 5;

        /// <summary>An export succeeded after failures.</summary>
        internal const int ExportRecovered = 6;

        /// <summary>The worker failed unexpectedly (a bug).</summary>
        internal const int WorkerFailed = 7;

        /// <summary>An event was added after the pipeline stopped accepting them.</summary>
        internal const int AddedAfterStop = 8;
    }

    [LoggerMessage(EventId = Ids.ExportFailed, EventName = "ExportFailed", Level = LogLevel.Warning,
        Message = "Exporter '{ExporterName}' failed to write {BatchSize} events (failure {ConsecutiveFailures} in a row); the batch is kept and retried in {RetryDelay} or at the next flush.")]
    internal static partial void ExportFailed(this ILogger logger, Exception exception, string exporterName, int batchSize, int consecutiveFailures, TimeSpan retryDelay);

    [LoggerMessage(EventId = Ids.ExportTimedOut, EventName = "ExportTimedOut", Level = LogLevel.Warning,
        Message = "Exporter '{ExporterName}' did not write {BatchSize} events within {ExportTimeout} and was cancelled (failure {ConsecutiveFailures} in a row); the batch is kept and retried in {RetryDelay} or at the next flush.")]
    internal static partial void ExportTimedOut(this ILogger logger, string exporterName, int batchSize, TimeSpan exportTimeout, int consecutiveFailures, TimeSpan retryDelay);

    [LoggerMessage(EventId = Ids.BufferFull, EventName = "BufferFull", Level = LogLevel.Warning,
        Message = "The buffer of exporter '{ExporterName}' holds {MaxBufferedEvents} events (MaxBufferedEvents); new events are dropped until it has room.")]
    internal static partial void BufferFull(this ILogger logger, string exporterName, long maxBufferedEvents);

    [LoggerMessage(EventId = Ids.BufferRecovered, EventName = "BufferRecovered", Level = LogLevel.Information,
        Message = "The buffer of exporter '{ExporterName}' has room again; {DroppedCount} events were dropped while it was full.")]
    internal static partial void BufferRecovered(this ILogger logger, string exporterName, long droppedCount);

    [LoggerMessage(EventId = Ids.EventsNotWritten, EventName = "EventsNotWritten", Level = LogLevel.Error,
        Message = "Exporter '{ExporterName}' stopped with {NotWrittenCount} events not written (shutdown deadline {ShutdownTimeout}).")]
    internal static partial void EventsNotWritten(this ILogger logger, string exporterName, long notWrittenCount, TimeSpan shutdownTimeout);

    [LoggerMessage(EventId = Ids.ExportRecovered, EventName = "ExportRecovered", Level = LogLevel.Information,
        Message = "Exporter '{ExporterName}' wrote again after {FailureCount} failed attempts.")]
    internal static partial void ExportRecovered(this ILogger logger, string exporterName, int failureCount);

    [LoggerMessage(EventId = Ids.WorkerFailed, EventName = "WorkerFailed", Level = LogLevel.Critical,
        Message = "The worker of exporter '{ExporterName}' failed; buffered events will not be exported.")]
    internal static partial void WorkerFailed(this ILogger logger, Exception exception, string exporterName);

    [LoggerMessage(EventId = Ids.AddedAfterStop, EventName = "AddedAfterStop", Level = LogLevel.Warning,
        Message = "Exporter '{ExporterName}' has stopped and refuses new events; they are counted as dropped (reason 'closed'). Stop the services that add events before FlagExport's, e.g. register AddFlagExport first.")]
    internal static partial void AddedAfterStop(this ILogger logger, string exporterName);
}
