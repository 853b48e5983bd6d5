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
/// Every member is thread-safe; the size hint for the next buffer is shared, so concurrent encodes of very different
/// batches only size their buffers less well.
/// </remarks>
public sealed class ExportFileEncoder : IDisposable
{
    /// <summary>The highest suffix <see cref="WithSuffix"/> accepts: the file and S3 exporters give up on a name after it.</summary>
    public const int MaxSuffix = NoReplaceFile.MaxSuffix;

    /// <summary>What a part is aimed at, as a share of <see cref="MaxBatchBytes"/>: the middle of the accepted 90–100%.</summary>
    private const double PartTarget = 0.95;

    /// <summary>How many events the first encode of a batch's first part holds, to learn the bytes per event.</summary>
    private const int ProbeEvents = 256;

    /// <summary>How many encodes one part may take once an encoding within the limit is known.</summary>
    private const int MaxPartAttempts = 8;

    private readonly IBatchEncoder _encoder;
    private readonly FilenameTemplate _filename;
    private readonly string _hostname;
    private int _lastBatchBytes = 64 * 1024; // a hint only: concurrent exports may race on it harmlessly

    private ExportFileEncoder(IBatchEncoder encoder, FilenameTemplate filename, string hostname, int? maxBatchBytes, EncodingSettings settings)
    {
        _encoder = encoder;
        _filename = filename;
        _hostname = hostname;
        MaxBatchBytes = maxBatchBytes;
        Settings = settings;
    }

    /// <summary>What decides the bytes and the cut of a batch, as a batch records it (<see cref="BeginAsync"/>).</summary>
    internal EncodingSettings Settings { get; }

    /// <summary>The most bytes in one part (<see cref="ExportFileOptions.MaxBatchBytes"/>), or null for one part per batch.</summary>
    public int? MaxBatchBytes { get; }

    /// <summary>The format written.</summary>
    internal ExportFormat Format => _encoder.Format;

    /// <summary>The file name extension of the format, without the dot: <c>json</c>, <c>csv</c> or <c>parquet</c>.</summary>
    public string FileExtension => Format.ToFileExtension();

    /// <summary>The media type of the format: <c>application/x-ndjson</c>, <c>text/csv</c> or <c>application/vnd.apache.parquet</c>.</summary>
    internal string ContentType => Format switch
    {
        ExportFormat.Csv => "text/csv",
        ExportFormat.Parquet => "application/vnd.apache.parquet",
        _ => "application/x-ndjson",
    };

    /// <summary>Checks <paramref name="options"/> and builds the encoder for events of <paramref name="eventType"/>.</summary>
    /// <param name="options">The format, file name and encoding options.</param>
    /// <param name="eventType">The kind of events encoded; CSV templates are checked against its fields.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static ExportFileEncoder Create(ExportFileOptions options, EventType eventType) => Build(options, eventType, problems: null)!;

    /// <summary>Every problem of <paramref name="options"/>, not only the first: what <see cref="Create"/> would throw, each in turn.</summary>
    internal static List<ArgumentException> Problems(ExportFileOptions options, EventType eventType)
    {
        var problems = new List<ArgumentException>();
        _ = Build(options, eventType, problems);
        return problems;
    }

    /// <summary>Builds the encoder; with <paramref name="problems"/>, collects each invalid option there instead of throwing and returns null if any.</summary>
    private static ExportFileEncoder? Build(ExportFileOptions options, EventType eventType, List<ArgumentException>? problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        ExportFormat format = Checked(() => ExportFormats.Parse(options.Format, nameof(options.Format)), problems);
        FilenameTemplate filename = Checked(() => FilenameTemplate.Parse(options.Filename, nameof(options.Filename)), problems);

        // Codec and CSV template are checked whatever the format, so that a typo fails now rather than after a format switch.
        var codec = Checked(() => ParquetCompressionCodecs.Parse(options.ParquetCompressionCodec, nameof(options.ParquetCompressionCodec)), problems);
        int rowGroupSize = Checked(() => ParquetEncoder.CheckRowGroupSize(options.ParquetRowGroupSize, nameof(options.ParquetRowGroupSize)), problems);
        string csvTemplate = eventType == EventType.Tracking && options.CsvTemplate == ExportFileOptions.DefaultCsvTemplate
            ? CsvEncoder.DefaultTrackingTemplate // the feature default names fields a tracking event does not have
            : options.CsvTemplate;
        var csv = Checked(() => CsvEncoder.Create(csvTemplate, eventType, nameof(options.CsvTemplate)), problems);
        if (options.MaxBatchBytes is < ExportFileOptions.MinMaxBatchBytes and int tooSmall)
        {
            ArgumentException tooSmallError = OptionErrors.Invalid(
                $"MaxBatchBytes must be at least {ExportFileOptions.MinMaxBatchBytes} (1 KiB, the most bytes in one file or object), or unset for no limit; got '{tooSmall}'.",
                nameof(options.MaxBatchBytes));
            if (problems is null)
            {
                throw tooSmallError;
            }

            problems.Add(tooSmallError);
        }

        if (problems is { Count: > 0 })
        {
            return null;
        }

        IBatchEncoder encoder = format switch
        {
            ExportFormat.Csv => csv,
            ExportFormat.Parquet => new ParquetEncoder(codec, eventType, rowGroupSize),
            _ => JsonLinesEncoder.Instance,
        };

        var settings = new EncodingSettings(
            options.Format, options.CsvTemplate, options.ParquetCompressionCodec, rowGroupSize, options.MaxBatchBytes, eventType);
        return new ExportFileEncoder(encoder, filename, Environment.MachineName, options.MaxBatchBytes, settings);
    }

