using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <summary>
/// Source-generated log messages of the feature-flag event listener. Event ids 200–299 belong to it; ids and names are
/// stable, so never renumber or rename one.
/// </summary>
internal static partial class FeatureFlagEventsLog
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>The listener started on these ActivitySource names.</summary>
        internal const int Listening = 201;

        /// <summary>Reading an activity's evaluation events failed; logged once per listener.</summary>
        internal const int EventFailed = 202;
    }

    [LoggerMessage(EventId = Ids.Listening, EventName = "FeatureFlagEventsListening", Level = LogLevel.Information,
        Message = "Exporting the feature_flag.evaluation events of the activities of the ActivitySources {ActivitySourceNames}.")]
    internal static partial void FeatureFlagEventsListening(this ILogger logger, string activitySourceNames);

    [LoggerMessage(EventId = Ids.EventFailed, EventName = "FeatureFlagEventFailed", Level = LogLevel.Warning,
        Message = "The feature-flag evaluation events of activity '{OperationName}' of ActivitySource '{ActivitySourceName}' could not be exported and were dropped; later failures are not logged.")]
    internal static partial void FeatureFlagEventFailed(this ILogger logger, Exception exception, string activitySourceName, string operationName);
}
