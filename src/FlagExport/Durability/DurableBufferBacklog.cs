using System.Globalization;
using FlagExport.Durability;

namespace FlagExport;

/// <summary>
/// What to do with the events the durable buffer holds for an exporter that is no longer configured (removed, or
/// renamed): start-up refuses to go on without them being dealt with, since nothing else would ever export them.
/// </summary>
public static class DurableBufferBacklog
{
    /// <summary>Positions of the log per dead letter: bounds the events one letter holds in memory and on disk.</summary>
    internal const int LetterPositions = 10_000;

    /// <summary>
    /// Sets the backlog of <paramref name="exporterName"/> aside as dead letters in <paramref name="deadLetterDirectory"/>
    /// (the format the pipelines write, which <see cref="DeadLetters.ReplayAsync"/> replays), then removes its cursor.
    /// Run it while no process has the buffer open.
    /// </summary>
    /// <param name="bufferDirectory">The durable buffer's folder.</param>
    /// <param name="exporterName">The exporter the cursor belongs to, as it was named when it ran.</param>
    /// <param name="deadLetterDirectory">Where the letters go.</param>
    /// <param name="cancellationToken">Stops between letters; what was set aside so far stays set aside, and a new run goes on from there.</param>
    /// <returns>How many events were set aside.</returns>
    /// <exception cref="InvalidOperationException">There is no buffer there, or it has no cursor for <paramref name="exporterName"/>; the message lists the cursors it has.</exception>
    /// <exception cref="IOException">The buffer is open in another process, or a letter could not be written (nothing is lost: the cursor stays where the last written letter ends).</exception>
    /// <remarks>
    /// Each letter is a range of the log under the identity the exporter's pipeline would have given it, and the batch in
    /// flight keeps its identity and recorded names, so that a replay through the same exporter finds an object an
    /// interrupted attempt wrote. A run interrupted by a crash writes no letter twice (a letter's folder is its identity).
    /// </remarks>
    public static async Task<long> DropAsync(string bufferDirectory, string exporterName, string deadLetterDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bufferDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(exporterName);
        ArgumentException.ThrowIfNullOrWhiteSpace(deadLetterDirectory);
        if (!Directory.Exists(Path.Combine(bufferDirectory, "cursors")))
        {
            // Opening would create an empty buffer where none was (a mistyped folder): say so instead.
            throw new InvalidOperationException($"There is no durable buffer with cursors in '{Path.GetFullPath(bufferDirectory)}'.");
        }

        DurableEventStore store = DurableEventStore.Open(bufferDirectory, long.MaxValue);
        await using (store.ConfigureAwait(false))
        {
            string file = Path.Combine(store.CursorDirectory, ExporterCursor.FileNameOf(exporterName));
            if (!File.Exists(file))
            {
                string[] known = [.. OrphanedCursors.Find(store.CursorDirectory, []).Select(OrphanedCursors.NameOf)];
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The durable buffer '{store.Directory}' has no cursor for exporter '{exporterName}'; it has cursors for: {(known.Length == 0 ? "none" : string.Join(", ", known.Select(k => $"'{k}'")))}."));
            }

            ExporterCursor cursor = ExporterCursor.Read(file);
            long end = store.DurablePosition;
            long backlog = OrphanedCursors.Backlog(store.Log, cursor);
            var reason = new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Exporter '{exporterName}' was removed from the configuration with {backlog} events not exported; its backlog was set aside with 'buffer drop-backlog'."));
            var writer = new DeadLetterWriter(deadLetterDirectory);
            string scope = BatchState.ScopeOf(exporterName);
            long dropped = 0;

            // No logger: an undecodable record refuses the drop (the cursor stays after the last letter written)
            // rather than leave an event out of its letter in silence.
            using var reader = new DurableEventReader(store.Log, cursor.InFlight?.FirstPosition ?? cursor.Committed, cursor.EventType, exporterName, logger: null);
            while (cursor.InFlight is not null || cursor.Committed < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long first = cursor.Committed;
                BatchState state = cursor.InFlight
                    ?? new BatchState(BatchState.FormatId(store.BufferId, scope, first, Math.Min(end, first + LetterPositions)), first, Math.Min(end, first + LetterPositions));
                // The reader starts at the first record of the letter's segment: a letter that starts inside a request
                // still gets the request's shared metadata record, which lies before it.
                var events = new List<ExportableEvent>();
                reader.ReadRange(state.FirstPosition, state.EndPosition, events);
                if (events.Count > 0)
                {
                    DateTimeOffset now = TimeProvider.System.GetUtcNow();
                    var batch = new ExportBatch(events, state, Math.Max(state.Attempts, 1));
                    _ = await writer.WriteAsync(exporterName, exporter: null, batch, state, reason, state.FirstFailure ?? now, now, cancellationToken).ConfigureAwait(false);
                }

                cursor.Commit(state.EndPosition);
                dropped += events.Count;
            }

            cursor.Delete();
            return dropped;
        }
    }
}
