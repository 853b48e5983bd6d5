using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FlagExport.Buffers;

namespace FlagExport.Durability;

/// <summary>
/// One exporter's place in the durable buffer, kept in its own small file: the position below which every event of
/// its type is written (<see cref="Committed"/>), and the batch in flight, if any, with its range, attempts and the
/// names its exporter recorded.
/// </summary>
/// <remarks>
/// <para>The file is replaced whole (temporary file, fsync, rename, fsync of the folder), so a crash leaves either the
/// old or the new content, never a mix. The batch in flight is saved before its first attempt, so that after a crash
/// the same positions are cut into the same batch, with the same identity and recorded names.</para>
/// <para>Written by hand with <see cref="Utf8JsonWriter"/> and <see cref="Utf8JsonReader"/>: a few fields, no reflection
/// (trimming and native AOT), nothing a library would save.</para>
/// <para>Used by one pipeline worker at a time; not thread-safe.</para>
/// </remarks>
internal sealed class ExporterCursor
{
    private const string FileSuffix = ".cursor";

    private readonly string _path;

    private ExporterCursor(string path, string? exporterName, long committed, BatchState? inFlight, EventType? eventType)
    {
        _path = path;
        ExporterName = exporterName;
        EventType = eventType;
        Committed = committed;
        InFlight = inFlight;
    }

    /// <summary>
    /// The exporter the cursor belongs to, as saved in the file (the file name is only a hash of it); null for a file
    /// that does not say.
    /// </summary>
    public string? ExporterName { get; }

    /// <summary>Every event of this exporter's type below this position is written.</summary>
    public long Committed { get; private set; }

    /// <summary>The batch cut and saved but not yet written, or null.</summary>
    public BatchState? InFlight { get; private set; }

    /// <summary>The type of events the cursor counts, or null when not known.</summary>
    public EventType? EventType { get; }

    /// <summary>
    /// Whether the file was of the other event type and this cursor starts over: its positions counted that type's
    /// events, and its batch in flight held them.
    /// </summary>
    public bool WasReset => Replaced is not null;

    /// <summary>
    /// The cursor as saved for the other event type, when this one starts over; its file is unchanged until the next save
    /// (<see cref="DurableEventStore.OpenCursor"/> saves the new one once it has checked that the old one owes nothing).
    /// </summary>
    public ExporterCursor? Replaced { get; private init; }

    /// <summary>The file's path.</summary>
    public string FilePath => _path;

