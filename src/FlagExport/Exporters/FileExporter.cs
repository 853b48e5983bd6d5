using System.Globalization;
using System.IO.Hashing;
using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport;

/// <summary>
/// Writes each batch to a new file in a local folder, as JSON lines, CSV or Parquet.
/// </summary>
/// <remarks>
/// A file appears whole or not at all: the batch is written to a hidden temporary file in the same folder, flushed to
/// disk, then linked under its final name. A name that is already taken, for example by another flush in the same
/// second, gets <c>-1</c>, <c>-2</c>… before its extension; no file is ever overwritten or appended to.
/// With <see cref="ExportFileOptions.MaxBatchBytes"/> a batch is written as several files, one per part, the first under
/// the name a one-file batch gets and each later one under the next free <c>-N</c> name.
/// Each name and the content's fingerprint (XxHash128) are recorded in the batch (<see cref="ExportBatch.RecordAsync"/>) before the file
/// appears, so a retry of a batch whose file is already there (its attempt's outcome lost, or the process killed after
/// the rename) counts it as written instead of writing a second file; a file of another writer under that name is not
/// taken for it. Every attempt writes the batch with the format, options, file name and part ranges its first attempt
/// recorded (<see cref="ExportFileEncoder.BeginAsync"/>), so options changed with a batch in flight apply from the next batch.
/// </remarks>
public sealed class FileExporter : IEncodingExporter, IDisposable
{
    private readonly ExportFileEncoder _encoder;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an exporter, checking every option.</summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="eventType">The kind of events this exporter receives; CSV templates are checked against its fields.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>. The default is <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public FileExporter(FileExporterOptions options, EventType eventType = EventType.Feature, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.OutputDir))
        {
            throw OptionErrors.Invalid($"OutputDir must name a folder; got '{options.OutputDir}'.", nameof(options.OutputDir));
        }

        _encoder = ExportFileEncoder.Create(options, eventType);
        if (_encoder.MaxFileNameBytes > MaxFileNameBytes)
        {
            _encoder.Dispose();
            throw OptionErrors.Invalid(
                $"Filename '{options.Filename}' can give names of up to {_encoder.MaxFileNameBytes} bytes on this host (hostname '{Environment.MachineName}', a -N suffix included), more than the {MaxFileNameBytes} a file name may have; shorten it.",
                nameof(options.Filename));
        }

        EventType = eventType;
        _timeProvider = timeProvider ?? TimeProvider.System;
        OutputDirectory = Path.GetFullPath(options.OutputDir);
    }

    /// <summary>The longest file name, in bytes, that Linux, macOS and Windows file systems all accept.</summary>
    private const int MaxFileNameBytes = 255;

    /// <inheritdoc/>
    public EventType EventType { get; }

    /// <summary>The absolute path of the folder the files are written to.</summary>
    internal string OutputDirectory { get; }

    /// <summary>
    /// The batch record holding the absolute path the file was given (the base name or one with a suffix), so that a
    /// part written before <see cref="FileExporterOptions.OutputDir"/> changed is still found there.
    /// </summary>
    internal const string FileNameRecord = "file.name";

    /// <summary>The batch record holding the XxHash128 of the content written under <see cref="FileNameRecord"/>.</summary>
    /// <remarks>
    /// A fingerprint, not a security check: it tells this batch's file from another writer's under the same name, which
    /// any 128-bit hash does; whoever can write into the folder could replace the file anyway.
    /// </remarks>
    internal const string FileHashRecord = "file.xxh128";

    /// <inheritdoc/>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);

        // The batch is encoded, named and cut as its first attempt recorded, whatever the options are now: a part already
        // visible is recognised by its recorded path and fingerprint (and not encoded again), and every other part is
        // written with exactly its recorded events.
        using BatchEncoding encoding = await _encoder.BeginAsync(batch, _timeProvider.GetUtcNow(), exporterSettings: null, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(OutputDirectory);
        int firstSuffix = 0;
        await foreach (EncodedPart part in encoding.EncodePartsAsync("", batch.Events, IsWrittenAsync, cancellationToken).ConfigureAwait(false))
        {
            using (part)
            {
                firstSuffix = await WritePartAsync(batch, encoding.FileName, part, firstSuffix, cancellationToken).ConfigureAwait(false) + 1;
            }
        }

        async ValueTask<bool> IsWrittenAsync(int index, CancellationToken token) => await IsOwnPartAsync(batch, index, token).ConfigureAwait(false);
    }

    /// <summary>Writes one part under the first free name from <paramref name="firstSuffix"/> on and returns the suffix taken.</summary>
    private async Task<int> WritePartAsync(ExportBatch batch, string fileName, EncodedPart part, int firstSuffix, CancellationToken cancellationToken)
    {
        PooledBufferWriter buffer = part.Content;
        string hash = Convert.ToHexStringLower(XxHash128.Hash(buffer.WrittenSpan));
        (string nameRecord, string hashRecord) = RecordNames(part.Index);
        (string path, int suffix) = await NoReplaceFile.WriteNewAsync(
            OutputDirectory, fileName, firstSuffix, buffer.WrittenMemory,
            async (name, _, token) =>
            {
                await batch.RecordAsync(hashRecord, hash, token).ConfigureAwait(false); // first: a recorded name always has its hash
                await batch.RecordAsync(nameRecord, Path.Combine(OutputDirectory, name), token).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        batch.ReportWritten(path, part.Events.Count, buffer.WrittenCount);
        return suffix;
    }

    /// <summary>The records of part <paramref name="index"/>'s name and fingerprint; part 0 keeps those of a one-file batch.</summary>
    private static (string Name, string Hash) RecordNames(int index) => index == 0
        ? (FileNameRecord, FileHashRecord)
        : (string.Create(CultureInfo.InvariantCulture, $"file.part{index}.name"), string.Create(CultureInfo.InvariantCulture, $"file.part{index}.xxh128"));

    /// <summary>Whether an earlier attempt of the batch made part <paramref name="index"/> visible.</summary>
    private async Task<bool> IsOwnPartAsync(ExportBatch batch, int index, CancellationToken cancellationToken)
    {
        (string nameRecord, string hashRecord) = RecordNames(index);
        return batch.GetRecorded(nameRecord) is { } written
            && await IsOwnFileAsync(Path.Combine(OutputDirectory, written), batch, hashRecord, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether <paramref name="path"/> is the file an earlier attempt of the batch wrote: it exists and has the content's
    /// recorded fingerprint. Another writer may have taken the name between the record and the rename; its file is not ours.
    /// </summary>
    private static async Task<bool> IsOwnFileAsync(string path, ExportBatch batch, string hashRecord, CancellationToken cancellationToken)
    {
        if (batch.GetRecorded(hashRecord) is not { } fingerprint || !File.Exists(path))
        {
            return false;
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = new XxHash128();
        await hash.AppendAsync(stream, cancellationToken).ConfigureAwait(false);
        return string.Equals(Convert.ToHexStringLower(hash.GetCurrentHash()), fingerprint, StringComparison.Ordinal);
    }

    /// <inheritdoc/>
    async ValueTask<(PooledBufferWriter Content, string FileName)> IEncodingExporter.EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        (await _encoder.EncodeAsync(events, cancellationToken).ConfigureAwait(false), "object." + _encoder.FileExtension);

    /// <summary>
    /// Returns the pooled buffers the Parquet encoder keeps between batches. An export still running ends normally, and
    /// a later export still works (with fresh buffers): disposing never loses a batch.
    /// </summary>
    public void Dispose() => _encoder.Dispose();
}
