namespace FlagExport.Testing;

/// <summary>Calls an exporter directly with a list, as a new batch (attempt 1, identity of its own).</summary>
public static class ExporterCalls
{
    public static Task ExportAsync(this IExporter exporter, IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        exporter.ExportAsync(new ExportBatch(events), cancellationToken);
}
