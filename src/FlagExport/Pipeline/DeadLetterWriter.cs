using System.Globalization;
using System.Text.Json;
using FlagExport.Buffers;
using FlagExport.Durability;
using FlagExport.Formats;

namespace FlagExport;

/// <summary>
/// Sets a batch that cannot be written aside in the dead-letter folder, as one sub-folder per batch:
/// <c>object.&lt;ext&gt;</c> (the object as the exporter would have written it, when it can say: file and S3 exporters),
/// <c>events.jsonl</c> (the events as go-feature-flag's JSON lines),
/// <c>events.fxev</c> (the exact events, for <see cref="DeadLetters.ReplayAsync"/>) and <c>manifest.json</c>
/// (exporter, batch id, intended names, event count, error, times).
/// </summary>
/// <remarks>
/// The sub-folder appears whole: it is written under a hidden temporary name, fsynced and renamed, so a replay never
/// reads half a letter. Its name is the batch id, so setting the same batch aside twice (a crash right after) keeps one.
/// </remarks>
internal sealed class DeadLetterWriter(string directory)
{
    /// <summary>The absolute path of the dead-letter folder.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Writes the letter for <paramref name="batch"/>; returns its folder.</summary>
    /// <exception cref="IOException">The letter could not be written; the batch must stay where it is.</exception>
    public async Task<string> WriteAsync(
        string exporterName, IExporter? exporter, ExportBatch batch, BatchState state, Exception error, DateTimeOffset firstFailure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        string final = Path.Combine(Directory, batch.Id);
        if (System.IO.Directory.Exists(final))
        {
            return final; // set aside already, before a crash
        }

        string temporary = Path.Combine(Directory, "." + batch.Id + ".tmp");
        if (System.IO.Directory.Exists(temporary))
        {
            System.IO.Directory.Delete(temporary, recursive: true);
        }

        _ = System.IO.Directory.CreateDirectory(temporary);
        using (var lines = new PooledBufferWriter(64 * 1024))
        {
            foreach (ExportableEvent exportable in batch.Events)
            {
                JsonLinesEncoder.WriteLine(lines, exportable);
            }

            WriteFile(Path.Combine(temporary, DeadLetters.JsonLinesFile), lines.WrittenSpan);
        }

        // The object as the exporter would have written it; a batch that cannot be encoded has only its events.
        string? objectError = null;
        if (exporter is IEncodingExporter encoder)
        {
            try
            {
                (PooledBufferWriter content, string fileName) = await encoder.EncodeObjectAsync(batch.Events, cancellationToken).ConfigureAwait(false);
                using (content)
                {
                    WriteFile(Path.Combine(temporary, fileName), content.WrittenSpan);
                }
            }
            catch (ExportEncodingException exception)
            {
                objectError = exception.Message;
            }
        }

        // The exact events, for replay; a value the record codec refuses (nested too deep) leaves the letter without them:
        // still set aside, readable as JSON lines, but not replayable, which the manifest says.
        string? eventsError = null;
        using (var records = new PooledBufferWriter(64 * 1024))
        {
            try
            {
                EventRecordFile.Write(batch.Events, records);
                WriteFile(Path.Combine(temporary, DeadLetters.EventsFile), records.WrittenSpan);
            }
            catch (ArgumentException exception)
            {
                eventsError = exception.Message;
            }
        }

        using (var manifest = new PooledBufferWriter(4 * 1024))
        {
            using (var json = new Utf8JsonWriter(manifest, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteString("exporter", exporterName);
                json.WriteString("batchId", batch.Id);
                json.WriteNumber("firstPosition", batch.FirstPosition);
                json.WriteNumber("endPosition", batch.EndPosition);
                json.WriteNumber("eventCount", batch.Events.Count);
                json.WriteString("eventType", batch.Events.Count > 0 && batch.Events[0] is TrackingEvent ? "tracking" : "feature");
                json.WriteNumber("attempts", batch.Attempt);
                json.WriteString("firstFailure", firstFailure.ToString("O", CultureInfo.InvariantCulture));
                json.WriteString("setAside", now.ToString("O", CultureInfo.InvariantCulture));
                json.WriteString("error", error.Message);
                json.WriteString("errorType", error.GetType().FullName);
                json.WriteBoolean("permanent", DataExporter.PermanentFailureOf(error) is not null);
                if (objectError is not null)
                {
                    json.WriteString("objectError", objectError);
                }

                if (eventsError is not null)
                {
                    json.WriteString("eventsError", eventsError);
                }

                state.WriteRecorded(json, "intended");
                json.WriteEndObject();
            }

            WriteFile(Path.Combine(temporary, DeadLetters.ManifestFile), manifest.WrittenSpan);
        }

        DirectorySync.Flush(temporary);
        System.IO.Directory.Move(temporary, final);
        DirectorySync.Flush(Directory);
        return final;
    }

    private static void WriteFile(string path, ReadOnlySpan<byte> content)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }
}
