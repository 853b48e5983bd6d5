using Microsoft.Extensions.Logging;

namespace FlagExport.Durability;

/// <summary>
/// Source-generated log messages of the disk buffer. Event ids 100–199 belong to it; ids and names are stable, so never
/// renumber or rename one.
/// </summary>
internal static partial class DurabilityLog
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>The last segment ended in a torn or corrupt record, which was cut off at start-up.</summary>
        internal const int TornTailCut = 101;

        /// <summary>A damaged segment was moved into the quarantine folder; its records are skipped.</summary>
        internal const int SegmentQuarantined = 102;

        /// <summary>The last segment had no complete header (a crash while creating it) and was deleted.</summary>
        internal const int TornSegmentDeleted = 103;

        /// <summary>A group commit failed to write or fsync; its records were discarded and their appenders refused.</summary>
        internal const int FlushFailed = 104;

        /// <summary>An event could not be encoded for the buffer (a value nested too deep) and was dropped.</summary>
        internal const int EventNotBuffered = 105;

        /// <summary>An exporter's event type changed with nothing owed; its cursor starts over at the end of the log.</summary>
        internal const int CursorReset = 106;

        /// <summary>The cursor of an exporter no longer registered owed no event and was deleted.</summary>
        internal const int OrphanedCursorRemoved = 107;

        /// <summary>A group commit succeeded after failures: appends are kept again.</summary>
        internal const int AppendsResumed = 108;

        /// <summary>The exception of a failed group commit (Debug).</summary>
        internal const int FlushFailedDetail = 109;

        /// <summary>Cutting a failed group off the disk failed; retried before the next group is written.</summary>
        internal const int RepairFailed = 110;

        /// <summary>At start the buffer already held more than its capacity (lowered since): appends are refused until enough is exported.</summary>
        internal const int BufferOverCapacity = 111;

        /// <summary>The idempotency key journal could not be written: the log's segments that hold keys are kept until it can.</summary>
        internal const int IdempotencyJournalFailed = 112;

        /// <summary>The idempotency key journal ended in a torn or damaged record, cut off at start-up.</summary>
        internal const int IdempotencyJournalDamaged = 113;
    }

    [LoggerMessage(EventId = Ids.IdempotencyJournalFailed, EventName = "IdempotencyJournalFailed", Level = LogLevel.Warning,
        Message = "The idempotency key journal '{JournalPath}' could not be written ({Reason}); the exported segments that hold keys are kept until it can be.")]
    internal static partial void IdempotencyJournalFailed(this ILogger logger, string journalPath, string reason);

    [LoggerMessage(EventId = Ids.IdempotencyJournalDamaged, EventName = "IdempotencyJournalDamaged", Level = LogLevel.Warning,
        Message = "The idempotency key journal '{JournalPath}' ends in a torn or damaged record after {Records} intact ones; the rest was cut off. A crash while appending leaves one, and the log still holds those keys.")]
    internal static partial void IdempotencyJournalDamaged(this ILogger logger, string journalPath, int records);

    [LoggerMessage(EventId = Ids.TornTailCut, EventName = "TornTailCut", Level = LogLevel.Warning,
        Message = "Segment '{SegmentPath}' ends in an incomplete or corrupt record at offset {Offset}; cut {BytesCut} bytes. Records written but not yet durable at a crash are lost this way.")]
    internal static partial void TornTailCut(this ILogger logger, string segmentPath, long offset, long bytesCut);

    [LoggerMessage(EventId = Ids.SegmentQuarantined, EventName = "SegmentQuarantined", Level = LogLevel.Error,
        Message = "Segment '{SegmentPath}' is damaged ({Reason}) and was moved to '{QuarantinePath}'; its records are skipped.")]
    internal static partial void SegmentQuarantined(this ILogger logger, string segmentPath, string reason, string quarantinePath);

    [LoggerMessage(EventId = Ids.TornSegmentDeleted, EventName = "TornSegmentDeleted", Level = LogLevel.Warning,
        Message = "Segment '{SegmentPath}' has only {Length} bytes, less than a header: it was being created at a crash and held no record; deleted.")]
    internal static partial void TornSegmentDeleted(this ILogger logger, string segmentPath, long length);

    [LoggerMessage(EventId = Ids.FlushFailed, EventName = "FlushFailed", Level = LogLevel.Error,
        Message = "The segment log in '{Directory}' could not write or fsync {RecordCount} records ({Error}); they were discarded and their appenders refused. The disk is tried again with the next append.")]
    internal static partial void FlushFailed(this ILogger logger, string directory, long recordCount, string error);

    [LoggerMessage(EventId = Ids.FlushFailedDetail, EventName = "FlushFailedDetail", Level = LogLevel.Debug,
        Message = "The failed write or fsync in '{Directory}'")]
    internal static partial void FlushFailedDetail(this ILogger logger, Exception exception, string directory);

    [LoggerMessage(EventId = Ids.AppendsResumed, EventName = "AppendsResumed", Level = LogLevel.Information,
        Message = "The segment log in '{Directory}' writes again; records are kept")]
    internal static partial void AppendsResumed(this ILogger logger, string directory);

    [LoggerMessage(EventId = Ids.RepairFailed, EventName = "RepairFailed", Level = LogLevel.Error,
        Message = "The segment log in '{Directory}' could not cut a failed write off the disk; every write waits until it can")]
    internal static partial void RepairFailed(this ILogger logger, Exception exception, string directory);

    [LoggerMessage(EventId = Ids.BufferOverCapacity, EventName = "BufferOverCapacity", Level = LogLevel.Warning,
        Message = "The durable buffer in '{Directory}' already holds {SizeBytes} bytes, more than maxBufferBytes = {MaxBytes}: new events are refused (503) until enough of the buffered ones are exported and their segments deleted")]
    internal static partial void BufferOverCapacity(this ILogger logger, string directory, long sizeBytes, long maxBytes);

    [LoggerMessage(EventId = Ids.EventNotBuffered, EventName = "EventNotBuffered", Level = LogLevel.Error,
        Message = "An event could not be written to the durable buffer and was dropped (counted)")]
    internal static partial void EventNotBuffered(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = Ids.CursorReset, EventName = "CursorReset", Level = LogLevel.Information,
        Message = "Exporter '{ExporterName}' now takes the other event type and owed none of the old: its cursor '{CursorFile}' starts over with the events acknowledged from now on")]
    internal static partial void CursorReset(this ILogger logger, string exporterName, string cursorFile);

    [LoggerMessage(EventId = Ids.OrphanedCursorRemoved, EventName = "OrphanedCursorRemoved", Level = LogLevel.Information,
        Message = "Exporter '{ExporterName}' is no longer configured and had exported every buffered event: its cursor '{CursorFile}' was removed")]
    internal static partial void OrphanedCursorRemoved(this ILogger logger, string exporterName, string cursorFile);
}
