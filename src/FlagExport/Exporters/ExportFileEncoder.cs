using FlagExport.Buffers;
using FlagExport.Formats;
using FlagExport.Templates;

namespace FlagExport;

/// <summary>
/// What an exporter that writes files or objects needs from <see cref="ExportFileOptions"/>: the batch encoded in the
/// chosen format (byte for byte as go-feature-flag writes it), the file name extension and content type, and the file
/// name rendered from the <c>Filename</c> template. Every option is checked once, by <see cref="Create"/>.
/// </summary>
/// <remarks>
/// The file and S3 exporters are built on it, so an exporter for another store accepts and writes exactly the same.
/// One encode at a time is expected (the pipeline exports one batch at a time); <see cref="RenderFilename"/> is
/// thread-safe.
/// </remarks>
public sealed class ExportFileEncoder : IDisposable
{
    /// <summary>The highest suffix <see cref="WithSuffix"/> is asked for by the exporters here before they give up on a name.</summary>
    public const int MaxSuffix = AtomicFile.MaxSuffix;

    private readonly IBatchEncoder _encoder;
    private readonly FilenameTemplate _filename;
    private readonly string _hostname;
    private int _lastBatchBytes = 64 * 1024; // a hint only: concurrent exports may race on it harmlessly

    private ExportFileEncoder(IBatchEncoder encoder, FilenameTemplate filename, string hostname)
    {
        _encoder = encoder;
        _filename = filename;
        _hostname = hostname;
    }

    /// <summary>The format written.</summary>
    public ExportFormat Format => _encoder.Format;

    /// <summary>The file name extension of the format, without the dot: <c>json</c>, <c>csv</c> or <c>parquet</c>.</summary>
    public string FileExtension => Format.ToFileExtension();

    /// <summary>The media type of the format: <c>application/x-ndjson</c>, <c>text/csv</c> or <c>application/vnd.apache.parquet</c>.</summary>
    public string ContentType => Format switch
    {
        ExportFormat.Csv => "text/csv",
        ExportFormat.Parquet => "application/vnd.apache.parquet",
        _ => "application/x-ndjson",
    };

    /// <summary>Checks <paramref name="options"/> and builds the encoder for events of <paramref name="eventType"/>.</summary>
    /// <param name="options">The format, file name and encoding options.</param>
    /// <param name="eventType">The kind of events encoded; CSV templates are checked against its fields.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static ExportFileEncoder Create(ExportFileOptions options, EventType eventType)
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

        return new ExportFileEncoder(encoder, filename, Environment.MachineName);
    }

    /// <summary>
    /// Encodes <paramref name="events"/> as one file into a new pooled buffer, sized from the last batch so that a
    /// steady stream of similar batches rarely grows it. The caller disposes the buffer.
    /// </summary>
    /// <param name="events">The events, all of the type the encoder was created for.</param>
    /// <param name="cancellationToken">Cancels the encoding.</param>
    /// <exception cref="ExportEncodingException">An event could not be encoded; the message says why.</exception>
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

    /// <summary>The name of a file flushed at <paramref name="flushTime"/>, from the <c>Filename</c> template.</summary>
    /// <param name="flushTime">The time the batch is flushed: <c>{{ .Timestamp}}</c>.</param>
    public string RenderFilename(DateTimeOffset flushTime) => _filename.Render(_hostname, flushTime.ToUnixTimeSeconds(), Format);

    /// <summary>
    /// The <paramref name="suffix"/>-th candidate for a name that is taken: <c>name-N.ext</c>, the name itself for 0;
    /// the rule of the file and S3 exporters, so that every store names a second file of the same second alike.
    /// </summary>
    /// <param name="fileName">A name from <see cref="RenderFilename"/>.</param>
    /// <param name="suffix">0 to <see cref="MaxSuffix"/>.</param>
    public static string WithSuffix(string fileName, int suffix)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentOutOfRangeException.ThrowIfNegative(suffix);
        return AtomicFile.WithSuffix(fileName, suffix);
    }

    /// <summary>Returns the encoder's pooled scratch buffers (Parquet); an encode still running keeps its own and ends normally.</summary>
    public void Dispose() => (_encoder as IDisposable)?.Dispose();
}