    /// <summary>The parsed option; when collecting <paramref name="problems"/>, an invalid one is added there and the default returned.</summary>
    private static T Checked<T>(Func<T> parse, List<ArgumentException>? problems)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException problem) when (problems is not null)
        {
            problems.Add(problem);
            return default!;
        }
    }

    /// <summary>
    /// Starts an attempt to write <paramref name="batch"/>: on its first attempt records this encoder's settings, the
    /// file name rendered for <paramref name="flushTime"/> and <paramref name="exporterSettings"/>; on a later attempt
    /// (in this process, after a restart with the durable buffer, or a dead letter's replay) returns what the first one
    /// recorded, whatever the options are now, once any part of the batch has been recorded (before that, nothing can
    /// have been written and the attempt starts afresh). The caller writes the batch through the returned encoding and
    /// disposes it.
    /// </summary>
    /// <remarks>
    /// A part whose write had an unknown outcome (its answer lost, the process killed) can only be recognised by writing
    /// the same events under the same name again, so every attempt of a batch encodes and cuts it as the first one did;
    /// new options apply from the next batch on. See <see cref="BatchEncoding"/>.
    /// </remarks>
    /// <param name="batch">The batch about to be written.</param>
    /// <param name="flushTime">The time for <c>{{ .Timestamp}}</c> if this is the batch's first attempt.</param>
    /// <param name="exporterSettings">
    /// What else the exporter needs to write the batch alike on every attempt (for example its compression and path
    /// template), in a form it can read back from <see cref="BatchEncoding.ExporterSettings"/>; null for none.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait for the record to reach the disk.</param>
    /// <exception cref="ExportEncodingException">The batch's record cannot be read back: it goes to the dead letters.</exception>
    public async ValueTask<BatchEncoding> BeginAsync(ExportBatch batch, DateTimeOffset flushTime, string? exporterSettings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);

        // Until a part's range is recorded nothing can have been written, so the current options may still decide.
        if (batch.GetRecorded(BatchEncoding.SettingsRecord) is { } recorded && batch.HasRecordStartingWith(BatchEncoding.PartRecordPrefix))
        {
            (EncodingSettings settings, string firstName, string? firstExporterSettings) = BatchEncoding.Parse(recorded, batch.Id);
            if (settings == Settings)
            {
                return new BatchEncoding(batch, this, ownsEncoder: false, firstName, firstExporterSettings);
            }

            ExportFileEncoder encoder;
            try
            {
                encoder = Create(settings.ToOptions(), settings.EventType);
            }
            catch (ArgumentException exception)
            {
                throw new ExportEncodingException($"Batch {batch.Id} recorded encoding options that are not accepted: {exception.Message}", exception);
            }

            return new BatchEncoding(batch, encoder, ownsEncoder: true, firstName, firstExporterSettings);
        }

        string fileName = RenderFilename(flushTime);
        await batch.RecordAsync(BatchEncoding.SettingsRecord, BatchEncoding.Format(Settings, fileName, exporterSettings), cancellationToken).ConfigureAwait(false);
        return new BatchEncoding(batch, this, ownsEncoder: false, fileName, exporterSettings);
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
        ArgumentNullException.ThrowIfNull(events);
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

    /// <summary>
    /// The next part from <paramref name="start"/>: all the rest without <see cref="MaxBatchBytes"/>; with it the most
    /// events whose encoding is at most that many bytes, found within 90–100% of it or as close below as
    /// <see cref="MaxPartAttempts"/> encodes get.
    /// </summary>
    /// <remarks>
    /// Invariant: every count up to <c>fits</c> was seen within the limit, every count from <c>tooBig</c> above it, and
    /// each guess lies strictly between, so the search ends even when sizes are not proportional to counts.
    /// </remarks>
    internal async ValueTask<(PooledBufferWriter Content, int Count)> EncodeNextPartAsync(
        IReadOnlyList<ExportableEvent> events, int start, double bytesPerEvent,
        Func<PooledBufferWriter, PooledBufferWriter>? compress, CancellationToken cancellationToken)
    {
        int remaining = events.Count - start;
        if (MaxBatchBytes is not int max || remaining == 0)
        {
            return (await EncodeCompressedAsync(EventSlice.Of(events, start, remaining), compress, cancellationToken).ConfigureAwait(false), remaining);
        }

        int guess = bytesPerEvent > 0
            ? (int)Math.Clamp(PartTarget * max / bytesPerEvent, 1, remaining)
            : Math.Min(remaining, ProbeEvents);
        PooledBufferWriter? best = null;
        int fits = 0;
        int tooBig = remaining + 1;
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                PooledBufferWriter encoded = await EncodeCompressedAsync(EventSlice.Of(events, start, guess), compress, cancellationToken).ConfigureAwait(false);
                long size = encoded.WrittenCount;
                if (size <= max)
                {
                    best?.Dispose();
                    (best, fits) = (encoded, guess);
                    if (guess == remaining || size * 10 >= max * 9L)
                    {
                        break;
                    }
                }
                else if (guess == 1)
                {
                    (best, fits) = (encoded, 1); // one event above the limit (so nothing fitted yet): a part of its own
                    break;
                }
                else
                {
                    encoded.Dispose();
                    tooBig = guess;
                }

                if (fits + 1 >= tooBig || (best is not null && attempt >= MaxPartAttempts))
                {
                    break;
                }

                long proportional = size == 0 ? remaining : (long)(guess * PartTarget * max / size);
                guess = (int)Math.Clamp(proportional, fits + 1, tooBig - 1);
            }

            PooledBufferWriter result = best!;
            best = null;
            return (result, fits);
        }
        finally
        {
            best?.Dispose();
        }
    }

    /// <summary><see cref="EncodeAsync"/>, then <paramref name="compress"/> when given.</summary>
    internal async ValueTask<PooledBufferWriter> EncodeCompressedAsync(
        IReadOnlyList<ExportableEvent> events, Func<PooledBufferWriter, PooledBufferWriter>? compress, CancellationToken cancellationToken)
    {
        PooledBufferWriter encoded = await EncodeAsync(events, cancellationToken).ConfigureAwait(false);
        if (compress is null)
        {
            return encoded;
        }

        PooledBufferWriter compressed;
        try
        {
            compressed = compress(encoded);
        }
        catch
        {
            encoded.Dispose();
            throw;
        }

        if (!ReferenceEquals(compressed, encoded))
        {
            encoded.Dispose();
        }

        return compressed;
    }

    /// <summary>The name of a file flushed at <paramref name="flushTime"/>, from the <c>Filename</c> template.</summary>
    /// <param name="flushTime">The time the batch is flushed: <c>{{ .Timestamp}}</c>.</param>
    internal string RenderFilename(DateTimeOffset flushTime) => _filename.Render(_hostname, flushTime.ToUnixTimeSeconds(), Format);

    /// <summary>
    /// The most UTF-8 bytes a name from <see cref="RenderFilename"/> can have on this host, with the longest suffix
    /// <see cref="WithSuffix"/> may add: what the file exporter and <see cref="ObjectLayout.LongestName"/> compare with a store's limit on names.
    /// </summary>
    internal int MaxFileNameBytes => _filename.LongestRenderedBytes(_hostname) + WithSuffix("", MaxSuffix).Length;

    /// <summary>
    /// The <paramref name="suffix"/>-th candidate for a name that is taken: <c>name-N.ext</c>, the name itself for 0;
    /// the rule of the file and S3 exporters, so that every store names a second file of the same second alike.
    /// </summary>
    /// <param name="fileName">A file name, such as <see cref="BatchEncoding.FileName"/>.</param>
    /// <param name="suffix">0 to <see cref="MaxSuffix"/>.</param>
    public static string WithSuffix(string fileName, int suffix)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentOutOfRangeException.ThrowIfNegative(suffix);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(suffix, MaxSuffix);
        return NoReplaceFile.WithSuffix(fileName, suffix);
    }

    /// <summary>Returns the encoder's pooled scratch buffers (Parquet); an encode still running keeps its own and ends normally.</summary>
    public void Dispose() => (_encoder as IDisposable)?.Dispose();
}
