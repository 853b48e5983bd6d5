using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <summary>
/// Source-generated log messages of the event sink (<see cref="IFlagEventSink"/>). Event ids 300–319 belong to it; ids
/// and names are stable, so never renumber or rename one.
/// </summary>
internal static partial class FlagEventSinkLog
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>An event was added whose type no registered exporter takes; logged once per type and sink.</summary>
        internal const int NoExporterForType = 300;
    }

    [LoggerMessage(EventId = Ids.NoExporterForType, EventName = "NoExporterForEventType", Level = LogLevel.Warning,
        Message = "A {EventType} event was added, but no registered exporter takes that type, so it was not kept; later ones are not logged. Register an exporter with EventType = EventType.{EventTypeOption} (collector YAML: eventType: {EventTypeKey}).")]
    internal static partial void NoExporterForType(this ILogger logger, string eventType, string eventTypeOption, string eventTypeKey);
}
