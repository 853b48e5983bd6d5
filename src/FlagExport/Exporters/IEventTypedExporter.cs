namespace FlagExport;

/// <summary>
/// An exporter built for one <see cref="FlagExport.EventType"/> (its encoders and CSV template were checked against
/// that type's fields): the pipeline refuses it, when it is built, for events of the other type.
/// </summary>
internal interface IEventTypedExporter
{
    /// <summary>The type of events the exporter was built for.</summary>
    EventType EventType { get; }
}
