using System.Globalization;
using System.Text;

namespace FlagExport.Durability;

/// <summary>
/// The durable buffer holds events for an exporter that is no longer registered (removed, or renamed): starting without
/// it would leave them unexported for good. The message names each such exporter, its backlog and the ways on.
/// </summary>
internal sealed class OrphanedExporterException : InvalidOperationException
{
    public OrphanedExporterException(string bufferDirectory, IReadOnlyList<(string Exporter, long Events)> orphans)
        : base(Describe(bufferDirectory, orphans)) => Orphans = orphans;

    /// <summary>Each exporter with a backlog and no registration, with the number of events it still owes.</summary>
    public IReadOnlyList<(string Exporter, long Events)> Orphans { get; }

    private static string Describe(string bufferDirectory, IReadOnlyList<(string Exporter, long Events)> orphans)
    {
        var text = new StringBuilder();
        foreach ((string exporter, long events) in orphans)
        {
            _ = text.Append(CultureInfo.InvariantCulture,
                $"The durable buffer '{bufferDirectory}' holds {events} events not yet exported by exporter '{exporter}', which is no longer configured (removed or renamed). ")
                .Append(CultureInfo.InvariantCulture,
                $"Put it back under the name '{exporter}' to export them, or set them aside as dead letters with 'flagexport-collector buffer drop-backlog {exporter}' (library: DurableBufferBacklog.DropAsync) and replay them later. ");
        }

        return text.ToString().TrimEnd();
    }
}
