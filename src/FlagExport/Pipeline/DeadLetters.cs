using FlagExport.Durability;

namespace FlagExport;

/// <summary>
/// Reads and replays the dead-letter folder: batches a pipeline set aside because they could not be written (a permanent
/// failure, or failures for longer than <see cref="DataExporterOptions.MaxRetryDuration"/>).
/// </summary>
/// <remarks>
/// Each dead letter is a sub-folder named by the batch id, holding <c>manifest.json</c> (exporter, error, event count,
/// times, intended names), <c>events.jsonl</c> (the events as JSON lines) and <c>events.fxev</c> (the exact events).
/// Once the cause is fixed, <see cref="ReplayAsync"/> hands the events back to the pipelines and deletes each letter
/// once they are written.
/// </remarks>
public static class DeadLetters
{
    internal const string ManifestFile = "manifest.json";
    internal const string JsonLinesFile = "events.jsonl";
    internal const string EventsFile = "events.fxev";

    /// <summary>The folders of the dead letters in <paramref name="directory"/>, oldest first; none when it does not exist.</summary>
    /// <param name="directory">The dead-letter folder (<see cref="DataExporterOptions.DeadLetterDirectory"/>).</param>
    public static IReadOnlyList<string> List(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return [.. new DirectoryInfo(directory).EnumerateDirectories()
            .Where(d => !d.Name.StartsWith('.') && File.Exists(Path.Combine(d.FullName, EventsFile)))
            .OrderBy(d => d.CreationTimeUtc)
            .ThenBy(d => d.Name, StringComparer.Ordinal)
            .Select(d => d.FullName)];
    }

    /// <summary>
    /// Adds the events of every dead letter in <paramref name="directory"/> to <paramref name="sink"/>, flushes, and deletes
    /// each letter whose events were written. A letter whose flush fails is kept, and the failure is thrown.
    /// </summary>
    /// <param name="directory">The dead-letter folder.</param>
    /// <param name="sink">Where the events go again: the application's <see cref="IFlagEventSink"/>.</param>
    /// <param name="cancellationToken">Stops between letters.</param>
    /// <returns>How many events were replayed.</returns>
    /// <exception cref="InvalidDataException">A letter's event file is damaged; the message names it. Letters before it were replayed.</exception>
    public static async Task<long> ReplayAsync(string directory, IFlagEventSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        long replayed = 0;
        foreach (string letter in List(directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.Combine(letter, EventsFile);
            List<ExportableEvent> events;
            try
            {
                events = EventRecordFile.Read(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
            }
            catch (InvalidDataException exception)
            {
                throw new InvalidDataException($"The dead letter '{path}' is damaged: {exception.Message}", exception);
            }

            foreach (ExportableEvent exportable in events)
            {
                if (!sink.Add(exportable))
                {
                    throw new InvalidOperationException($"The dead letter '{letter}' could not be replayed: an event was refused (no exporter of its type, or a full buffer).");
                }
            }

            await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
            Directory.Delete(letter, recursive: true);
            replayed += events.Count;
        }

        return replayed;
    }
}
