using System.Globalization;

namespace FlagExport.Durability;

/// <summary>
/// An exporter now takes the other event type while the durable buffer still holds events of the old type that only it
/// was to export: starting it over would leave them unexported for good. The message names the exporter, its backlog
/// and the ways on.
/// </summary>
internal sealed class ExporterTypeChangedException : InvalidOperationException
{
    public ExporterTypeChangedException(string bufferDirectory, string exporterName, EventType previousType, long events)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"The durable buffer '{bufferDirectory}' holds {events} {Describe(previousType)} events not yet exported by exporter '{exporterName}', which is now configured for the other event type. " +
            $"Set its eventType back to {Describe(previousType)} until a clean stop reports nothing kept for it, or remove it and set the events aside with 'flagexport-collector buffer drop-backlog {exporterName}' (library: DurableBufferBacklog.DropAsync)."))
    {
        ExporterName = exporterName;
        Events = events;
    }

    /// <summary>The exporter whose type changed.</summary>
    public string ExporterName { get; }

    /// <summary>How many events of the old type it still owes.</summary>
    public long Events { get; }

    private static string Describe(EventType type) => type == EventType.Tracking ? "tracking" : "feature";
}
