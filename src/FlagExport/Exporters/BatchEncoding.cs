using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace FlagExport;

/// <summary>
/// How one batch is encoded, named and cut into parts on every attempt: the settings, file name and exporter settings
/// its first attempt recorded, and the event range of each part, recorded before the part is handed out. From
/// <see cref="ExportFileEncoder.BeginAsync"/>; dispose it when the attempt ends.
/// </summary>
/// <remarks>
/// <para>Invariant: a part is written only under a name recorded for it, and a name is recorded only for a part whose
/// range is recorded. So an attempt that finds part <c>i</c>'s name recorded knows exactly which events that file or
/// object holds, whatever <c>MaxBatchBytes</c>, format, compression or path the exporter has now: every attempt writes
/// the recorded parts with the recorded settings, and cuts the events after the last recorded part (never written yet)
/// with them too. Each event is in exactly one part.</para>
/// <para>Everything is kept in the batch's records (<see cref="ExportBatch.RecordAsync"/>), so it survives a restart
/// with the durable buffer and travels with a dead letter.</para>
/// </remarks>
public sealed class BatchEncoding : IDisposable
{
    /// <summary>The record holding the first attempt's settings, file name and exporter settings.</summary>
    /// <remarks>The toolkit's records start with <c>export.</c>; an exporter's own records should not.</remarks>
    internal const string SettingsRecord = "export.encoding";

    /// <summary>The prefix of the records of part ranges (<see cref="PartRecord"/>).</summary>
    internal const string PartRecordPrefix = "export.part.";

    private readonly ExportBatch _batch;
    private readonly bool _ownsEncoder;

    internal BatchEncoding(ExportBatch batch, ExportFileEncoder encoder, bool ownsEncoder, string fileName, string? exporterSettings)
    {
        _batch = batch;
        Encoder = encoder;
        _ownsEncoder = ownsEncoder;
        FileName = fileName;
        ExporterSettings = exporterSettings;
    }

    /// <summary>The encoder with the batch's recorded settings: its format, content type, extension and <c>MaxBatchBytes</c>.</summary>
    internal ExportFileEncoder Encoder { get; }

    /// <summary>The file name rendered on the batch's first attempt (one flush time for all its parts and partitions).</summary>
    public string FileName { get; }

    /// <summary>What the exporter passed to <see cref="ExportFileEncoder.BeginAsync"/> on the batch's first attempt.</summary>
    public string? ExporterSettings { get; }

    /// <summary>
    /// The parts of <paramref name="events"/> (the batch, or one of its partitions named <paramref name="partition"/>):
    /// first the recorded ones, each with exactly its recorded events, then new ones cut after them, each recorded
    /// before it is handed out. The caller writes each part before asking for the next, and disposes it.
    /// </summary>
    /// <remarks>
    /// <para>Without <see cref="ExportFileOptions.MaxBatchBytes"/> a partition is one part, the bytes
    /// <see cref="ExportFileEncoder.EncodeAsync"/> writes. With it, each new part is at most that many bytes and, but the
    /// last, at least 90% of it: its event count is guessed from the bytes per event of the previous part and corrected
    /// by encoding again, a bounded number of times. One event whose encoding alone is larger is a part of its own: an
    /// event is never split or dropped.</para>
    /// <para>Parts are encoded as they are enumerated, so a caller holds about one part's bytes at a time.</para>
    /// </remarks>
    /// <param name="partition">Tells the batch's partitions apart (the S3 key prefix); "" for a batch of one partition.</param>
    /// <param name="events">The partition's events, the same on every attempt.</param>
    /// <param name="isWritten">
    /// Null, or whether a recorded part (by index) is known to be written already: it is then neither encoded nor
    /// handed out. Not asked for parts cut by this attempt, which no attempt can have written.
    /// </param>
    /// <param name="cancellationToken">Cancels the encoding and the wait for the records.</param>
    /// <exception cref="ExportEncodingException">
    /// An event could not be encoded, the events need more parts than a name has suffixes
    /// (<see cref="ExportFileEncoder.MaxSuffix"/>), or the records do not match the events: retrying cannot help.
    /// </exception>
    public IAsyncEnumerable<EncodedPart> EncodePartsAsync(
        string partition,
        IReadOnlyList<ExportableEvent> events,
        Func<int, CancellationToken, ValueTask<bool>>? isWritten,
        CancellationToken cancellationToken) =>
        EncodeCompressedPartsAsync(partition, events, compress: null, isWritten, cancellationToken);

