namespace FlagExport.AzureBlob.Tests.Support;

/// <summary>Calls an exporter directly with a list of events, as a new batch.</summary>
internal static class ExporterExtensions
{
    public static Task ExportAsync(this IExporter exporter, IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        exporter.ExportAsync(new ExportBatch(events), cancellationToken);
}
