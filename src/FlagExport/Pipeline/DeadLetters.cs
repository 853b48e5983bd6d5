using System.Text.Json;
using FlagExport.Durability;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport;

/// <summary>
/// Reads and replays the dead-letter folder: batches a pipeline set aside because they could not be written (a permanent
/// failure, or failures for longer than <see cref="DataExporterOptions.MaxRetryDuration"/>).
/// </summary>
/// <remarks>
/// Each dead letter is a sub-folder named by the batch id, holding <c>manifest.json</c> (exporter, error, event count,
/// times, intended names), <c>events.jsonl</c> (the events as JSON lines) and <c>events.fxev</c> (the exact events).
/// Once the cause is fixed, <see cref="ReplayAsync"/> writes the events through the registered exporters again and
/// deletes each letter once they are written.
/// </remarks>
public static class DeadLetters
{
    internal const string ManifestFile = "manifest.json";
    internal const string JsonLinesFile = "events.jsonl";
    internal const string EventsFile = "events.fxev";
    internal const string ReplayFile = "replay.json";

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
            .Where(d => !d.Name.StartsWith('.') && File.Exists(Path.Combine(d.FullName, ManifestFile)))
            .OrderBy(d => d.CreationTimeUtc)
            .ThenBy(d => d.Name, StringComparer.Ordinal)
            .Select(d => d.FullName)];
    }

    /// <summary>
    /// Writes the events of every dead letter in <paramref name="directory"/> again, each through the exporter that set it
    /// aside (named in its manifest), or through <paramref name="exporter"/> when given, under the batch's original
    /// identity, and deletes each letter once it is written. An object an earlier attempt wrote is found, not written twice.
    /// </summary>
    /// <param name="directory">The dead-letter folder.</param>
    /// <param name="services">The application's services, where <c>AddFlagExport</c> registered the exporters: the
    /// letters are written by those exporters' pipelines (started if they were not yet).</param>
    /// <param name="exporter">
    /// When set, the registered exporter every letter is written through instead of the one named in its manifest: how
    /// the letters of an exporter that is no longer registered reach another. The names the original exporter recorded
    /// are left out then (they name its outputs, not the target's); the batch keeps its identity, so a replay interrupted
    /// after the write finds it again.
    /// </param>
    /// <param name="cancellationToken">Stops between letters, and cancels the write in progress.</param>
    /// <returns>How many events were written.</returns>
    /// <exception cref="InvalidDataException">A letter is damaged; the message names it. Letters before it were replayed.</exception>
    /// <exception cref="InvalidOperationException"><c>AddFlagExport</c> was not called on <paramref name="services"/>; or a
    /// letter names an exporter that is not registered, holds the other event type than <paramref name="exporter"/> takes,
    /// or an interrupted replay of it went through another exporter (it may be written there already); letters before it
    /// were replayed.</exception>
    /// <remarks>
    /// The first letter that fails to write stops the replay with that exporter's exception; it and the rest are kept.
    /// A letter without <c>events.fxev</c> (an event the buffer's encoding refuses, see its manifest) is left in place.
    /// The letters go to the exporter directly, not through <see cref="IFlagEventSink"/>: with the durable buffer on they
    /// are not appended to it again, and no other exporter of their type receives them.
    /// </remarks>
    public static Task<long> ReplayAsync(string directory, IServiceProvider services, string? exporter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(services);
        ExporterPipelines pipelines = services.GetService<ExporterPipelines>()
            ?? throw new InvalidOperationException("No FlagExport exporters are registered in these services: call AddFlagExport and register the exporters, then replay with the application's services.");
        return ReplayThroughAsync(directory, pipelines, exporter, cancellationToken);
    }

    /// <summary>
    /// <see cref="ReplayAsync(string, IServiceProvider, string?, CancellationToken)"/> with the pipelines at hand.
    /// </summary>
    internal static async Task<long> ReplayThroughAsync(string directory, ExporterPipelines pipelines, string? into, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipelines);
        long replayed = 0;
        foreach (string letter in List(directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!File.Exists(Path.Combine(letter, EventsFile)))
            {
                continue; // its events could not be stored exactly (see its manifest's eventsError): read events.jsonl instead
            }

            string target = into ?? await ReadExporterAsync(letter, cancellationToken).ConfigureAwait(false);
            (string exporter, string? replayedThrough, BatchState state, List<ExportableEvent> events) = await ReadAsync(letter, target, cancellationToken).ConfigureAwait(false);
            string replayRecord = Path.Combine(letter, ReplayFile);
            if (replayedThrough is not null && !string.Equals(replayedThrough, target, StringComparison.Ordinal))
            {
                // That replay may have written the events before it was interrupted: another target would write them twice.
                throw new InvalidOperationException(
                    $"The dead letter '{letter}' was being replayed through exporter '{replayedThrough}' when that replay was interrupted, so its events may already be written there; it is not written again through exporter '{target}'. Replay it through '{replayedThrough}', or delete '{replayRecord}' once you know '{replayedThrough}' does not hold them.");
            }

            // Names chosen during the replay are on disk before the exporter writes under them, as in the cursor: a replay
            // that dies after the upload, before the letter is deleted, finds its object the next time.
            state.Persist = (batch, _) =>
            {
                WriteReplayRecord(replayRecord, target, batch);
                return ValueTask.CompletedTask;
            };

            ExportWorker pipeline = pipelines.Pipelines.FirstOrDefault(p => string.Equals(p.Name, target, StringComparison.Ordinal))
                ?? throw new InvalidOperationException(into is null
                    ? $"The dead letter '{letter}' was set aside by exporter '{exporter}', which is not registered; configure it, replay into another exporter, or move the letter away."
                    : $"Exporter '{into}' is not registered; the exporters are: {string.Join(", ", pipelines.Pipelines.Select(p => p.Name))}.");
            if (events.Count > 0 && events[0].EventType != pipeline.EventType)
            {
                throw new InvalidOperationException($"The dead letter '{letter}' holds {events[0].EventType.ToString().ToLowerInvariant()} events; exporter '{target}' takes {pipeline.EventType.ToString().ToLowerInvariant()} events.");
            }

            if (replayedThrough is null)
            {
                // The target is on disk before its first attempt, even for an exporter that records no name: a replay
                // through another target after this one is interrupted is refused (see above).
                WriteReplayRecord(replayRecord, target, state);
            }

            await pipeline.ExportDirectlyAsync(new ExportBatch(events, state, state.Attempts + 1), cancellationToken).ConfigureAwait(false);

            Directory.Delete(letter, recursive: true);
            replayed += events.Count;
        }

        return replayed;
    }

    /// <summary>Saves which exporter replays the letter and the names it recorded so far.</summary>
    private static void WriteReplayRecord(string path, string target, BatchState batch)
    {
        using var content = new PooledBufferWriter(1024);
        using (var json = new Utf8JsonWriter(content))
        {
            json.WriteStartObject();
            json.WriteString("exporter", target);
            batch.WriteRecorded(json, "recorded");
            json.WriteEndObject();
        }

        DurableFile.Replace(path, content.WrittenSpan);
    }

    /// <summary>The exporter named in a letter's manifest.</summary>
    private static async Task<string> ReadExporterAsync(string letter, CancellationToken cancellationToken)
    {
        try
        {
            using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(letter, ManifestFile), cancellationToken).ConfigureAwait(false));
            return manifest.RootElement.GetProperty("exporter").GetString()!;
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"The dead letter '{letter}' is damaged: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Reads a letter: the exporter that set it aside, the exporter an earlier replay went through (null when none), the
    /// batch's identity, its events, and the names recorded for <paramref name="target"/>: the manifest's when the target
    /// set it aside, plus those a replay through the target recorded.
    /// </summary>
    private static async Task<(string Exporter, string? ReplayedThrough, BatchState State, List<ExportableEvent> Events)> ReadAsync(string letter, string target, CancellationToken cancellationToken)
    {
        try
        {
            List<ExportableEvent> events = EventRecordFile.Read(await File.ReadAllBytesAsync(Path.Combine(letter, EventsFile), cancellationToken).ConfigureAwait(false));
            using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(letter, ManifestFile), cancellationToken).ConfigureAwait(false));
            JsonElement root = manifest.RootElement;
            string exporter = root.GetProperty("exporter").GetString()!;
            Dictionary<string, string> recorded = string.Equals(exporter, target, StringComparison.Ordinal)
                ? BatchState.ReadRecorded(root.GetProperty("intended"))
                : new Dictionary<string, string>(StringComparer.Ordinal);
            string replayRecord = Path.Combine(letter, ReplayFile);
            using JsonDocument? replay = File.Exists(replayRecord)
                ? JsonDocument.Parse(await File.ReadAllBytesAsync(replayRecord, cancellationToken).ConfigureAwait(false))
                : null;

            // A record without "exporter" was made through the exporter that set the letter aside.
            string? replayedThrough = replay is null
                ? null
                : replay.RootElement.TryGetProperty("exporter", out JsonElement by) ? by.GetString() ?? exporter : exporter;
            if (replay is not null && string.Equals(replayedThrough, target, StringComparison.Ordinal))
            {
                foreach ((string name, string value) in BatchState.ReadRecorded(replay.RootElement.GetProperty("recorded")))
                {
                    recorded[name] = value;
                }
            }

            var state = new BatchState(root.GetProperty("batchId").GetString()!, root.GetProperty("firstPosition").GetInt64(),
                root.GetProperty("endPosition").GetInt64(), recorded)
            {
                Attempts = root.GetProperty("attempts").GetInt32(),
            };
            return (exporter, replayedThrough, state, events);
        }
        catch (Exception exception) when (exception is InvalidDataException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The dead letter '{letter}' is damaged: {exception.Message}", exception);
        }
    }
}
