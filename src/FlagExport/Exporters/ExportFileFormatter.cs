using FlagExport.Buffers;
using FlagExport.Formats;
using FlagExport.Templates;

namespace FlagExport;

/// <summary>
/// Turns <see cref="ExportFileOptions"/> into what a file-writing exporter needs: an encoder and a file name template,
/// each checked once, when the exporter is created.
/// </summary>
/// <remarks>Shared by the file and S3 exporters so that both accept and reject exactly the same options.</remarks>
internal sealed class ExportFileFormatter : IDisposable
{
    private readonly IBatchEncoder _encoder;
    private readonly FilenameTemplate _filename;
    private readonly string _hostname;
    private int _lastBatchBytes = 64 * 1024; // a hint only: concurrent exports may race on it harmlessly

    private ExportFileFormatter(IBatchEncoder encoder, FilenameTemplate filename, string hostname)
    {
        _encoder = encoder;
        _filename = filename;
        _hostname = hostname;
    }

    /// <summary>The format written.</summary>
    public ExportFormat Format => _encoder.Format;

    /// <summary>Checks <paramref name="options"/> and builds the encoder for events of <paramref name="eventType"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static ExportFileFormatter Create(ExportFileOptions options, EventType eventType)
    {
        ArgumentNullException.ThrowIfNull(options);
        ExportFormat format = ExportFormats.Parse(options.Format, nameof(options.Format));
        FilenameTemplate filename = FilenameTemplate.Parse(options.Filename, nameof(options.Filename));

        // Codec and CSV template are checked whatever the format, so that a typo fails now rather than after a format switch.
        var codec = ParquetCompressionCodecs.Parse(options.ParquetCompressionCodec, nameof(options.ParquetCompressionCodec));
        int rowGroupSize = ParquetEncoder.CheckRowGroupSize(options.ParquetRowGroupSize, nameof(options.ParquetRowGroupSize));
        string csvTemplate = eventType == EventType.Tracking && options.CsvTemplate == ExportFileOptions.DefaultCsvTemplate
            ? CsvEncoder.DefaultTrackingTemplate // the feature default names fields a tracking event does not have
            : options.CsvTemplate;
        var csv = CsvEncoder.Create(csvTemplate, eventType, nameof(options.CsvTemplate));

        IBatchEncoder encoder = format switch
        {
            ExportFormat.Csv => csv,
            ExportFormat.Parquet => new ParquetEncoder(codec, eventType, rowGroupSize),
            _ => JsonLinesEncoder.Instance,
        };

        return new ExportFileFormatter(encoder, filename, Environment.MachineName);
    }

    /// <summary>
    /// Encodes <paramref name="events"/> into a new pooled buffer, sized from the last batch so that a steady stream of
    /// similar batches rarely grows it. The caller disposes the buffer.
    /// </summary>
    public async ValueTask<PooledBufferWriter> EncodeAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        var output = new PooledBufferWriter(_lastBatchBytes);
        try
        {
            await _encoder.EncodeAsync(events, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
        {
            output.Dispose();
            throw new ExportEncodingException($"{events.Count} events could not be encoded as {Format}: {exception.Message}", exception);
        }
        catch
        {
            output.Dispose();
            throw;
        }

        _lastBatchBytes = output.WrittenCount;
        return output;
    }

    /// <summary>The name of a file flushed at <paramref name="flushTime"/>.</summary>
    public string RenderFilename(DateTimeOffset flushTime) => _filename.Render(_hostname, flushTime.ToUnixTimeSeconds(), Format);

    /// <summary>Returns the encoder's pooled scratch buffers (Parquet); an encode still running keeps its own and ends normally.</summary>
    public void Dispose() => (_encoder as IDisposable)?.Dispose();
}
