using System.Globalization;
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
    private const int MaxSuffix = ExportFileEncoder.MaxSuffix;

    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;
    private readonly S3ExportSettings _settings;
    private readonly ExportFileEncoder _encoder;
    private readonly Func<PooledBufferWriter, PooledBufferWriter>? _compress; // null for no compression
    private readonly S3ObjectWriter _writer;
    private readonly TimeProvider _timeProvider;
    private readonly EventType _eventType;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _disposeRequested;
    private int _resourcesReleased;

    // Used only under _gate: the batch whose last export failed, and the parts of partitions it wrote.
    private (string BatchId, HashSet<(string Prefix, int Part)> Parts)? _partial;

    /// <summary>The batch record prefix holding, per partition, the suffix of the key chosen before its (first part's) upload.</summary>
    internal const string SuffixRecordPrefix = "s3.suffix:";

    /// <summary>The batch record of the suffix of part <paramref name="part"/> of the partition <paramref name="prefix"/>.</summary>
    /// <remarks>Part 0 keeps the record of a one-object partition, so that batches recorded before parts existed still retry alike.</remarks>
    internal static string SuffixRecord(string prefix, int part) => part == 0
        ? SuffixRecordPrefix + prefix
        : string.Create(CultureInfo.InvariantCulture, $"s3.part{part}.suffix:{prefix}");

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
        (_encoder, _settings) = Check(options, eventType);
        _eventType = eventType;
        _ownsClient = ownsClient;
        _s3 = s3Client ?? S3ClientFactory.Create(options);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _writer = new S3ObjectWriter(_s3, _settings, _logger);
        _compress = Compressor(_settings.Compression);
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

    /// <summary>The names given out; process-wide, replaced by tests that play two processes.</summary>
    internal KeyReservations Reservations { get; set; } = KeyReservations.Shared;

    /// <inheritdoc/>
    public EventType EventType => _eventType;

    /// <summary>The bucket the objects are written to.</summary>
    public string Bucket => _settings.Bucket;

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
    /// <exception cref="ObjectDisposedException">The exporter was disposed.</exception>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Events.Count == 0)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this); // not after an abandoned export
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this);

            // A retry of the batch that failed last time skips the parts it wrote; after a restart that memory is gone,
            // and the recorded keys plus the write id find them instead (at the cost of one request each). Every attempt
            // partitions, encodes, compresses and cuts the batch as its first one recorded, whatever the options are now.
            HashSet<(string, int)> written = _partial is { } partial && partial.BatchId == batch.Id ? partial.Parts : [];
            _partial = null;
            try
            {
                S3BatchLayout current = S3BatchLayout.Of(_settings);
                using BatchEncoding encoding = await _encoder.BeginAsync(batch, _timeProvider.GetUtcNow(), current.Format(), cancellationToken).ConfigureAwait(false);
                S3BatchLayout layout = S3BatchLayout.Parse(encoding.ExporterSettings, current, batch.Id);
                Func<PooledBufferWriter, PooledBufferWriter>? compress = layout.Compression == _settings.Compression ? _compress : Compressor(layout.Compression);
                var content = new ObjectContent(encoding.Encoder.ContentType, layout.Compression);
                foreach ((string prefix, IReadOnlyList<ExportableEvent> partition) in layout.Path.Partition(batch.Events))
                {
                    await foreach (EncodedPart part in encoding.EncodePartsAsync(
                        prefix, partition, compress, (index, _) => ValueTask.FromResult(written.Contains((prefix, index))), cancellationToken).ConfigureAwait(false))
                    {
                        using (part)
                        {
                            await WriteObjectAsync(prefix, encoding.FileName, content, part, batch, cancellationToken).ConfigureAwait(false);
                            _ = written.Add((prefix, part.Index));
                        }
                    }
                }
            }
            catch
            {
                _partial = (batch.Id, written);
                throw;
            }
        }
        finally
        {
            _ = _gate.Release();

            // Disposed while this export ran (abandoned at a shutdown deadline): the client was left for it, release it now.
            if (Volatile.Read(ref _disposeRequested) != 0)
            {
                ReleaseResourcesIfIdle();
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask<(PooledBufferWriter Content, string FileName)> EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        PooledBufferWriter encoded = await _encoder.EncodeAsync(events, cancellationToken).ConfigureAwait(false);
        string name = "object." + _encoder.FileExtension + _settings.Compression.FileExtension();
        if (_compress is not { } compress)
        {
            return (encoded, name);
        }

        using (encoded)
        {
            return (compress(encoded), name);
        }
    }

    /// <summary>What compresses an encoding as <paramref name="compression"/> says, or null for none.</summary>
    private static Func<PooledBufferWriter, PooledBufferWriter>? Compressor(PayloadCompression compression)
    {
        if (compression == PayloadCompression.None)
        {
            return null;
        }

        return encoded =>
        {
            var compressed = new PooledBufferWriter(encoded.WrittenCount / 4);
            try
            {
                compression.Compress(encoded.WrittenSpan, compressed);
            }
            catch
            {
                compressed.Dispose();
                throw;
            }

            return compressed;
        };
    }

    /// <summary>
    /// Disposes the S3 client if the exporter built it, and returns the encoder's pooled buffers. An export still running
    /// (one the pipeline abandoned at its shutdown deadline) keeps the client until it ends; later exports throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeRequested, 1) == 0)
        {
            ReleaseResourcesIfIdle();
        }
    }

    /// <summary>Releases the client and buffers, once, unless an export holds the gate (it calls again when it ends).</summary>
    /// <remarks>
    /// Dispose sets the flag then tries the gate; an export releases the gate then reads the flag. Both sides are full
    /// fences, so at least one of them sees the other: the resources are released once, never under a running export.
    /// The gate itself is not disposed (it has no wait handle to free), so that an export arriving late fails cleanly.
    /// </remarks>
    private void ReleaseResourcesIfIdle()
    {
        if (!_gate.Wait(0))
        {
            return;
        }

        try
        {
            if (Interlocked.Exchange(ref _resourcesReleased, 1) == 0)
            {
                _encoder.Dispose();
                if (_ownsClient)
                {
                    _s3.Dispose();
                }
            }
        }
        finally
        {
            _ = _gate.Release();
        }
    }

    private async Task WriteObjectAsync(string prefix, string fileName, ObjectContent content, EncodedPart part, ExportBatch batch, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> body = part.Content.WrittenMemory;
        int eventCount = part.Events.Count;

        // The key is chosen and recorded before the upload: an attempt after a crash uploads under the same key,
        // where If-None-Match and the write id (the batch's identity) recognise the object if it is already there.
        string extension = content.Compression.FileExtension();
        string suffixRecord = SuffixRecord(prefix, part.Index);
        string baseKey = ObjectKeys.Compose(prefix, fileName, extension, 0);
        int suffix;
        if (batch.GetRecorded(suffixRecord) is { } recorded)
        {
            suffix = int.Parse(recorded, CultureInfo.InvariantCulture);
        }
        else
        {
            // A later part takes a suffix after its previous part's (recorded before that part's upload), so that
            // the keys of a batch's parts sort by suffix in the parts' order.
            int after = part.Index > 0 && batch.GetRecorded(SuffixRecord(prefix, part.Index - 1)) is { } previous
                ? int.Parse(previous, CultureInfo.InvariantCulture)
                : -1;
            suffix = ReserveKey(baseKey, after);
            await batch.RecordAsync(suffixRecord, suffix.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            string key = ObjectKeys.Compose(prefix, fileName, extension, suffix);
            (UploadOutcome outcome, int parts) = await UploadAsync(key, body, eventCount, batch.Id, content, cancellationToken).ConfigureAwait(false);
            if (outcome == UploadOutcome.Written)
            {
                _logger.ObjectWritten(_settings.Bucket, key, eventCount, body.Length, parts);
                batch.ReportWritten($"s3://{_settings.Bucket}/{key}", eventCount, body.Length);
                return;
            }

            // The key exists: our own earlier attempt (its answer lost), or another writer's object.
            if (await ReadWriteIdAsync(key, eventCount, cancellationToken).ConfigureAwait(false) == batch.Id)
            {
                _logger.AlreadyWritten(_settings.Bucket, key);
                return;
            }

            _logger.KeyTaken(_settings.Bucket, key);
            suffix = ReserveKey(baseKey, after: suffix);
            await batch.RecordAsync(suffixRecord, suffix.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The next suffix for <paramref name="baseKey"/> after <paramref name="after"/>, within <see cref="MaxSuffix"/>.</summary>
    private int ReserveKey(string baseKey, int after)
    {
        int suffix = Reservations.Reserve(_settings.Bucket, baseKey, after);
        return suffix <= MaxSuffix
            ? suffix
            : throw new S3ExportException($"Could not find a free key for '{baseKey}' in bucket '{_settings.Bucket}' after {MaxSuffix} attempts.", _settings.Bucket, baseKey, permanent: true);
    }

    private async Task<(UploadOutcome Outcome, int Parts)> UploadAsync(
        string key, ReadOnlyMemory<byte> body, int eventCount, string writeId, ObjectContent content, CancellationToken cancellationToken)
    {
        try
        {
            return await _writer.UploadAsync(key, body, writeId, _settings.ConditionalWrites, content, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            var reason = S3FailureReason.Describe(exception, storageClass: _settings.StorageClass?.Value);
            _logger.UploadFailed(_settings.Bucket, key, eventCount, reason.Text);
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new S3ExportException(
                $"Could not write {eventCount} events to s3://{_settings.Bucket}/{key}: {reason.Text}.", _settings.Bucket, key, reason, exception);
        }
    }

    /// <summary>The write id of the object at a taken key; a failure to read it fails the export, never the key.</summary>
    private async Task<string?> ReadWriteIdAsync(string key, int eventCount, CancellationToken cancellationToken)
    {
        try
        {
            return await _writer.ReadWriteIdAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = S3FailureReason.Describe(exception);
            throw new S3ExportException(
                $"Could not write {eventCount} events to s3://{_settings.Bucket}/{key}: the key is taken and its write id could not be read: {reason.Text}.",
                _settings.Bucket, key, reason, exception);
        }
    }

    private string Endpoint() =>
        _s3.Config.ServiceURL ?? (_s3.Config.RegionEndpoint is { } region ? $"Amazon S3 {region.SystemName}" : "Amazon S3");
}
