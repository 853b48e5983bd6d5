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
/// </remarks>
public sealed class FileExporter : IExporter, IDisposable
{
    private readonly ExportFileFormatter _formatter;
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
            throw new ArgumentException($"OutputDir must name a folder; got '{options.OutputDir}'.", nameof(options));
        }

        _formatter = ExportFileFormatter.Create(options, eventType);
        _timeProvider = timeProvider ?? TimeProvider.System;
        OutputDirectory = Path.GetFullPath(options.OutputDir);
    }

    /// <summary>The absolute path of the folder the files are written to.</summary>
    public string OutputDirectory { get; }

    /// <inheritdoc/>
    public async Task ExportAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        using PooledBufferWriter buffer = await _formatter.EncodeAsync(events, cancellationToken).ConfigureAwait(false);

        string fileName = _formatter.RenderFilename(_timeProvider.GetUtcNow());
        Directory.CreateDirectory(OutputDirectory);
        await AtomicFile.WriteNewAsync(OutputDirectory, fileName, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Returns the pooled buffers the Parquet encoder keeps between batches. An export still running ends normally, and
    /// a later export still works (with fresh buffers): disposing never loses a batch.
    /// </summary>
    public void Dispose() => _formatter.Dispose();
}
