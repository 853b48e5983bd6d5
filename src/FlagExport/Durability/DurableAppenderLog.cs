using Microsoft.Extensions.Logging;

namespace FlagExport.Durability;

/// <summary>
/// Source-generated log messages of <see cref="DurableAppender"/>: ids 150–169 of the disk buffer's range; ids and names
/// are stable, so never renumber or rename one.
/// </summary>
internal static partial class DurableAppenderLog
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>The queue of added events waiting for the disk is full; new events are dropped.</summary>
        internal const int AddQueueFull = 150;

        /// <summary>The queue has room again after dropping events.</summary>
        internal const int AddQueueRecovered = 151;

        /// <summary>An append of added events was refused (buffer full, disk error); they wait and are tried again.</summary>
        internal const int AppendRefused = 152;

        /// <summary>An append succeeded after refusals.</summary>
        internal const int AppendResumed = 153;

        /// <summary>An added event is larger than one append can ever take; dropped.</summary>
        internal const int EventTooLarge = 154;

        /// <summary>The application stopped with added events not yet in the buffer.</summary>
        internal const int EventsNotAppended = 155;

        /// <summary>The exception of a refused append (Debug).</summary>
        internal const int AppendRefusedDetail = 156;
    }

    [LoggerMessage(EventId = Ids.AddQueueFull, EventName = "AddQueueFull", Level = LogLevel.Warning,
        Message = "{Bound} added {EventType} events wait in memory for the durable buffer in '{Directory}' (the most maxBufferedEvents of their exporters); new events are dropped until they are on disk.")]
    internal static partial void AddQueueFull(this ILogger logger, long bound, string eventType, string directory);

    [LoggerMessage(EventId = Ids.AddQueueRecovered, EventName = "AddQueueRecovered", Level = LogLevel.Information,
        Message = "Added {EventType} events are accepted again for the durable buffer; {Dropped} were dropped while it was full.")]
    internal static partial void AddQueueRecovered(this ILogger logger, string eventType, long dropped);

    [LoggerMessage(EventId = Ids.AppendRefused, EventName = "AppendRefused", Level = LogLevel.Warning,
        Message = "The durable buffer in '{Directory}' refused {Count} added {EventType} events ({Reason}); they wait in memory and are tried again until it takes them.")]
    internal static partial void AppendRefused(this ILogger logger, string directory, int count, string eventType, string reason);

    [LoggerMessage(EventId = Ids.AppendRefusedDetail, EventName = "AppendRefusedDetail", Level = LogLevel.Debug,
        Message = "The durable buffer refused an append of added events.")]
    internal static partial void AppendRefusedDetail(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = Ids.AppendResumed, EventName = "AppendResumed", Level = LogLevel.Information,
        Message = "The durable buffer in '{Directory}' takes added events again.")]
    internal static partial void AppendResumed(this ILogger logger, string directory);

    [LoggerMessage(EventId = Ids.EventTooLarge, EventName = "EventTooLarge", Level = LogLevel.Error,
        Message = "An added {EventType} event takes {Bytes} bytes in the durable buffer, more than one append can ever take ({Limit} bytes, MaxBufferBytes = {MaxBytes} less the segment being written); dropped.")]
    internal static partial void EventTooLarge(this ILogger logger, string eventType, long bytes, long limit, long maxBytes);

    [LoggerMessage(EventId = Ids.EventsNotAppended, EventName = "EventsNotAppended", Level = LogLevel.Error,
        Message = "{Count} added events were not yet in the durable buffer in '{Directory}' when the application stopped; they are lost.")]
    internal static partial void EventsNotAppended(this ILogger logger, long count, string directory);
}