    /// <summary>
    /// <see cref="EncodePartsAsync"/>
    /// with each part's encoding passed through <paramref name="compress"/>, which must be the same on every attempt; the
    /// limit bounds its result, and when it returns another buffer than the one it received, the encoder disposes the one
    /// it received.
    /// </summary>
    internal async IAsyncEnumerable<EncodedPart> EncodeCompressedPartsAsync(
        string partition,
        IReadOnlyList<ExportableEvent> events,
        Func<PooledBufferWriter, PooledBufferWriter>? compress,
        Func<int, CancellationToken, ValueTask<bool>>? isWritten,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(events);
        int start = 0;
        int index = 0;
        double bytesPerEvent = 0; // of the last part encoded; none when it was skipped
        for (; _batch.GetRecorded(PartRecord(partition, index)) is { } range; index++)
        {
            int end = ParseRange(range, partition, index, start, events.Count);
            int first = start;
            start = end;
            if (isWritten is not null && await isWritten(index, cancellationToken).ConfigureAwait(false))
            {
                bytesPerEvent = 0;
                continue;
            }

            IReadOnlyList<ExportableEvent> slice = EventSlice.Of(events, first, end - first);
            PooledBufferWriter content = await Encoder.EncodeCompressedAsync(slice, compress, cancellationToken).ConfigureAwait(false);
            bytesPerEvent = slice.Count == 0 ? 0 : (double)content.WrittenCount / slice.Count;
            yield return new EncodedPart(index, slice, content);
        }

        for (; start < events.Count || (index == 0 && events.Count == 0); index++)
        {
            if (index > ExportFileEncoder.MaxSuffix)
            {
                throw new ExportEncodingException(string.Create(CultureInfo.InvariantCulture,
                    $"MaxBatchBytes {Encoder.MaxBatchBytes} cuts the {events.Count} events of batch {_batch.Id} into more than {ExportFileEncoder.MaxSuffix + 1} parts, more than one name has suffixes; raise MaxBatchBytes or lower MaxEventInMemory."));
            }

            (PooledBufferWriter content, int count) = await Encoder.EncodeNextPartAsync(events, start, bytesPerEvent, compress, cancellationToken).ConfigureAwait(false);
            EncodedPart part;
            try
            {
                await _batch.RecordAsync(PartRecord(partition, index), FormatRange(start, start + count), cancellationToken).ConfigureAwait(false);
                part = new EncodedPart(index, EventSlice.Of(events, start, count), content);
            }
            catch
            {
                content.Dispose();
                throw;
            }

            bytesPerEvent = count == 0 ? 0 : (double)content.WrittenCount / count;
            start += count;
            yield return part;
        }
    }

    /// <summary>Returns the pooled buffers of an encoder built for the recorded settings; the exporter's own stays.</summary>
    public void Dispose()
    {
        if (_ownsEncoder)
        {
            Encoder.Dispose();
        }
    }

    /// <summary>The record of part <paramref name="index"/>'s event range in <paramref name="partition"/>.</summary>
    internal static string PartRecord(string partition, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{PartRecordPrefix}{index}:{partition}");

    private static string FormatRange(int start, int end) => string.Create(CultureInfo.InvariantCulture, $"{start}-{end}");

    /// <summary>The end of a recorded range, checked to start at <paramref name="start"/> and to hold events that exist.</summary>
    private int ParseRange(string range, string partition, int index, int start, int count)
    {
        int dash = range.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0
            && int.TryParse(range.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int first)
            && int.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int end)
            && first == start && end <= count && (end > first || count == 0))
        {
            return end;
        }

        throw new ExportEncodingException(string.Create(CultureInfo.InvariantCulture,
            $"Batch {_batch.Id} recorded events '{range}' for part {index} of partition '{partition}', which do not follow its earlier parts within its {count} events."));
    }

    /// <summary>The record of <see cref="SettingsRecord"/>: a JSON object.</summary>
    internal static string Format(EncodingSettings settings, string fileName, string? exporterSettings)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("fileName", fileName);
            json.WriteString("format", settings.Format);
            json.WriteString("csvTemplate", settings.CsvTemplate);
            json.WriteString("parquetCompressionCodec", settings.ParquetCompressionCodec);
            json.WriteNumber("parquetRowGroupSize", settings.ParquetRowGroupSize);
            if (settings.MaxBatchBytes is int max)
            {
                json.WriteNumber("maxBatchBytes", max);
            }

            json.WriteString("eventType", settings.EventType.ToString());
            if (exporterSettings is not null)
            {
                json.WriteString("exporter", exporterSettings);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Reads what <see cref="Format(EncodingSettings, string, string?)"/> wrote.</summary>
    /// <exception cref="ExportEncodingException">The record is damaged.</exception>
    internal static (EncodingSettings Settings, string FileName, string? ExporterSettings) Parse(string record, string batchId)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(record);
            JsonElement root = document.RootElement;
            var settings = new EncodingSettings(
                root.GetProperty("format").GetString()!,
                root.GetProperty("csvTemplate").GetString()!,
                root.GetProperty("parquetCompressionCodec").GetString()!,
                root.GetProperty("parquetRowGroupSize").GetInt32(),
                root.TryGetProperty("maxBatchBytes", out JsonElement max) ? max.GetInt32() : null,
                Enum.Parse<EventType>(root.GetProperty("eventType").GetString()!));
            string? exporter = root.TryGetProperty("exporter", out JsonElement value) ? value.GetString() : null;
            return (settings, root.GetProperty("fileName").GetString()!, exporter);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ExportEncodingException($"Batch {batchId} recorded its encoding as '{record}', which cannot be read: {exception.Message}", exception);
        }
    }
}