    /// <summary>Reads the cursor of <paramref name="exporterName"/> in <paramref name="directory"/>; a missing file is created at <paramref name="start"/>.</summary>
    /// <exception cref="InvalidDataException">The file exists and is not a cursor; the message names it.</exception>
    public static ExporterCursor Open(string directory, string exporterName, long start, EventType? eventType = null)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileNameOf(exporterName));
        if (!File.Exists(path))
        {
            // Saved at once, not at the first batch: an exporter removed before it cut one still owes every event since
            // it was added, and only a file on disk lets the next start see that.
            var created = new ExporterCursor(path, exporterName, start, inFlight: null, eventType);
            created.Write(start, inFlight: null);
            return created;
        }

        ExporterCursor saved = Read(path);
        if (eventType is not null && saved.EventType is not null && saved.EventType != eventType)
        {
            // The exporter now takes the other type: none of that type's events were exported by it yet.
            return new ExporterCursor(path, exporterName, start, inFlight: null, eventType) { Replaced = saved };
        }

        return new ExporterCursor(path, exporterName, saved.Committed, saved.InFlight, eventType ?? saved.EventType);
    }

    /// <summary>Reads the cursor file <paramref name="path"/> as it is, whoever it belongs to.</summary>
    /// <exception cref="InvalidDataException">The file is not a cursor; the message names it.</exception>
    public static ExporterCursor Read(string path)
    {
        byte[] content = File.ReadAllBytes(path);
        try
        {
            (string? name, long committed, BatchState? inFlight, EventType? saved) = Parse(content);
            return new ExporterCursor(path, name, committed, inFlight, saved);
        }
        catch (Exception exception) when (exception is JsonException or FormatException or OverflowException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidDataException($"The durable buffer's cursor file '{path}' is damaged ({exception.Message}). Moving it aside makes that exporter start with the events acknowledged from then on: the events it still owed would not be exported, and 'flagexport-collector buffer drop-backlog NAME' cannot set them aside without the cursor.", exception);
        }
    }

    /// <summary>Whether <paramref name="fileName"/> is the name of a cursor file.</summary>
    public static bool IsCursorFile(string fileName) => fileName.EndsWith(FileSuffix, StringComparison.Ordinal) && !fileName.StartsWith('.');

    /// <summary>Deletes the file: the exporter's place is forgotten.</summary>
    public void Delete()
    {
        File.Delete(_path);
        DirectorySync.Flush(Path.GetDirectoryName(_path)!);
    }

    /// <summary>Saves <paramref name="batch"/> as the batch in flight, before its first attempt; makes its records durable from then on.</summary>
    public void SaveInFlight(BatchState batch)
    {
        Write(Committed, batch);
        InFlight = batch; // only once on disk: a failed save leaves no batch "recovered" that was never saved
    }

    /// <summary>The batch in flight was written (or set aside): everything below its end is done.</summary>
    public void Commit(long position)
    {
        Write(position, inFlight: null);
        (Committed, InFlight) = (position, null);
    }

    /// <summary>Writes the current state to disk; called again whenever the exporter records a name.</summary>
    public void Save() => Write(Committed, InFlight);

    private void Write(long committed, BatchState? inFlight)
    {
        using var buffer = new PooledBufferWriter(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (ExporterName is { } name)
            {
                json.WriteString("exporter", name);
            }

            json.WriteNumber("committed", committed);
            if (EventType is { } type)
            {
                json.WriteString("eventType", type == FlagExport.EventType.Tracking ? "tracking" : "feature");
            }

            if (inFlight is { } batch)
            {
                json.WriteStartObject("inFlight");
                json.WriteString("id", batch.Id);
                json.WriteNumber("first", batch.FirstPosition);
                json.WriteNumber("end", batch.EndPosition);
                json.WriteNumber("attempts", Math.Max(batch.Attempts, 1)); // saved before the first attempt starts: count it
                if (batch.FirstFailure is { } firstFailure)
                {
                    json.WriteString("firstFailure", firstFailure);
                }

                batch.WriteRecorded(json, "recorded");
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        DurableFile.Replace(_path, buffer.WrittenSpan);
    }

    /// <summary>A file name for the exporter: its name made safe, plus a hash that keeps names differing only in unsafe characters apart.</summary>
    internal static string FileNameOf(string exporterName)
    {
        var safe = new StringBuilder(exporterName.Length);
        foreach (char c in exporterName)
        {
            _ = safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        if (safe.Length > 64)
        {
            safe.Length = 64;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{safe}.{BatchState.ScopeOf(exporterName)}{FileSuffix}");
    }

    private static (string? Name, long Committed, BatchState? InFlight, EventType? Type) Parse(ReadOnlySpan<byte> content)
    {
        using JsonDocument document = JsonDocument.Parse(content.ToArray());
        JsonElement root = document.RootElement;
        string? name = root.TryGetProperty("exporter", out JsonElement saved) ? saved.GetString() : null;
        long committed = root.GetProperty("committed").GetInt64();
        EventType? type = root.TryGetProperty("eventType", out JsonElement typeName)
            ? (typeName.GetString() == "tracking" ? FlagExport.EventType.Tracking : FlagExport.EventType.Feature)
            : null;
        if (!root.TryGetProperty("inFlight", out JsonElement batch))
        {
            return (name, committed, null, type);
        }

        Dictionary<string, string> recorded = BatchState.ReadRecorded(batch.GetProperty("recorded"));

        var state = new BatchState(batch.GetProperty("id").GetString() ?? throw new FormatException("inFlight.id is null"),
            batch.GetProperty("first").GetInt64(), batch.GetProperty("end").GetInt64(), recorded)
        {
            Attempts = batch.GetProperty("attempts").GetInt32(),
            FirstFailure = batch.TryGetProperty("firstFailure", out JsonElement firstFailure) ? firstFailure.GetDateTimeOffset() : null,
        };
        return (name, committed, state, type);
    }
}
