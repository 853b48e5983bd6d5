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

        /// <summary>A batch was set aside in the dead-letter folder.</summary>
        internal const int BatchSetAside = 9;

        /// <summary>A dead letter could not be written; the batch stays and is retried.</summary>
        internal const int DeadLetterFailed = 10;

        /// <summary>The pipeline stopped with events left in the durable buffer, for the next start.</summary>
        internal const int EventsLeftInBuffer = 11;

        /// <summary>After a restart, the batch in flight before it is written again under its identity.</summary>
        internal const int ResumingBatch = 12;

        /// <summary>A record of the durable buffer passed its checksum but does not decode as an event.</summary>
        internal const int UndecodableRecord = 13;

        /// <summary>A file or object was written.</summary>
        internal const int ObjectWritten = 14;

        /// <summary>The exception of a failed export, with its stack trace (the warning has the reason).</summary>
        internal const int ExportFailureDetail = 15;

        /// <summary>The exception of a batch set aside, with its stack trace (the error line has the reason).</summary>
        internal const int BatchSetAsideDetail = 16;

        /// <summary>The exception of a dead letter that could not be written, with its stack trace.</summary>
        internal const int DeadLetterFailureDetail = 17;
    }

    [LoggerMessage(EventId = Ids.ExportFailed, EventName = "ExportFailed", Level = LogLevel.Warning,
        Message = "Exporter '{ExporterName}' failed to write {BatchSize} events: {Reason} (failure {ConsecutiveFailures} in a row); the batch is kept and retried at {NextRetry:O} (in {RetryDelay}) or at the next flush.")]
    internal static partial void ExportFailed(this ILogger logger, string exporterName, int batchSize, string reason, int consecutiveFailures, DateTimeOffset nextRetry, TimeSpan retryDelay);

    [LoggerMessage(EventId = Ids.ExportFailureDetail, EventName = "ExportFailureDetail", Level = LogLevel.Debug,
        Message = "Exporter '{ExporterName}': the failure of attempt {Attempt}.")]
    internal static partial void ExportFailureDetail(this ILogger logger, Exception exception, string exporterName, long attempt);

    [LoggerMessage(EventId = Ids.ObjectWritten, EventName = "ObjectWritten", Level = LogLevel.Information,
        Message = "Exporter '{ExporterName}' wrote {Location}: {EventCount} events, {ByteCount} bytes, {ElapsedMilliseconds} ms.")]
    internal static partial void ObjectWritten(this ILogger logger, string exporterName, string location, int eventCount, long byteCount, long elapsedMilliseconds);

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

    [LoggerMessage(EventId = Ids.BatchSetAside, EventName = "BatchSetAside", Level = LogLevel.Error,
        Message = "Exporter '{ExporterName}' set {BatchSize} events aside as a dead letter ({Reason}): {DeadLetter}. Fix the cause, then replay it.")]
    internal static partial void BatchSetAside(this ILogger logger, string exporterName, int batchSize, string reason, string deadLetter);

    [LoggerMessage(EventId = Ids.BatchSetAsideDetail, EventName = "BatchSetAsideDetail", Level = LogLevel.Debug,
        Message = "Exporter '{ExporterName}': the failure of the batch set aside as {DeadLetter}.")]
    internal static partial void BatchSetAsideDetail(this ILogger logger, Exception exception, string exporterName, string deadLetter);

    [LoggerMessage(EventId = Ids.DeadLetterFailed, EventName = "DeadLetterFailed", Level = LogLevel.Error,
        Message = "Exporter '{ExporterName}' could not write a dead letter in '{DeadLetterDirectory}' ({Failure}); the batch stays and is retried.")]
    internal static partial void DeadLetterFailed(this ILogger logger, string exporterName, string deadLetterDirectory, string failure);

    [LoggerMessage(EventId = Ids.DeadLetterFailureDetail, EventName = "DeadLetterFailureDetail", Level = LogLevel.Debug,
        Message = "Exporter '{ExporterName}': why the dead letter could not be written.")]
    internal static partial void DeadLetterFailureDetail(this ILogger logger, Exception exception, string exporterName);

    [LoggerMessage(EventId = Ids.EventsLeftInBuffer, EventName = "EventsLeftInBuffer", Level = LogLevel.Warning,
        Message = "Exporter '{ExporterName}' stopped with {PositionCount} buffered positions not yet exported; they are kept in the durable buffer '{BufferDirectory}' and exported at the next start.")]
    internal static partial void EventsLeftInBuffer(this ILogger logger, string exporterName, long positionCount, string bufferDirectory);

    [LoggerMessage(EventId = Ids.ResumingBatch, EventName = "ResumingBatch", Level = LogLevel.Information,
        Message = "Exporter '{ExporterName}' resumes batch {BatchId} ({BatchSize} events, {Attempts} attempts before the restart) under the names it recorded.")]
    internal static partial void ResumingBatch(this ILogger logger, string exporterName, string batchId, int batchSize, int attempts);

    [LoggerMessage(EventId = Ids.UndecodableRecord, EventName = "UndecodableRecord", Level = LogLevel.Error,
        Message = "Exporter '{ExporterName}' skipped the durable buffer's record at position {Position}: its checksum is right but it is not an event.")]
    internal static partial void UndecodableRecord(this ILogger logger, Exception exception, string exporterName, long position);
}
