using System.Globalization;
using System.Security.Cryptography;

namespace FlagExport.BucketFolderExporter;

/// <summary>
/// Writes each batch as new files under a folder laid out like a bucket: the key of each file is the rendered
/// <see cref="BucketFolderExporterOptions.Path"/> plus the rendered file name, exactly as the S3 exporter names its
/// objects, and a batch whose events span several hours of a dated path gets one file per partition.
/// </summary>
/// <remarks>
/// <para>Built only on FlagExport's public exporter toolkit: <see cref="ExportFileEncoder"/> (format, extension, file
/// name), <see cref="PartitionTemplate"/> (partitions by event time), <see cref="NoReplaceFile"/> (the folder write)
/// and <see cref="ExportBatch"/>'s records (the same keys on a retry).</para>
/// <para>No file is replaced: a taken name gets <c>-1</c>, <c>-2</c>… (<see cref="ExportFileEncoder.WithSuffix"/>).
/// Each part's key and content hash are recorded before the file appears, and <see cref="ExportFileEncoder.BeginAsync"/>
/// records the batch's encoding, path template and part ranges, so a retry of the batch (its outcome lost, or the
/// process restarted with the durable buffer, even with other options) finds the files it already wrote and writes
/// exactly the rest.</para>
/// <para>With <see cref="ExportFileOptions.MaxBatchBytes"/>, each partition is written as consecutive files of at most
/// that size (<see cref="BatchEncoding.EncodePartsAsync"/>), the later ones under the next free suffixes.</para>
/// </remarks>
public sealed class BucketFolderExporter : IEncodingExporter, IDisposable
{
    private const string KeyRecordPrefix = "bucket-folder.key:";
    private const string HashRecordPrefix = "bucket-folder.sha256:";

    private readonly ExportFileEncoder _encoder;
    private readonly PartitionTemplate _path;
    private readonly string _pathText;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an exporter, checking every option.</summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="eventType">The kind of events this exporter receives.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>. The default is <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public BucketFolderExporter(BucketFolderExporterOptions options, EventType eventType = EventType.Feature, TimeProvider? timeProvider = null)
    {
        (_encoder, _path) = Check(options, eventType);
        _pathText = options.Path;
        EventType = eventType;
        RootDirectory = System.IO.Path.GetFullPath(options.RootDirectory);
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The absolute path of the folder that plays the bucket.</summary>
    public string RootDirectory { get; }

    /// <inheritdoc/>
    public EventType EventType { get; }

    /// <summary>Checks every option, as the constructor does.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    internal static (ExportFileEncoder Encoder, PartitionTemplate Path) Check(BucketFolderExporterOptions options, EventType eventType)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.RootDirectory))
        {
            throw InvalidOption($"RootDirectory must name a folder; got '{options.RootDirectory}'.", nameof(options.RootDirectory));
        }

        // A key maps to a file under the root: a segment that climbs out of it, or a Windows separator, is refused here
        // (object stores accept such keys, so the template itself does not).
        if (options.Path.Split('/').Any(segment => segment is "." or "..") || options.Path.Contains('\\', StringComparison.Ordinal))
        {
            throw InvalidOption($"Path '{options.Path}' cannot hold '.' or '..' segments or '\\': every file must stay under RootDirectory.", nameof(options.Path));
        }

        var path = PartitionTemplate.Parse(options.Path, nameof(options.Path));
        return (ExportFileEncoder.Create(options, eventType), path);
    }

    /// <summary>An invalid option: its name is the exception's parameter name, which the host prefixes with the section path.</summary>
    private static ArgumentException InvalidOption(string message, string optionName) => new(message, optionName);

    /// <inheritdoc/>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Events.Count == 0)
        {
            return;
        }

        // Every attempt writes the batch as its first one did: one flush time, the path template it partitioned by
        // (kept as the exporter's settings) and the format, options and part ranges the toolkit records.
        using BatchEncoding encoding = await _encoder.BeginAsync(batch, _timeProvider.GetUtcNow(), _pathText, cancellationToken).ConfigureAwait(false);
        PartitionTemplate path = encoding.ExporterSettings == _pathText ? _path : PartitionTemplate.Parse(encoding.ExporterSettings, nameof(BucketFolderExporterOptions.Path));
        foreach ((string prefix, IReadOnlyList<ExportableEvent> events) in path.Partition(batch.Events))
        {
            await WritePartitionAsync(batch, encoding, prefix, events, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<(PooledBufferWriter Content, string FileName)> EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        (await _encoder.EncodeAsync(events, cancellationToken).ConfigureAwait(false), "object." + _encoder.FileExtension);

    /// <summary>Returns the encoder's pooled buffers.</summary>
    public void Dispose() => _encoder.Dispose();

    private async Task WritePartitionAsync(ExportBatch batch, BatchEncoding encoding, string prefix, IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        // The recorded parts, each with exactly its recorded events (those already on disk skipped), then new ones.
        int firstSuffix = 0;
        await foreach (EncodedPart part in encoding.EncodePartsAsync(prefix, events, IsWrittenAsync, cancellationToken).ConfigureAwait(false))
        {
            using (part)
            {
                firstSuffix = await WritePartAsync(batch, prefix, encoding.FileName, part, firstSuffix, cancellationToken).ConfigureAwait(false) + 1;
            }
        }

        // An earlier attempt made the part's file visible: it is under the recorded key with the recorded hash.
        async ValueTask<bool> IsWrittenAsync(int index, CancellationToken token)
        {
            string record = Record(index, prefix);
            if (batch.GetRecorded(KeyRecordPrefix + record) is not { } key || batch.GetRecorded(HashRecordPrefix + record) is not { } hash)
            {
                return false;
            }

            string file = System.IO.Path.Combine(RootDirectory, key);
            if (!File.Exists(file))
            {
                return false;
            }

            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, token).ConfigureAwait(false)) == hash;
        }
    }

    private static string Record(int index, string prefix) => string.Create(CultureInfo.InvariantCulture, $"{index}:{prefix}");

    /// <returns>The suffix the part's file was given.</returns>
    private async Task<int> WritePartAsync(ExportBatch batch, string prefix, string fileName, EncodedPart part, int firstSuffix, CancellationToken cancellationToken)
    {
        string record = Record(part.Index, prefix);
        PooledBufferWriter content = part.Content;
        string folder = System.IO.Path.Combine(RootDirectory, prefix);
        Directory.CreateDirectory(folder);

        // On disk before it gets its name, under a name no other file has: a crash never leaves a torn file under a
        // final name, and a file already there (another writer's, or an earlier run's) is never replaced.
        await batch.RecordAsync(HashRecordPrefix + record, Convert.ToHexStringLower(SHA256.HashData(content.WrittenSpan)), cancellationToken).ConfigureAwait(false);
        (string path, int suffix) = await NoReplaceFile.WriteNewAsync(
            folder, fileName, firstSuffix, content.WrittenMemory,
            (name, _, token) => batch.RecordAsync(KeyRecordPrefix + record, prefix + name, token),
            cancellationToken).ConfigureAwait(false);
        batch.ReportWritten(path, part.Events.Count, content.WrittenCount);
        return suffix;
    }
}
