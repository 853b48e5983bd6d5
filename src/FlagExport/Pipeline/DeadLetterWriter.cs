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
/// Every file is written as it is encoded, so a letter of any size can be written with about a megabyte of memory;
/// only the object, which exporters encode in one buffer, is left out of a batch too large for that (the manifest says so).
/// The sub-folder appears whole: it is written under a hidden temporary name, fsynced and renamed, so a replay never
/// reads half a letter. Its name is the batch id, so setting the same batch aside twice (a crash right after) keeps one.
/// </remarks>
internal sealed class DeadLetterWriter(string directory, long maxObjectBytes = DataExporterOptions.DefaultMaxBatchEncodedBytes)
{
    // Events are encoded into a buffer of about this size, written out each time it fills.
    private const int ChunkBytes = 1 << 20;

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
        await WriteJsonLinesAsync(Path.Combine(temporary, DeadLetters.JsonLinesFile), batch.Events, cancellationToken).ConfigureAwait(false);
        string? objectError = exporter is IEncodingExporter encoder
            ? await TryWriteObjectAsync(temporary, encoder, batch.Events, cancellationToken).ConfigureAwait(false)
            : null;

        // The exact events, for replay; a value the record codec refuses (nested too deep) leaves the letter without them:
        // still set aside, readable as JSON lines, but not replayable, which the manifest says.
        string? eventsError = null;
        string eventsPath = Path.Combine(temporary, DeadLetters.EventsFile);
        try
        {
            await using FileStream events = CreateFile(eventsPath);
            await EventRecordFile.WriteAsync(batch.Events, events, cancellationToken).ConfigureAwait(false);
            events.Flush(flushToDisk: true);
        }
        catch (ArgumentException exception)
        {
            eventsError = exception.Message;
            File.Delete(eventsPath);
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
                json.WriteBoolean("permanent", ExportFailures.PermanentFailureOf(error) is not null);
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
        using FileStream stream = CreateFile(path);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }

    private static FileStream CreateFile(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);

    /// <summary>The events as go-feature-flag's JSON lines, written as they are encoded: memory stays one chunk, whatever the batch.</summary>
    private static async Task WriteJsonLinesAsync(string path, IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        await using FileStream file = CreateFile(path);
        using var lines = new PooledBufferWriter(ChunkBytes + (64 * 1024));
        foreach (ExportableEvent exportable in events)
        {
            JsonLinesEncoder.WriteLine(lines, exportable);
            if (lines.WrittenCount >= ChunkBytes)
            {
                await file.WriteAsync(lines.WrittenMemory, cancellationToken).ConfigureAwait(false);
                lines.Clear();
            }
        }

        await file.WriteAsync(lines.WrittenMemory, cancellationToken).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// The object as the exporter would have written it, when the exporter can encode it in one buffer; else the reason
    /// it is missing (the events are in the letter either way, so a batch that cannot be encoded still leaves).
    /// </summary>
    private async Task<string?> TryWriteObjectAsync(string folder, IEncodingExporter encoder, IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        // Encoders build an object in one buffer: a batch whose bound passes what a batch may be (a single event larger
        // than the bound, or a range saved before the bound was set lower) is not attempted, rather than risk gigabytes
        // of memory or a buffer past 2 GiB.
        long bound = 0;
        foreach (ExportableEvent e in events)
        {
            bound += EventSize.Bound(e);
        }

        if (bound > maxObjectBytes)
        {
            return $"not encoded: the batch's encoding could take up to {bound} bytes, more than MaxBatchEncodedBytes ({maxObjectBytes}); its events are in {DeadLetters.JsonLinesFile} and {DeadLetters.EventsFile}";
        }

        try
        {
            (PooledBufferWriter content, string fileName) = await encoder.EncodeObjectAsync(events, cancellationToken).ConfigureAwait(false);
            using (content)
            {
                await using FileStream file = CreateFile(Path.Combine(folder, fileName));
                await file.WriteAsync(content.WrittenMemory, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            return null;
        }
#pragma warning disable CA1031 // Whatever the exporter's encoder throws, the letter is written without the object, and says why.
        catch (Exception exception) when (exception is not OperationCanceledException and not IOException)
#pragma warning restore CA1031
        {
            return exception.Message;
        }
    }
}
