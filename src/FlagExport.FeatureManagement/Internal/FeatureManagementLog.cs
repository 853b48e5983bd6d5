using Microsoft.Extensions.Logging;

namespace FlagExport.FeatureManagement;

/// <summary>
/// Source-generated log messages of the Microsoft.FeatureManagement integration. Event ids (300 and up) and names are
/// stable: never renumber or rename one.
/// </summary>
internal static partial class FeatureManagementLog
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>An evaluation could not be exported: the first time.</summary>
        internal const int EvaluationNotExported = 301;

        /// <summary>The same, every later time (at Debug: the warning was given once).</summary>
        internal const int EvaluationNotExportedAgain = 302;
    }

    [LoggerMessage(EventId = Ids.EvaluationNotExported, EventName = "EvaluationNotExported", Level = LogLevel.Warning,
        Message = "A Microsoft.FeatureManagement evaluation could not be exported; the evaluation itself is unaffected. Later failures are logged at Debug.")]
    internal static partial void EvaluationNotExported(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = Ids.EvaluationNotExportedAgain, EventName = "EvaluationNotExportedAgain", Level = LogLevel.Debug,
        Message = "A Microsoft.FeatureManagement evaluation could not be exported ({Failures} so far).")]
    internal static partial void EvaluationNotExportedAgain(this ILogger logger, long failures, Exception exception);
}
