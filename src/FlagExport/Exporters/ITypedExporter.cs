namespace FlagExport;

/// <summary>An exporter built for one <see cref="FlagExport.EventType"/>.</summary>
/// <remarks>
/// The pipeline refuses such an exporter, when it is built, for a pipeline of the other type, so a mismatch fails at
/// start-up instead of at the first export. An exporter that writes files or objects implements
/// <see cref="IEncodingExporter"/>, which adds what a dead letter needs.
/// </remarks>
public interface ITypedExporter : IExporter
{
    /// <summary>The type of events the exporter was built for.</summary>
    EventType EventType { get; }
}
