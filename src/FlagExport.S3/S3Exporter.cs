using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.S3;

/// <summary>
/// Writes each batch as a new object in an S3 bucket (Amazon S3 or any S3-compatible store), as JSON lines, CSV or
/// Parquet, optionally gzip- or zstd-compressed: the .NET counterpart of go-feature-flag's S3 exporter.
/// </summary>
/// <remarks>
/// <para>The key of each object is <see cref="S3ExporterOptions.S3Path"/> and the rendered
/// <see cref="ExportFileOptions.Filename"/> joined by one <c>/</c>. When <c>S3Path</c> holds date fields, the batch is
/// split by each event's creation hour (UTC) and every partition gets its own object.</para>
/// <para>A batch is encoded into a pooled in-memory buffer and uploaded from there (no temporary file): one PutObject
/// up to <see cref="S3ExporterOptions.MultipartThreshold"/>, a multipart upload above it, with parts sent concurrently
/// and the upload aborted on failure.</para>
/// <para>No object is ever replaced. Names given out in this process are remembered, so two flushes in the same
/// second get <c>name.json</c> and <c>name-1.json</c> (as with the file exporter) without asking S3. Each upload also
/// carries <c>If-None-Match: *</c> (see <see cref="S3ExporterOptions.ConditionalWrites"/>), and a multipart upload first
/// checks that its key is free: when another process took the name, the next free one is used.</para>
/// <para>A failed upload throws an <see cref="S3ExportException"/> (after logging bucket, key and reason), so the
/// pipeline keeps the batch and retries it. Each object's key is recorded in the batch
/// (<see cref="ExportBatch.RecordAsync"/>) before its upload, and the object carries the batch's
/// <see cref="ExportBatch.Id"/> as user metadata <c>flagexport-write-id</c>: a retry of the same batch, in this process or
/// after a restart with the durable buffer, uploads under the same keys, and an object already there with that id
/// (its answer lost, or the process killed) counts as written instead of being written twice.</para>
/// <para>With <see cref="ExportFileOptions.MaxBatchBytes"/> a partition is written as several objects, one per part of at
/// most that many bytes after compression: the first under the key of a one-object partition, each later one under
/// the next free <c>-N</c> suffix, each recorded before its upload like any key.</para>
/// <para>The batch's first attempt records its format and encoding options, file name, <c>Compression</c> and
/// <c>S3Path</c>, and each part's events (<see cref="ExportFileEncoder.BeginAsync"/>): every retry partitions, encodes
/// and cuts the batch exactly so, whatever the options are by then, so a part already uploaded is found under its key
/// and no event is written twice or left out. Changed options apply from the next batch.</para>
/// <para>Calls to <see cref="ExportAsync"/> are serialised; the pipeline makes one at a time anyway.</para>
/// </remarks>
public sealed class S3Exporter : IEncodingExporter, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly S3ExportSettings _settings;
    private readonly ObjectStoreWriter _writer; // keys, records, retries and encoding: everything but the S3 API
    private readonly EventType _eventType;
    private readonly ILogger _logger;
    private int _disposeRequested;

    /// <summary>Creates an exporter, checking every option. Makes no request: see <see cref="VerifyBucketAsync"/>.</summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="s3Client">
    /// The S3 client to use, not disposed by the exporter. When null, the exporter builds one from
    /// <paramref name="options"/> and the standard AWS sources (environment, profile, instance role) and disposes it.
    /// </param>
    /// <param name="eventType">The kind of events this exporter receives; CSV templates are checked against its fields.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>. The default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives upload failures (bucket, key, reason). The default is no logging.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public S3Exporter(
        S3ExporterOptions options,
        IAmazonS3? s3Client = null,
        EventType eventType = EventType.Feature,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
        : this(options, s3Client, ownsClient: s3Client is null, eventType, timeProvider, logger)
    {
    }

    /// <summary>Creates an exporter that disposes <paramref name="s3Client"/> when <paramref name="ownsClient"/> (tests).</summary>
    internal S3Exporter(
        S3ExporterOptions options, IAmazonS3? s3Client, bool ownsClient, EventType eventType, TimeProvider? timeProvider, ILogger? logger)
    {
        (ExportFileEncoder encoder, _settings) = Check(options, eventType);
        try
        {
            _s3 = s3Client ?? S3ClientFactory.Create(options);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }

        _eventType = eventType;
        _logger = logger ?? NullLogger.Instance;
        _writer = new ObjectStoreWriter(new S3ObjectStore(_s3, ownsClient, _settings, _logger), encoder, _settings.Layout, timeProvider);
    }

    /// <summary>Checks every option, as the constructor does, without building a client.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    internal static (ExportFileEncoder Encoder, S3ExportSettings Settings) Check(S3ExporterOptions options, EventType eventType)
    {
        ArgumentNullException.ThrowIfNull(options);
        var encoder = ExportFileEncoder.Create(options, eventType);
        var settings = S3ExportSettings.Create(options, encoder);
        S3ClientFactory.ValidateEndpoint(options);
        _ = S3ClientFactory.ParseChecksumCalculation(options.RequestChecksumCalculation);
        return (encoder, settings);
    }

    /// <summary>The shared writer; tests that play two processes give it names of its own.</summary>
    internal ObjectStoreWriter Writer => _writer;

    /// <inheritdoc/>
    public EventType EventType => _eventType;

    /// <summary>The bucket the objects are written to.</summary>
    internal string Bucket => _settings.Bucket;

    /// <summary>
    /// Creates an exporter and, when <see cref="S3ExporterOptions.VerifyBucketOnStart"/> is set, checks the bucket
    /// with <see cref="VerifyBucketAsync"/> before returning it.
    /// </summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="s3Client">The S3 client to use, not disposed by the exporter; when null, the exporter builds and owns one.</param>
    /// <param name="eventType">The kind of events this exporter receives.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>. The default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives upload failures and the result of the check. The default is no logging.</param>
    /// <param name="cancellationToken">Cancels the bucket check.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    /// <exception cref="S3ExportException">The bucket check failed: missing bucket, wrong credentials, unreachable endpoint.</exception>
    public static async Task<S3Exporter> CreateAsync(
        S3ExporterOptions options,
        IAmazonS3? s3Client = null,
        EventType eventType = EventType.Feature,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        var exporter = new S3Exporter(options, s3Client, eventType, timeProvider, logger);
        if (options.VerifyBucketOnStart)
        {
            try
            {
                await exporter.VerifyBucketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                exporter.Dispose();
                throw;
            }
        }

        return exporter;
    }

    /// <summary>
    /// Checks with a HeadBucket request that the bucket exists and that the credentials may access it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="S3ExportException">
    /// The bucket does not exist, the credentials are wrong or lack permission, or the endpoint cannot be reached;
    /// the message says which.
    /// </exception>
    public async Task VerifyBucketAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this);
        try
        {
            _ = await _s3.HeadBucketAsync(new HeadBucketRequest { BucketName = _settings.Bucket }, cancellationToken).ConfigureAwait(false);
            _logger.BucketVerified(_settings.Bucket);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = S3FailureReason.Describe(exception, isBucketCheck: true);
            _logger.BucketCheckFailed(_settings.Bucket, reason.Text);
            throw new S3ExportException(
                $"S3 bucket '{_settings.Bucket}' at {Endpoint()} cannot be used: {reason.Text}.", _settings.Bucket, key: null, reason, exception);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="S3ExportException">An upload failed; the message names the bucket, the key and the reason.</exception>
    /// <exception cref="IOException">Every suffix of a key is taken (permanent: the batch becomes a dead letter).</exception>
    /// <exception cref="ObjectDisposedException">The exporter was disposed.</exception>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this); // a faulted task, as every failure of an export
        await _writer.ExportAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    ValueTask<(PooledBufferWriter Content, string FileName)> IEncodingExporter.EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        _writer.EncodeObjectAsync(events, cancellationToken);

    /// <summary>
    /// Disposes the S3 client if the exporter built it, and returns the encoder's pooled buffers. An export still running
    /// (one the pipeline abandoned at its shutdown deadline) keeps the client until it ends; later exports throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeRequested, 1) == 0)
        {
            _writer.Dispose();
        }
    }

    private string Endpoint() =>
        _s3.Config.ServiceURL ?? (_s3.Config.RegionEndpoint is { } region ? $"Amazon S3 {region.SystemName}" : "Amazon S3");
}
